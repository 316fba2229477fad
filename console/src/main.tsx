import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, unwrap, useCsrfToken, whenCsrfStale, whenSignedOut, type Schemas } from './api.js';
import { go, href, useRoute } from './router.js';
import { ErrorMessage } from './ui.js';
import { EventCatalog } from './views/events.js';
import { MessageView } from './views/message.js';
import { OperatorMails } from './views/mails.js';
import { OperatorOrganization, OperatorOrganizations } from './views/organizations.js';
import { OperatorOverview } from './views/overview.js';
import { SignIn } from './views/sign-in.js';
import { SubscriptionForm } from './views/subscription-form.js';
import { SubscriptionView } from './views/subscription.js';
import { SubscriptionList } from './views/subscriptions.js';

export type Session = Schemas['ConsoleSession'];

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<unknown>();
  const route = useRoute();

  useEffect(() => {
    whenSignedOut(() => setSession(null));
    // A change refused for its CSRF token: the session changed (a sign-in in another tab);
    // take the current one, so the next try carries its token.
    whenCsrfStale(() => {
      refreshSession().catch(setError);
    });
    refreshSession().catch(setError);
  }, []);

  async function refreshSession(): Promise<Session | null> {
    const answer = await api.GET('/console/session');
    if (answer.response.status === 401) {
      setSession(null);
      return null;
    }
    const s = unwrap(answer);
    useCsrfToken(s.csrfToken);
    setSession(s);
    return s;
  }

  // Each view names itself in the tab's title and moves focus to its heading (screen readers hear the change).
  useEffect(() => {
    const h1 = document.querySelector('main h1');
    if (h1 instanceof HTMLElement) {
      h1.tabIndex = -1;
      h1.focus({ preventScroll: true });
      document.title = `${h1.textContent ?? ''} · Herald Console`;
    }
  }, [route.parts.join('/'), session?.kind]);

  if (error) return <ErrorMessage error={error} />;
  if (session === undefined) return <p class="loading">Loading the Herald Console…</p>;
  if (session === null) {
    return (
      <SignIn
        onSignedIn={(s) => {
          useCsrfToken(s.csrfToken);
          setSession(s);
          go(s.kind === 'admin' ? href('ops') : href('subscriptions'));
        }}
      />
    );
  }

  async function signOut() {
    let out = await api.DELETE('/console/session');
    // A stale CSRF token (another tab signed in since): take the current one and sign that out.
    if (out.response.status === 403 && (await refreshSession())) out = await api.DELETE('/console/session');
    if (!out.response.ok) return setError(new Error(`signing out failed: ${out.response.status}`));
    useCsrfToken('');
    setSession(null);
    go('#/');
  }

  const nav: [string, string][] =
    session.kind === 'admin'
      ? [
          [href('ops'), 'Delivery'],
          [href('ops', 'organizations'), 'Organizations'],
          [href('ops', 'mails'), 'Mail outbox'],
        ]
      : [
          [href('subscriptions'), 'Subscriptions'],
          [href('events'), 'Event catalog'],
        ];
  const here = `#/${route.parts.slice(0, session.kind === 'admin' ? 2 : 1).join('/')}`;

  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <div class="brand">
          <span class="logo" aria-hidden="true">
            ◆
          </span>{' '}
          Herald Console
        </div>
        <nav aria-label="Main">
          <ul>
            {nav.map(([to, label]) => (
              <li key={to}>
                <a href={to} aria-current={here === to || (to === '#/ops' && here === '#/ops') ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span>
            {session.kind === 'admin' ? 'Operator' : session.organizationName}
            {session.livemode === false ? <span class="badge warn">test mode</span> : null}
          </span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <View session={session} />
      </main>
    </>
  );
}

function View({ session }: { session: Session }) {
  const { parts, query } = useRoute();
  if (session.kind === 'admin') {
    if (parts[0] !== 'ops') return <OperatorOverview />;
    if (parts[1] === 'organizations' && parts[2]) return <OperatorOrganization key={parts[2]} organizationUuid={parts[2]} />;
    if (parts[1] === 'organizations') return <OperatorOrganizations query={query} />;
    if (parts[1] === 'mails') return <OperatorMails query={query} />;
    return <OperatorOverview />;
  }
  if (parts[0] === 'events') return <EventCatalog session={session} />;
  if (parts[0] === 'subscriptions' && parts[1] === 'new') return <SubscriptionForm session={session} />;
  if (parts[0] === 'subscriptions' && parts[1] && parts[2] === 'edit')
    return <SubscriptionForm key={parts[1]} session={session} subscriptionUuid={parts[1]} />;
  if (parts[0] === 'subscriptions' && parts[1] && parts[2] === 'messages' && parts[3]) {
    return <MessageView key={`${parts[1]}/${parts[3]}`} subscriptionUuid={parts[1]} messageId={parts[3]} />;
  }
  if (parts[0] === 'subscriptions' && parts[1])
    return <SubscriptionView key={parts[1]} session={session} subscriptionUuid={parts[1]} query={query} />;
  return <SubscriptionList />;
}

render(<App />, document.getElementById('app')!);
