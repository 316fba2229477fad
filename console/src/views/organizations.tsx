import { useState } from 'preact/hooks';
import { api, unwrap } from '../api.js';
import { go, href } from '../router.js';
import { ConfirmButton, ErrorMessage, Loaded, Notice, Pager, Time, useAction, useLoad } from '../ui.js';

const PAGE = 50;

/** Organizations, a page at a time, and a form to create one. */
export function OperatorOrganizations({ query }: { query: URLSearchParams }) {
  const after = query.get('after') ?? undefined;
  const orgs = useLoad(async () => unwrap(await api.GET('/admin/organizations', { params: { query: { limit: PAGE, after } } })), [after]);
  const [name, setName] = useState('');
  const action = useAction();
  const create = (e: Event) => {
    e.preventDefault();
    return action.run(async () => {
      const org = unwrap(await api.POST('/admin/organizations', { body: { name } }));
      setName('');
      go(href('ops', 'organizations', org.organizationUuid));
    });
  };
  return (
    <>
      <h1>Organizations</h1>
      <form class="inline-form" onSubmit={create}>
        <label for="org-name">New organization’s name</label>
        <input id="org-name" required maxLength={256} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        <button type="submit" class="primary" disabled={action.busy}>
          Create
        </button>
      </form>
      <ErrorMessage error={action.error} />
      <Loaded state={orgs}>
        {(list) => (
          <>
            <table class="cards">
              <caption class="sr-only">Organizations</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">uuid</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {list.map((o) => (
                  <tr key={o.organizationUuid}>
                    <td data-label="Name">
                      <a href={href('ops', 'organizations', o.organizationUuid)}>{o.name}</a>
                    </td>
                    <td data-label="uuid">
                      <code>{o.organizationUuid}</code>
                    </td>
                    <td data-label="Created">
                      <Time iso={o.created} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager
              next={list.length === PAGE ? href('ops', 'organizations', { after: list[list.length - 1]!.organizationUuid }) : undefined}
              label="Next"
            />
          </>
        )}
      </Loaded>
    </>
  );
}

/** One organization: its API keys (create, revoke). */
export function OperatorOrganization({ organizationUuid }: { organizationUuid: string }) {
  const path = { organizationUuid };
  const org = useLoad(
    async () => unwrap(await api.GET('/admin/organizations/{organizationUuid}', { params: { path } })),
    [organizationUuid],
  );
  const keys = useLoad(
    async () => unwrap(await api.GET('/admin/organizations/{organizationUuid}/api-keys', { params: { path } })),
    [organizationUuid],
  );
  const scopes = useLoad(
    async () => [
      ...new Set(
        unwrap(await api.GET('/events'))
          .map((e) => e.scope)
          .filter((s): s is string => s !== null),
      ),
    ],
    [],
  );
  const [keyName, setKeyName] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [testMode, setTestMode] = useState(false);
  const [created, setCreated] = useState<string | undefined>();
  const action = useAction();

  const create = (e: Event) => {
    e.preventDefault();
    return action.run(async () => {
      const k = unwrap(
        await api.POST('/admin/organizations/{organizationUuid}/api-keys', {
          params: { path },
          body: { name: keyName || 'API key', scopes: chosen, livemode: !testMode },
        }),
      );
      setCreated(k.apiKey);
      setKeyName('');
      keys.reload();
    });
  };
  const revoke = (apiKeyId: string) =>
    action.run(async () => {
      unwrap(
        await api.DELETE('/admin/organizations/{organizationUuid}/api-keys/{apiKeyId}', {
          params: { path: { organizationUuid, apiKeyId } },
        }),
      );
      keys.reload();
      return 'Key revoked: it stops working at once.';
    });

  return (
    <>
      <p class="crumbs">
        <a href={href('ops', 'organizations')}>← Organizations</a>
      </p>
      <h1>{org.data?.name ?? 'Organization'}</h1>
      <Loaded state={org}>
        {(o) => (
          <p class="muted">
            <code>{o.organizationUuid}</code> · created <Time iso={o.created} />
          </p>
        )}
      </Loaded>
      <section aria-labelledby="keys-heading">
        <h2 id="keys-heading">API keys</h2>
        <Loaded state={keys}>
          {(list) =>
            list.length === 0 ? (
              <p>No live keys.</p>
            ) : (
              <table class="cards">
                <caption class="sr-only">Live API keys</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Key</th>
                    <th scope="col">Scopes</th>
                    <th scope="col">Created</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((k) => (
                    <tr key={k.apiKeyId}>
                      <td data-label="Name">
                        {k.name} {k.livemode ? null : <span class="badge warn">test mode</span>}
                      </td>
                      <td data-label="Key">
                        <code>{k.prefix}</code>
                      </td>
                      <td data-label="Scopes">{k.scopes.join(', ') || '—'}</td>
                      <td data-label="Created">
                        <Time iso={k.created} />
                      </td>
                      <td data-label="Actions">
                        <ConfirmButton
                          label="Revoke"
                          confirm={`Revoke ${k.name}?`}
                          onConfirm={() => revoke(k.apiKeyId)}
                          disabled={action.busy}
                        />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          }
        </Loaded>
        <form class="stack" onSubmit={create}>
          <h3>New key</h3>
          <label for="key-name">Name</label>
          <input id="key-name" maxLength={256} value={keyName} onInput={(e) => setKeyName((e.target as HTMLInputElement).value)} />
          <fieldset>
            <legend>Scopes</legend>
            <Loaded state={scopes}>
              {(all) => (
                <>
                  {[...all, 'WRITE:PRODUCT', 'WRITE:PURCHASE', 'WRITE:USERINFO', 'WRITE:PAYMENT_TERMINAL']
                    .filter((s, i, a) => a.indexOf(s) === i)
                    .map((s) => (
                      <label class="inline" key={s}>
                        <input
                          type="checkbox"
                          checked={chosen.includes(s)}
                          onChange={() => setChosen(chosen.includes(s) ? chosen.filter((x) => x !== s) : [...chosen, s])}
                        />{' '}
                        {s}
                      </label>
                    ))}
                </>
              )}
            </Loaded>
          </fieldset>
          <label class="inline">
            <input type="checkbox" checked={testMode} onChange={() => setTestMode(!testMode)} /> Test mode
          </label>
          <div class="actions">
            <button type="submit" class="primary" disabled={action.busy}>
              Create key
            </button>
          </div>
        </form>
        {created ? (
          <div class="notice" role="status">
            <p>
              <strong>The new key, shown this once</strong> (Herald keeps only its hash):
            </p>
            <textarea
              readOnly
              rows={4}
              aria-label="The new API key"
              data-testid="new-api-key"
              value={created}
              onFocus={(e) => (e.target as HTMLTextAreaElement).select()}
            />
          </div>
        ) : null}
        {action.done ? <Notice>{action.done}</Notice> : null}
        <ErrorMessage error={action.error} />
      </section>
    </>
  );
}
