import { useEffect, useState } from 'preact/hooks';
import { v1 as uuidV1 } from 'uuid';
import { api, ApiError, unwrap } from '../api.js';
import type { Session } from '../main.js';
import { go, href } from '../router.js';
import { ErrorMessage, Loaded, useAction, useLoad } from '../ui.js';

/**
 * Create or edit a subscription. Herald sends a signed TestMessage to the destination
 * before it accepts one (the spec's check); whatever it refuses is shown in the API's
 * own words, each violation beside its field.
 */
export function SubscriptionForm({ session, subscriptionUuid }: { session: Session; subscriptionUuid?: string }) {
  const editing = subscriptionUuid !== undefined;
  const state = useLoad(async () => {
    const [events, subs] = await Promise.all([
      api.GET('/events').then((a) => unwrap(a)),
      editing
        ? api
            .GET('/organizations/{organizationUuid}/subscriptions', { params: { path: { organizationUuid: 'self' } } })
            .then((a) => unwrap(a))
        : [],
    ]);
    return { events, current: subs.find((s) => s.uuid === subscriptionUuid?.toLowerCase()) };
  }, [subscriptionUuid]);

  const [destination, setDestination] = useState('');
  const [contactEmail, setContactEmail] = useState('');
  const [all, setAll] = useState(false);
  const [chosen, setChosen] = useState<string[]>([]);
  const [ordered, setOrdered] = useState(false);
  const action = useAction();

  useEffect(() => {
    const c = state.data?.current;
    if (c) {
      setDestination(c.destination);
      setContactEmail(c.contactEmail);
      setAll(c.eventNames.length === 0);
      setChosen(c.eventNames);
      setOrdered(c.ordered === true);
    }
  }, [state.data]);

  const violation = (field: string) =>
    action.error instanceof ApiError
      ? action.error.violations.find((v) => v.propertyName === field || v.propertyName.startsWith(`${field}.`))
      : undefined;

  async function submit(e: Event) {
    e.preventDefault();
    await action.run(async () => {
      const body = { destination, contactEmail, eventNames: all ? [] : chosen };
      if (editing) {
        unwrap(
          await api.PUT('/organizations/{organizationUuid}/subscriptions/{subscriptionUuid}', {
            params: { path: { organizationUuid: 'self', subscriptionUuid } },
            body,
          }),
        );
        go(href('subscriptions', subscriptionUuid));
      } else {
        const created = unwrap(
          await api.POST('/organizations/{organizationUuid}/subscriptions', {
            params: { path: { organizationUuid: 'self' } },
            // The spec's clients name a new subscription with a version-1 UUID.
            body: { ...body, uuid: uuidV1(), transportName: 'WEBHOOK', ...(ordered ? { ordered: true } : {}) },
          }),
        );
        go(href('subscriptions', created.uuid));
      }
    });
  }

  const field = (name: string, label: string, input: preact.JSX.Element, help?: string) => {
    const v = violation(name);
    return (
      <div class={`field${v ? ' invalid' : ''}`}>
        <label for={name}>{label}</label>
        {input}
        {help ? (
          <p class="muted" id={`${name}-help`}>
            {help}
          </p>
        ) : null}
        {v ? (
          <p class="field-error" id={`${name}-error`}>
            {v.developerMessage}
          </p>
        ) : null}
      </div>
    );
  };
  const described = (name: string, help: boolean) =>
    [help ? `${name}-help` : '', violation(name) ? `${name}-error` : ''].filter(Boolean).join(' ') || undefined;

  return (
    <>
      <p class="crumbs">
        <a href={editing ? href('subscriptions', subscriptionUuid) : href('subscriptions')}>
          ← {editing ? 'Subscription' : 'Subscriptions'}
        </a>
      </p>
      <h1>{editing ? 'Edit subscription' : 'New subscription'}</h1>
      <Loaded state={state}>
        {({ events, current }) =>
          editing && !current ? (
            <p>No such subscription in your organization.</p>
          ) : (
            <form onSubmit={submit} class="stack" noValidate>
              {field(
                'destination',
                'Destination URL',
                <input
                  id="destination"
                  type="url"
                  required
                  value={destination}
                  aria-invalid={violation('destination') ? true : undefined}
                  aria-describedby={described('destination', true)}
                  onInput={(e) => setDestination((e.target as HTMLInputElement).value)}
                />,
                'Herald POSTs a signed TestMessage here first; it must answer 2xx.',
              )}
              {field(
                'contactEmail',
                'Contact email',
                <input
                  id="contactEmail"
                  type="email"
                  required
                  value={contactEmail}
                  aria-invalid={violation('contactEmail') ? true : undefined}
                  aria-describedby={described('contactEmail', true)}
                  onInput={(e) => setContactEmail((e.target as HTMLInputElement).value)}
                />,
                'Warned when deliveries keep failing.',
              )}
              <fieldset aria-describedby={violation('eventNames') ? 'eventNames-error' : undefined}>
                <legend>Events</legend>
                <label class="inline">
                  <input type="checkbox" checked={all} onChange={() => setAll(!all)} /> Every event my key may receive
                </label>
                {all
                  ? null
                  : events.map((ev) => {
                      const allowed = ev.scope === null || session.scopes.includes(ev.scope);
                      return (
                        <label class="inline event-choice" key={ev.eventName}>
                          <input
                            type="checkbox"
                            name="eventNames"
                            value={ev.eventName}
                            checked={chosen.includes(ev.eventName)}
                            onChange={() =>
                              setChosen(
                                chosen.includes(ev.eventName) ? chosen.filter((n) => n !== ev.eventName) : [...chosen, ev.eventName],
                              )
                            }
                          />{' '}
                          {ev.eventName}
                          {allowed ? null : <span class="muted"> (needs {ev.scope})</span>}
                        </label>
                      );
                    })}
                {violation('eventNames') ? (
                  <p class="field-error" id="eventNames-error">
                    {violation('eventNames')!.developerMessage}
                  </p>
                ) : null}
              </fieldset>
              {editing ? null : (
                <label class="inline">
                  <input type="checkbox" checked={ordered} onChange={() => setOrdered(!ordered)} /> Deliver in order (one at a time)
                </label>
              )}
              <ErrorMessage error={action.error} />
              <div class="actions">
                <button type="submit" class="primary" disabled={action.busy}>
                  {action.busy ? 'Checking the destination…' : editing ? 'Save' : 'Create subscription'}
                </button>
              </div>
            </form>
          )
        }
      </Loaded>
    </>
  );
}
