import { api, unwrap } from '../api.js';
import type { Session } from '../main.js';
import { Loaded, useLoad } from '../ui.js';

/** Every event Herald delivers, the scope it needs, and an example payload. */
export function EventCatalog({ session }: { session: Session }) {
  const state = useLoad(async () => unwrap(await api.GET('/events')), []);
  return (
    <>
      <h1>Event catalog</h1>
      <p class="muted">What a subscription can receive. Your key holds: {session.scopes.join(', ') || 'no scopes'}.</p>
      <Loaded state={state}>
        {(events) => (
          <ul class="catalog">
            {events.map((e) => {
              const allowed = e.scope === null || session.scopes.includes(e.scope);
              return (
                <li key={e.eventName} id={`event-${e.eventName}`}>
                  <details>
                    <summary>
                      <strong>{e.eventName}</strong> <span class="muted">{e.scope ?? 'any credential'}</span>
                      {allowed ? null : <span class="badge bad">scope missing</span>}
                    </summary>
                    <p>{e.trigger}</p>
                    <p class="muted">
                      Envelope: {e.envelope === 'pusher' ? 'Pusher (payload as a JSON string)' : 'Inventory (payload as data)'}
                    </p>
                    <pre tabIndex={0} aria-label={`Example payload of ${e.eventName}`}>
                      {JSON.stringify(e.example, null, 2)}
                    </pre>
                  </details>
                </li>
              );
            })}
          </ul>
        )}
      </Loaded>
    </>
  );
}
