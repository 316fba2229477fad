import { useState } from 'preact/hooks';
import { api, unwrap, type Schemas } from '../api.js';
import { ErrorMessage, useAction } from '../ui.js';

/** Sign in with an organization's API key, or, as the operator, with the admin token. */
export function SignIn({ onSignedIn }: { onSignedIn: (s: Schemas['ConsoleSession']) => void }) {
  const [as, setAs] = useState<'apiKey' | 'adminToken'>('apiKey');
  const [secret, setSecret] = useState('');
  const action = useAction();

  async function submit(e: Event) {
    e.preventDefault();
    await action.run(async () => {
      const body = as === 'apiKey' ? { apiKey: secret.trim() } : { adminToken: secret.trim() };
      const session = unwrap(await api.POST('/console/session', { body }), { signIn: true });
      setSecret('');
      onSignedIn(session);
    });
  }

  return (
    <main id="main" class="sign-in">
      <h1>Herald Console</h1>
      <p>See your webhooks: what was sent, what the receiver answered, and send it again.</p>
      <form onSubmit={submit} aria-describedby="sign-in-help">
        <fieldset>
          <legend>Sign in with</legend>
          <label class="inline">
            <input type="radio" name="as" value="apiKey" checked={as === 'apiKey'} onChange={() => setAs('apiKey')} /> an API key
          </label>
          <label class="inline">
            <input type="radio" name="as" value="adminToken" checked={as === 'adminToken'} onChange={() => setAs('adminToken')} /> the admin
            token (operator)
          </label>
        </fieldset>
        <label for="secret">{as === 'apiKey' ? 'API key' : 'Admin token'}</label>
        <input
          id="secret"
          name="secret"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          value={secret}
          onInput={(e) => setSecret((e.target as HTMLInputElement).value)}
        />
        <p id="sign-in-help" class="muted">
          {as === 'apiKey'
            ? 'Your organization sees what the key’s scopes allow. The key is exchanged for a short-lived session; the page never keeps it.'
            : 'The admin token is in HERALD_ADMIN_TOKEN, or in the data directory’s admin-token file.'}
        </p>
        <ErrorMessage error={action.error} />
        <button type="submit" class="primary" disabled={action.busy}>
          {action.busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
