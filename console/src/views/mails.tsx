import { api, unwrap } from '../api.js';
import { href } from '../router.js';
import { Loaded, Pager, Time, useLoad } from '../ui.js';

const PAGE = 50;

/** Mails to subscription contacts, newest first: sent, or waiting (with the last error). */
export function OperatorMails({ query }: { query: URLSearchParams }) {
  const before = query.get('before') ? Number(query.get('before')) : undefined;
  const mails = useLoad(async () => unwrap(await api.GET('/admin/mails', { params: { query: { limit: PAGE, before } } })), [before]);
  return (
    <>
      <h1>Mail outbox</h1>
      <Loaded state={mails}>
        {(list) =>
          list.length === 0 ? (
            <p>No mail yet: Herald writes to a subscription’s contact when its deliveries keep failing.</p>
          ) : (
            <>
              <table class="cards">
                <caption class="sr-only">Mails, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Written</th>
                    <th scope="col">To</th>
                    <th scope="col">Subject</th>
                    <th scope="col">Sent</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((m) => (
                    <tr key={m.id}>
                      <td data-label="Written">
                        <Time iso={m.created} />
                      </td>
                      <td data-label="To">{m.to}</td>
                      <td data-label="Subject">
                        <details>
                          <summary>
                            <span class={`badge ${m.kind === 'failing' ? 'warn' : 'bad'}`}>{m.kind}</span> {m.subject}
                          </summary>
                          <pre>{m.body}</pre>
                        </details>
                      </td>
                      <td data-label="Sent">
                        {m.sent ? <Time iso={m.sent} /> : <span class="muted">not yet{m.lastError ? `: ${m.lastError}` : ''}</span>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager next={list.length === PAGE ? href('ops', 'mails', { before: String(list[list.length - 1]!.id) }) : undefined} />
            </>
          )
        }
      </Loaded>
    </>
  );
}
