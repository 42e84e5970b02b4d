/**
 * The sign-in dialog (fallback when the host has neither Nested App Authentication nor Office
 * SSO): MSAL.js's redirect flow inside an Office dialog, then the token goes back to the pane
 * with `Office.context.ui.messageParent`. The page's own URL is the redirect URI, so it must be
 * registered as a "single-page application" redirect URI of Plume's app registration.
 * @module common/signin-dialog
 */
import { fromMsalResult, msalConfiguration } from './auth.js';

const FAILED = 'La connexion à votre compte a échoué. Fermez cette fenêtre et réessayez.';

const status = document.getElementById('status');

function send(message) {
  Office.context.ui.messageParent(JSON.stringify(message));
}

function reply(result) {
  send({ status: 'ok', ...fromMsalResult(result) });
}

async function signIn() {
  await Office.onReady();
  const response = await fetch('/api/v1/client-config', { headers: { Accept: 'application/json' } });
  const config = await response.json();
  if (!config.client_id || !config.api_scope) throw new Error('client-config lacks client_id or api_scope');
  if (!globalThis.msal) throw new Error('MSAL.js is not served at /addin/vendor/');

  const app = new globalThis.msal.PublicClientApplication(
    msalConfiguration(config, `${location.origin}${location.pathname}`));
  await app.initialize();
  const request = { scopes: [config.api_scope] };

  const returned = await app.handleRedirectPromise();
  if (returned && returned.accessToken) {
    reply(returned);
    return;
  }
  const [account] = app.getAllAccounts();
  if (account) {
    try {
      reply(await app.acquireTokenSilent({ ...request, account }));
      return;
    } catch (_) {
      // fall through to an interactive sign-in
    }
  }
  status.textContent = 'Redirection vers la page de connexion de votre organisation…';
  await app.acquireTokenRedirect(request);
}

signIn().catch((err) => {
  status.textContent = FAILED;
  status.classList.add('plume-message--error');
  try {
    send({ status: 'error', error: (err && (err.errorCode || err.name)) || 'error', message: FAILED });
  } catch (_) {
    // Not inside an Office dialog (opened directly): the page text says what happened.
  }
});
