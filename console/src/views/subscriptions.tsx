import type { paths } from '../../../src/cli/api-schema.js';
import { api, unwrap } from '../api.js';
import { href } from '../router.js';
import { ago, Loaded, percent, StatusBadge, useLoad } from '../ui.js';

const self = { organizationUuid: 'self' };

type StatsAnswer = paths['/organizations/{organizationUuid}/subscription-stats']['get']['responses'][200]['content']['application/json'];
export type Window = StatsAnswer['subscriptions'][number]['lastHour'];

/** Delivered out of accepted, and the share of attempts that succeeded, over one window. */
export function Rates({ w, label }: { w: Window; label: string }) {
  return (
    <span
      class="rates"
      aria-label={`${label}: ${w.delivered} of ${w.messages} messages delivered, ${percent(w.successfulAttempts, w.attempts)} of attempts succeeded`}
    >
      {w.delivered}/{w.messages} delivered · {percent(w.successfulAttempts, w.attempts)} ok
    </span>
  );
}

/**
 * The organization's subscriptions, each with its health (the Pusher list has none), or
 * only the one `subscription` (its stats alone are read: a subscription the key may not
 * see answers 404, so the view says "not found").
 */
export async function subscriptionsWithStats(subscription?: string) {
  const [subscriptions, stats] = await Promise.all([
    api.GET('/organizations/{organizationUuid}/subscriptions', { params: { path: self } }).then((a) => unwrap(a)),
    api
      .GET('/organizations/{organizationUuid}/subscription-stats', { params: { path: self, query: { subscription } } })
      .then((a) => unwrap(a)),
  ]);
  const byUuid = new Map(stats.subscriptions.map((s) => [s.subscriptionUuid, s]));
  return subscriptions
    .filter((s) => subscription === undefined || s.uuid === subscription.toLowerCase())
    .map((s) => ({ ...s, stats: byUuid.get(s.uuid) }));
}

/** The organization's subscriptions, with their health over the last hour and day. */
export function SubscriptionList() {
  const state = useLoad(() => subscriptionsWithStats(), []);

  return (
    <>
      <div class="heading">
        <h1>Subscriptions</h1>
        <a class="button primary" href={href('subscriptions', 'new')}>
          New subscription
        </a>
      </div>
      <Loaded state={state}>
        {(subs) =>
          subs.length === 0 ? (
            <p>
              No subscriptions yet. <a href={href('subscriptions', 'new')}>Create one</a> to receive events.
            </p>
          ) : (
            <table class="cards">
              <caption class="sr-only">Subscriptions</caption>
              <thead>
                <tr>
                  <th scope="col">Destination</th>
                  <th scope="col">Status</th>
                  <th scope="col">Events</th>
                  <th scope="col">Last hour</th>
                  <th scope="col">Last day</th>
                </tr>
              </thead>
              <tbody>
                {subs.map((s) => (
                  <tr key={s.uuid}>
                    <td data-label="Destination">
                      <a href={href('subscriptions', s.uuid)} class="url">
                        {s.destination}
                      </a>
                    </td>
                    <td data-label="Status">
                      <StatusBadge status={s.status} />
                      {s.stats?.failingSince ? <span class="muted"> since {ago(s.stats.failingSince)}</span> : null}
                    </td>
                    <td data-label="Events">{s.eventNames.length === 0 ? <em>every event</em> : s.eventNames.join(', ')}</td>
                    <td data-label="Last hour">{s.stats ? <Rates w={s.stats.lastHour} label="Last hour" /> : '—'}</td>
                    <td data-label="Last day">{s.stats ? <Rates w={s.stats.lastDay} label="Last day" /> : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </>
  );
}
