import { useState } from 'preact/hooks';
import { api, unwrap } from '../api.js';
import type { Session } from '../main.js';
import { go, href } from '../router.js';
import { ago, ConfirmButton, ErrorMessage, Loaded, Notice, Pager, StatusBadge, Time, useAction, useLoad } from '../ui.js';
import { Rates, subscriptionsWithStats } from './subscriptions.js';

const STATES = ['all', 'undelivered', 'pending', 'delivered', 'failed', 'cancelled'] as const;
type State = (typeof STATES)[number];

/** A datetime-local value (the reader's time zone) as ISO, or undefined. */
const isoOf = (local: string | null): string | undefined => (local ? new Date(local).toISOString() : undefined);

/** One subscription: its health, its messages (filtered, paged on the server), and what can be done to it. */
export function SubscriptionView({
  session,
  subscriptionUuid,
  query,
}: {
  session: Session;
  subscriptionUuid: string;
  query: URLSearchParams;
}) {
  const path = { organizationUuid: 'self', subscriptionUuid };
  const filter = {
    state: (STATES as readonly string[]).includes(query.get('state') ?? '') ? (query.get('state') as State) : 'all',
    eventName: query.get('eventName') ?? '',
    since: query.get('since') ?? '',
    until: query.get('until') ?? '',
    before: query.get('before') ?? '',
  };

  const sub = useLoad(async () => (await subscriptionsWithStats(subscriptionUuid))[0] ?? null, [subscriptionUuid]);

  const messages = useLoad(
    async () =>
      unwrap(
        await api.GET('/organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/messages', {
          params: {
            path,
            query: {
              state: filter.state,
              limit: 25,
              eventName: filter.eventName || undefined,
              since: isoOf(filter.since),
              until: isoOf(filter.until),
              before: filter.before ? Number(filter.before) : undefined,
            },
          },
        }),
      ),
    [subscriptionUuid, filter.state, filter.eventName, filter.since, filter.until, filter.before],
  );

  const action = useAction();
  const refresh = () => (sub.reload(), messages.reload());

  function applyFilter(e: Event) {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const value = (k: string) => String(form.get(k) ?? '') || undefined;
    go(
      href('subscriptions', subscriptionUuid, {
        state: value('state'),
        eventName: value('eventName'),
        since: value('since'),
        until: value('until'),
      }),
    );
  }

  const resendAll = () =>
    action.run(async () => {
      const r = unwrap(await api.POST('/organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/resend', { params: { path } }));
      refresh();
      return r.resent === 0
        ? 'Nothing to resend: every message was delivered.'
        : `${r.resent} message${r.resent === 1 ? '' : 's'} queued to be sent again.`;
    });
  const resendOne = (messageId: string) =>
    action.run(async () => {
      unwrap(
        await api.POST('/organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/messages/{messageId}/resend', {
          params: { path: { ...path, messageId } },
        }),
      );
      refresh();
      return `Message ${messageId} queued to be sent again.`;
    });
  const remove = () =>
    action.run(async () => {
      unwrap(await api.DELETE('/organizations/{organizationUuid}/subscriptions/{subscriptionUuid}', { params: { path } }));
      go(href('subscriptions'));
    });

  if (sub.error !== undefined || sub.data === null) {
    return (
      <>
        <h1>Subscription not found</h1>
        {sub.error !== undefined ? <ErrorMessage error={sub.error} /> : null}
        <p>
          No subscription {subscriptionUuid} in your organization that your key may see.{' '}
          <a href={href('subscriptions')}>All subscriptions</a>
        </p>
      </>
    );
  }
  if (sub.data === undefined) {
    return (
      <>
        <div class="heading">
          <h1>Subscription</h1>
        </div>
        <p class="muted" aria-busy="true">
          Loading…
        </p>
      </>
    );
  }
  const s = sub.data;
  return (
    <>
      <div class="heading">
        <h1>
          Subscription <span class="url">{s.destination}</span>
        </h1>
        <StatusBadge status={s.status} />
      </div>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          {s.status}
          {s.stats?.failingSince ? (
            <>
              {' '}
              since <Time iso={s.stats.failingSince} /> ({ago(s.stats.failingSince)})
            </>
          ) : null}
        </dd>
        <dt>Events</dt>
        <dd>{s.eventNames.length === 0 ? <em>every event</em> : s.eventNames.join(', ')}</dd>
        <dt>Contact</dt>
        <dd>{s.contactEmail}</dd>
        <dt>Last hour</dt>
        <dd>{s.stats ? <Rates w={s.stats.lastHour} label="Last hour" /> : '—'}</dd>
        <dt>Last day</dt>
        <dd>{s.stats ? <Rates w={s.stats.lastDay} label="Last day" /> : '—'}</dd>
        <dt>Updated</dt>
        <dd>
          <Time iso={s.updated} />
        </dd>
        <dt>uuid</dt>
        <dd>
          <code>{s.uuid}</code>
        </dd>
      </dl>

      <div class="actions">
        <button type="button" class="primary" onClick={resendAll} disabled={action.busy}>
          Resend undelivered
        </button>
        <TestEvent session={session} subscriptionUuid={s.uuid} eventNames={s.eventNames} onSent={refresh} />
        <button type="button" onClick={refresh}>
          Refresh
        </button>
        <a class="button" href={href('subscriptions', s.uuid, 'edit')}>
          Edit
        </a>
        <ConfirmButton label="Delete" confirm="Delete this subscription? Its messages stop." onConfirm={remove} disabled={action.busy} />
      </div>
      {action.done ? <Notice>{action.done}</Notice> : null}
      <ErrorMessage error={action.error} />

      <SigningKey signingKey={s.signingKey} subscriptionUuid={s.uuid} onRotated={sub.reload} />

      <section aria-labelledby="messages-heading">
        <h2 id="messages-heading">Messages</h2>
        <form class="filters" onSubmit={applyFilter} aria-label="Filter messages">
          <label>
            Status
            <select name="state" value={filter.state}>
              {STATES.map((st) => (
                <option key={st} value={st}>
                  {st}
                </option>
              ))}
            </select>
          </label>
          <label>
            Event
            <input name="eventName" value={filter.eventName} list="event-names" maxLength={100} />
          </label>
          <datalist id="event-names">
            {s.eventNames.map((n) => (
              <option key={n} value={n} />
            ))}
          </datalist>
          <label>
            From
            <input name="since" type="datetime-local" value={filter.since} />
          </label>
          <label>
            To
            <input name="until" type="datetime-local" value={filter.until} />
          </label>
          <button type="submit">Filter</button>
        </form>
        <Loaded state={messages}>
          {(page) => (
            <>
              <p class="muted">
                Destination {page.destination.origin}: <StatusBadge status={page.destination.state} /> {page.destination.inFlight} in
                flight, limit {page.destination.concurrencyLimit} of {page.destination.ceiling}
                {page.destination.pausedUntil ? (
                  <>
                    , paused until <Time iso={page.destination.pausedUntil} />
                  </>
                ) : null}
                .
              </p>
              {page.messages.length === 0 ? (
                <p>No messages match.</p>
              ) : (
                <table class="cards">
                  <caption class="sr-only">Messages, newest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">Accepted</th>
                      <th scope="col">Event</th>
                      <th scope="col">Status</th>
                      <th scope="col">Attempts</th>
                      <th scope="col">Last answer</th>
                      <th scope="col">
                        <span class="sr-only">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.messages.map((m) => (
                      <tr key={m.messageId}>
                        <td data-label="Accepted">
                          <a href={href('subscriptions', s.uuid, 'messages', m.messageId)}>
                            <Time iso={m.created} />
                          </a>
                        </td>
                        <td data-label="Event">{m.eventName}</td>
                        <td data-label="Status">
                          <StatusBadge status={m.state} />
                          {m.nextAttempt ? (
                            <span class="muted">
                              {' '}
                              next try <Time iso={m.nextAttempt} />
                            </span>
                          ) : null}
                        </td>
                        <td data-label="Attempts">{m.attempts}</td>
                        <td data-label="Last answer">
                          {m.lastStatusCode ?? ''} {m.lastError ? <span class="muted excerpt">{m.lastError}</span> : null}
                        </td>
                        <td data-label="Actions">
                          <button
                            type="button"
                            onClick={() => resendOne(m.messageId)}
                            disabled={action.busy}
                            aria-label={`Resend message ${m.messageId}`}
                          >
                            Resend
                          </button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              <Pager
                next={
                  page.cursor === null
                    ? undefined
                    : href('subscriptions', s.uuid, {
                        state: filter.state,
                        eventName: filter.eventName,
                        since: filter.since,
                        until: filter.until,
                        before: String(page.cursor),
                      })
                }
              />
            </>
          )}
        </Loaded>
      </section>
    </>
  );
}

/** Sends an example of one of the subscription's events to it alone, through the queue. */
function TestEvent({
  session,
  subscriptionUuid,
  eventNames,
  onSent,
}: {
  session: Session;
  subscriptionUuid: string;
  eventNames: string[];
  onSent: () => void;
}) {
  const catalog = useLoad(async () => unwrap(await api.GET('/events')), []);
  const [eventName, setEventName] = useState('');
  const action = useAction();
  const choices =
    eventNames.length > 0
      ? eventNames
      : (catalog.data ?? []).filter((e) => e.scope === null || session.scopes.includes(e.scope)).map((e) => e.eventName);
  const chosen = eventName || choices[0] || '';
  const send = () =>
    action.run(async () => {
      const r = unwrap(
        await api.POST('/organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/test-event', {
          params: { path: { organizationUuid: 'self', subscriptionUuid } },
          body: { eventName: chosen },
        }),
      );
      onSent();
      return `Test ${r.eventName} queued (message ${r.messageId}).`;
    });
  return (
    <>
      <label>
        <span class="sr-only">Test event</span>
        <select value={chosen} onChange={(e) => setEventName((e.target as HTMLSelectElement).value)}>
          {choices.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
      <button type="button" onClick={send} disabled={action.busy || !chosen}>
        Send test event
      </button>
      {action.done ? <Notice>{action.done}</Notice> : null}
      <ErrorMessage error={action.error} />
    </>
  );
}

/** The signing key: hidden until revealed; rotation keeps the old key valid for an overlap. */
function SigningKey({ signingKey, subscriptionUuid, onRotated }: { signingKey: string; subscriptionUuid: string; onRotated: () => void }) {
  const [shown, setShown] = useState(false);
  const [overlap, setOverlap] = useState('86400');
  const action = useAction();
  const rotate = () =>
    action.run(async () => {
      const r = unwrap(
        await api.POST('/organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/rotate-signing-key', {
          params: { path: { organizationUuid: 'self', subscriptionUuid } },
          body: { overlapSeconds: Number(overlap) },
        }),
      );
      setShown(true);
      onRotated();
      return `New key in use. The previous key stays valid until ${new Date(r.previousSigningKeyValidUntil).toLocaleString()}.`;
    });
  return (
    <section aria-labelledby="key-heading">
      <h2 id="key-heading">Signing key</h2>
      <p>
        <code class="secret" data-testid="signing-key">
          {shown ? signingKey : `${'•'.repeat(12)}${signingKey.slice(-4)}`}
        </code>{' '}
        <button type="button" onClick={() => setShown(!shown)} aria-pressed={shown}>
          {shown ? 'Hide' : 'Reveal'}
        </button>
      </p>
      <div class="actions">
        <label>
          Keep the old key valid for
          <select value={overlap} onChange={(e) => setOverlap((e.target as HTMLSelectElement).value)}>
            <option value="0">no time</option>
            <option value="3600">1 hour</option>
            <option value="86400">1 day</option>
            <option value="604800">7 days</option>
          </select>
        </label>
        <ConfirmButton label="Rotate key" confirm="Give the subscription a new signing key?" onConfirm={rotate} disabled={action.busy} />
      </div>
      {action.done ? <Notice>{action.done}</Notice> : null}
      <ErrorMessage error={action.error} />
    </section>
  );
}
