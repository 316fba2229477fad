import { useState } from 'preact/hooks';
import type { paths } from '../../../src/cli/api-schema.js';
import { api, unwrap } from '../api.js';
import { href } from '../router.js';
import { ErrorMessage, Loaded, Notice, StatusBadge, Time, useAction, useLoad } from '../ui.js';

/** One message: every attempt, what the receiver answered, and the exact request Herald sent (signatures masked). */
export function MessageView({ subscriptionUuid, messageId }: { subscriptionUuid: string; messageId: string }) {
  const path = { organizationUuid: 'self', subscriptionUuid, messageId };
  const state = useLoad(
    async () =>
      unwrap(
        await api.GET('/organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/messages/{messageId}/attempts', {
          params: { path },
        }),
      ),
    [subscriptionUuid, messageId],
  );
  const action = useAction();
  const resend = () =>
    action.run(async () => {
      unwrap(
        await api.POST('/organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/messages/{messageId}/resend', {
          params: { path },
        }),
      );
      state.reload();
      return 'Queued to be sent again.';
    });

  return (
    <>
      <p class="crumbs">
        <a href={href('subscriptions', subscriptionUuid)}>← Subscription</a>
      </p>
      <h1>Message {messageId}</h1>
      <Loaded state={state}>
        {({ message: m, attempts }) => (
          <>
            <dl class="facts">
              <dt>Event</dt>
              <dd>{m.eventName}</dd>
              <dt>Status</dt>
              <dd>
                <StatusBadge status={m.state} />
                {m.nextAttempt ? (
                  <>
                    {' '}
                    next try <Time iso={m.nextAttempt} />
                  </>
                ) : null}
              </dd>
              <dt>Accepted</dt>
              <dd>
                <Time iso={m.created} />
              </dd>
              <dt>Finished</dt>
              <dd>
                <Time iso={m.finished} />
              </dd>
            </dl>
            <div class="actions">
              <button type="button" class="primary" onClick={resend} disabled={action.busy}>
                Resend
              </button>
            </div>
            {action.done ? <Notice>{action.done}</Notice> : null}
            <ErrorMessage error={action.error} />
            <h2>Attempts</h2>
            {attempts.length === 0 ? <p>Not tried yet.</p> : null}
            <ul class="attempts" aria-label="Attempts, newest first">
              {attempts
                .map((a, i) => (
                  <li key={a.attemptId}>
                    <Attempt a={a} n={i + 1} />
                  </li>
                ))
                .reverse()}
            </ul>
          </>
        )}
      </Loaded>
    </>
  );
}

type AttemptData =
  paths['/organizations/{organizationUuid}/subscriptions/{subscriptionUuid}/messages/{messageId}/attempts']['get']['responses'][200]['content']['application/json']['attempts'][number];

function Attempt({ a, n }: { a: AttemptData; n: number }) {
  const [pretty, setPretty] = useState(true);
  const request = a.request;
  let shownBody = request?.body ?? '';
  if (pretty && request) {
    try {
      shownBody = JSON.stringify(JSON.parse(request.body), null, 2);
    } catch {
      // not JSON: shown as sent
    }
  }
  return (
    <article class="attempt" aria-label={`Attempt ${n}`}>
      <header>
        <strong>Attempt {n}</strong> <StatusBadge status={a.outcome} /> <Time iso={a.started} /> ·{' '}
        {a.statusCode === null ? 'no answer' : `HTTP ${a.statusCode}`} · {a.latencyMs} ms
        {a.errorClass ? <> · {a.errorClass}</> : null}
      </header>
      {a.errorMessage ? <p class="excerpt">{a.errorMessage}</p> : null}
      {a.responseExcerpt ? (
        <>
          <h3>Response (first 4 KiB)</h3>
          <pre tabIndex={0}>{a.responseExcerpt}</pre>
        </>
      ) : null}
      {request ? (
        <details>
          <summary>Request sent</summary>
          <p>
            <code>
              {request.method} {request.url}
            </code>
          </p>
          <table class="headers">
            <caption class="sr-only">Request headers</caption>
            <tbody>
              {Object.entries(request.headers).map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>
                    <code>{v}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <label class="inline">
            <input type="checkbox" checked={pretty} onChange={() => setPretty(!pretty)} /> Indent the body (the bytes sent are unindented)
          </label>
          <pre tabIndex={0}>{shownBody}</pre>
        </details>
      ) : (
        <p class="muted">No request was built for this attempt (see the error above).</p>
      )}
    </article>
  );
}
