import { useState } from 'preact/hooks';
import { api, unwrap } from '../api.js';
import { href, useRoute } from '../router.js';
import { Loaded, Pager, StatusBadge, Time, useLoad } from '../ui.js';

const seconds = (s: number | null | undefined): string =>
  s === null || s === undefined
    ? '—'
    : s < 120
      ? `${Math.round(s)} s`
      : s < 7200
        ? `${Math.round(s / 60)} min`
        : `${Math.round(s / 3600)} h`;

/** The operator's view of delivery: the backlog, throughput and failures over time, troubled destinations. */
export function OperatorOverview() {
  const { query } = useRoute();
  const backlog = useLoad(async () => unwrap(await api.GET('/admin/delivery/backlog')), []);
  const [hours, setHours] = useState(24);
  const throughput = useLoad(
    async () =>
      unwrap(
        await api.GET('/admin/delivery/throughput', {
          params: { query: { hours, bucketMinutes: hours <= 1 ? 1 : hours <= 24 ? 60 : 360 } },
        }),
      ),
    [hours],
  );
  const after = query.get('after') ?? undefined;
  const destinations = useLoad(
    async () => unwrap(await api.GET('/admin/destinations', { params: { query: { limit: 50, after } } })),
    [after],
  );

  return (
    <>
      <h1>Delivery</h1>
      <section aria-labelledby="backlog-heading">
        <h2 id="backlog-heading">Backlog</h2>
        <Loaded state={backlog}>
          {(b) => (
            <dl class="tiles">
              <div>
                <dt>Waiting to be sent</dt>
                <dd>{b.due}</dd>
              </div>
              <div>
                <dt>Oldest waiting for</dt>
                <dd>{seconds(b.oldestDueAgeSeconds)}</dd>
              </div>
              <div>
                <dt>In flight</dt>
                <dd>{b.inFlight}</dd>
              </div>
              <div>
                <dt>Retrying later</dt>
                <dd>{b.retrying}</dd>
              </div>
              <div>
                <dt>Pending in all</dt>
                <dd>{b.pending}</dd>
              </div>
              <div>
                <dt>Mails not sent</dt>
                <dd>{b.unsentMails}</dd>
              </div>
            </dl>
          )}
        </Loaded>
      </section>

      <section aria-labelledby="throughput-heading">
        <div class="heading">
          <h2 id="throughput-heading">Attempts over time</h2>
          <label>
            Period{' '}
            <select value={String(hours)} onChange={(e) => setHours(Number((e.target as HTMLSelectElement).value))}>
              <option value="1">last hour</option>
              <option value="24">last day</option>
              <option value="168">last week</option>
            </select>
          </label>
        </div>
        <Loaded state={throughput}>{(t) => <Chart buckets={t.buckets} bucketSeconds={t.bucketSeconds} />}</Loaded>
      </section>

      <section aria-labelledby="destinations-heading">
        <h2 id="destinations-heading">Throttled or failing destinations</h2>
        <Loaded state={destinations}>
          {(d) =>
            d.destinations.length === 0 ? (
              <p>Every destination is answering.</p>
            ) : (
              <>
                <table class="cards">
                  <caption class="sr-only">Destinations throttled or with failing subscriptions</caption>
                  <thead>
                    <tr>
                      <th scope="col">Origin</th>
                      <th scope="col">State</th>
                      <th scope="col">Limit</th>
                      <th scope="col">Failing subscriptions</th>
                      <th scope="col">Pending</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.destinations.map((x) => (
                      <tr key={x.origin}>
                        <td data-label="Origin" class="url">
                          {x.origin}
                        </td>
                        <td data-label="State">
                          <StatusBadge status={x.state} />
                          {x.pausedUntil ? (
                            <span class="muted">
                              {' '}
                              until <Time iso={x.pausedUntil} />
                            </span>
                          ) : null}
                        </td>
                        <td data-label="Limit">
                          {x.inFlight} in flight / {x.concurrencyLimit} of {x.ceiling}
                        </td>
                        <td data-label="Failing subscriptions">
                          {x.failingSubscriptions}
                          {x.oldestFailingSince ? (
                            <span class="muted">
                              {' '}
                              since <Time iso={x.oldestFailingSince} />
                            </span>
                          ) : null}
                        </td>
                        <td data-label="Pending">{x.pending}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <Pager next={d.cursor === null ? undefined : href('ops', { after: d.cursor })} label="More" />
              </>
            )
          }
        </Loaded>
      </section>
    </>
  );
}

/**
 * Successes and failures per bucket, as stacked bars (SVG, no library: a few rectangles).
 * The same numbers are in a table below it for screen readers and for reading exactly.
 */
function Chart({ buckets, bucketSeconds }: { buckets: { start: string; successes: number; failures: number }[]; bucketSeconds: number }) {
  const width = 720;
  const height = 160;
  const max = Math.max(1, ...buckets.map((b) => b.successes + b.failures));
  const w = width / Math.max(1, buckets.length);
  const total = buckets.reduce((n, b) => n + b.successes + b.failures, 0);
  const failed = buckets.reduce((n, b) => n + b.failures, 0);
  const label = (iso: string) =>
    new Date(iso).toLocaleString(
      undefined,
      bucketSeconds >= 86400
        ? { dateStyle: 'short' }
        : { hour: '2-digit', minute: '2-digit', day: bucketSeconds >= 3600 ? 'numeric' : undefined },
    );
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`${total} attempts, ${failed} failed, in ${buckets.length} buckets of ${bucketSeconds / 60} minutes`}
        preserveAspectRatio="none"
      >
        {buckets.map((b, i) => {
          const hs = (b.successes / max) * (height - 4);
          const hf = (b.failures / max) * (height - 4);
          return (
            <g key={b.start}>
              <title>{`${label(b.start)}: ${b.successes} ok, ${b.failures} failed`}</title>
              <rect class="ok" x={i * w + 0.5} y={height - hs} width={Math.max(1, w - 1)} height={hs} />
              <rect class="failed" x={i * w + 0.5} y={height - hs - hf} width={Math.max(1, w - 1)} height={hf} />
            </g>
          );
        })}
      </svg>
      <figcaption>
        <span class="key ok">■</span> succeeded <span class="key failed">■</span> failed · {total} attempts, {failed} failed
      </figcaption>
      <details>
        <summary>As a table</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">From</th>
              <th scope="col">Succeeded</th>
              <th scope="col">Failed</th>
            </tr>
          </thead>
          <tbody>
            {buckets
              .filter((b) => b.successes + b.failures > 0)
              .map((b) => (
                <tr key={b.start}>
                  <td>
                    <Time iso={b.start} />
                  </td>
                  <td>{b.successes}</td>
                  <td>{b.failures}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
