// The sign-in page: a support or admin API key, once per shift; the key itself is never stored in
// the browser (the session cookie holds a random token, console/session-store.ts).
import { html } from '../html';
import { notice, page } from '../layout';

export function signInPage(message?: { kind: 'ok' | 'refused'; text: string }): string {
  return page({ title: 'Sign in' }, html`<div class="signin card">
<h1>Support console</h1>
${message ? notice(message.kind, message.text) : ''}
<form method="post" action="/console/sign-in">
<label>Support or admin API key<input name="apiKey" type="password" autocomplete="off" required placeholder="smm_…" autofocus></label>
<button>Sign in</button>
</form>
<p class="muted">A staff key comes from <code>npm run api-key -- --role support --name &lt;name&gt;</code> (see the README). User keys cannot sign in.</p>
</div>`);
}
