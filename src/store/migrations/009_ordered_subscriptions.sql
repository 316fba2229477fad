-- Issue 12: ordered (FIFO) subscriptions. An ordered subscription's deliveries go out
-- one at a time in the order their events were accepted; a delivery waiting for a retry
-- holds back the ones after it (of its subscription only).
alter table subscriptions add column ordered boolean not null default false;

-- Copied from the subscription when a delivery is fanned out or resent (and updated when
-- the subscription switches), so that the claim's scan of due deliveries never walks an
-- ordered backlog: those are reached through their head, one per subscription.
alter table deliveries add column ordered boolean not null default false;

drop index deliveries_due;
create index deliveries_due on deliveries (next_attempt_at, id) where state = 'pending' and not ordered;
-- Each ordered subscription's pending deliveries in order: the head is the first.
create index deliveries_ordered_pending on deliveries (subscription_id, id) where state = 'pending' and ordered;
