/**
 * Sign-in for the Plume panes: an access token for Plume's own API, or null in development mode.
 *
 * Three ways, tried in this order (each falls back to the next when the host cannot do it):
 * 1. Nested App Authentication (NAA) through MSAL.js, when the host supports
 *    `NestedAppAuth 1.1` — the recommended way; MSAL.js is served by Plume itself from
 *    `/addin/vendor/` (installed from npm by the Makefile, never from a CDN);
 * 2. Office single sign-on, `Office.auth.getAccessToken()` (needs the manifest's
 *    `WebApplicationInfo`);
 * 3. a sign-in dialog (`Office.context.ui.displayDialogAsync`) running MSAL's redirect flow in
 *    `signin-dialog.html`, which hands the token back with `messageParent`.
 *
 * Outside Office (an administrator opening the observatory or « À propos de Plume » in Edge or
 * Chrome: no Office.js, or Office.js without a host), the page signs in by itself with MSAL.js's
 * redirect flow. The identity provider returns to one page for all of them,
 * `signin-redirect.html` (MSAL's redirect bridge, the single-page-application redirect URI to
 * register, docs/admin-guide.md), which sends the browser back to the page that started;
 * there `handleRedirectPromise()` redeems the answer. Later calls are answered from MSAL's
 * cache, and an expired token is renewed in MSAL's hidden frame through the same bridge.
 *
 * Tokens are kept in memory only (MSAL's own cache is per tab, `sessionStorage`), and reused
 * until shortly before they expire.
 * @module common/auth
 */

import { announceSignIn as announce } from './signin-status.js';

/** Where the Makefile puts MSAL.js's browser build (served by Plume). */
export const MSAL_SCRIPT = '/addin/vendor/msal-browser.min.js';
/** The sign-in dialog page (same origin as the pane). */
export const DIALOG_PAGE = '/addin/common/signin-dialog.html';
/** Where the identity provider returns pages signed in outside Office (MSAL's redirect bridge). */
export const REDIRECT_BRIDGE_PAGE = '/addin/common/signin-redirect.html';
/** A token is renewed when it has less than this left (ms). */
const RENEW_MARGIN_MS = 5 * 60 * 1000;
/** Size of the sign-in dialog, in percent of the screen. */
const DIALOG_SIZE = { height: 60, width: 30 };
/** Office SSO errors that mean "this host cannot do SSO here": try the dialog instead. */
const SSO_UNAVAILABLE_CODES = new Set([13000, 13003, 13006, 13007, 13008, 13010, 13012, 13013]);
/** Office SSO error: the user dismissed the sign-in or consent prompt. */
const SSO_USER_ABORTED = 13002;
/** Office dialog event: the user closed the dialog. */
const DIALOG_CLOSED = 12006;
/**
 * Microsoft's own sign-in hosts: MSAL finds their metadata by itself. Any other authority (a
 * sovereign identity provider) must be declared to MSAL as known, or it refuses it.
 */
const MICROSOFT_LOGIN_HOSTS = new Set(['login.microsoftonline.com', 'login.microsoft.com',
  'login.windows.net', 'sts.windows.net', 'login.microsoftonline.us', 'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn']);
/** MSAL errors after which only an interactive sign-in can help. */
const INTERACTION_NEEDED = new Set(['interaction_required', 'login_required', 'consent_required',
  'no_tokens_found', 'no_account_error', 'monitor_window_timeout', 'refresh_token_expired',
  'bad_token']);
/** French sentences of the browser sign-in. */
const BROWSER_TEXT = Object.freeze({
  redirecting: 'Redirection vers la page de connexion de votre organisation…',
  failed: 'La connexion à votre compte a échoué. Rechargez la page pour réessayer.',
  refused: 'Connexion annulée ou refusée par votre organisation. Rechargez la page pour réessayer.',
  unavailable: "La connexion n'est pas disponible sur ce serveur Plume (bibliothèque de connexion absente).",
});

/** An error with a French sentence for the user (`userMessage`), as api.js expects. */
export class AuthError extends Error {
  /**
   * @param {string} userMessage French sentence to show.
   * @param {string} [detail] English detail for the console.
   */
  constructor(userMessage, detail = '') {
    super(detail || userMessage);
    this.name = 'AuthError';
    this.userMessage = userMessage;
  }
}

const state = {
  config: null,
  methods: [],
  msalApp: null,
  browserApp: null,
  browserError: null,
  token: null,
  expiresAt: 0,
  pending: null,
};

function office() {
  return globalThis.Office;
}

function supportsNaa() {
  const requirements = office() && office().context && office().context.requirements;
  try {
    return Boolean(requirements && requirements.isSetSupported('NestedAppAuth', '1.1'));
  } catch (_) {
    return false;
  }
}

function supportsSso() {
  return Boolean(office() && office().auth && typeof office().auth.getAccessToken === 'function');
}

function supportsDialog() {
  const ui = office() && office().context && office().context.ui;
  return Boolean(ui && typeof ui.displayDialogAsync === 'function');
}

/**
 * True inside an Office host. Office.js loaded in a plain browser defines `Office.context`
 * without a host, document or mailbox; a page without Office.js has no `Office` at all.
 */
export function inOfficeHost() {
  const context = office() && office().context;
  return Boolean(context && (context.host || context.mailbox || context.document));
}

/**
 * Prepares sign-in from `GET /api/v1/client-config`. In development mode nothing is needed.
 * @param {object} clientConfig `{auth_mode, client_id, tenant_id, api_scope, authority, dev_banner}`.
 * @returns {Promise<void>}
 */
export async function initAuth(clientConfig) {
  state.config = clientConfig || { auth_mode: 'dev' };
  state.token = null;
  state.expiresAt = 0;
  state.msalApp = null;
  state.browserApp = null;
  state.browserError = null;
  if (state.config.auth_mode === 'dev') {
    state.methods = [];
    return;
  }
  if (!state.config.client_id || !state.config.api_scope) {
    throw new AuthError("La connexion n'est pas configurée sur ce serveur Plume.",
      'client-config lacks client_id or api_scope');
  }
  if (!inOfficeHost()) {
    state.methods = ['browser'];
    await completeBrowserRedirect();
    return;
  }
  state.methods = [
    supportsNaa() && 'naa',
    supportsSso() && 'sso',
    supportsDialog() && 'dialog',
  ].filter(Boolean);
}

/**
 * The access token for the next API call; null in development mode.
 * @returns {Promise<string|null>}
 * @throws {AuthError} when no sign-in method succeeded (French `userMessage`).
 */
export async function getAccessToken() {
  if (!state.config) {
    throw new AuthError("La connexion n'a pas encore démarré. Réessayez dans un instant.",
      'getAccessToken() before initAuth()');
  }
  if (state.config.auth_mode === 'dev') return null;
  if (state.token && Date.now() < state.expiresAt - RENEW_MARGIN_MS) return state.token;
  if (!state.pending) {
    state.pending = acquire().finally(() => { state.pending = null; });
  }
  return state.pending;
}

/**
 * Forgets the cached token (call it when the server answered 401), so the next call signs in again.
 * @param {string} [refused] The token the server refused: when calls run side by side, a
 *   late 401 must not throw away the fresh token another call already fetched.
 */
export function invalidateToken(refused) {
  if (refused !== undefined && refused !== state.token) return;
  state.token = null;
  state.expiresAt = 0;
}

/** The sign-in methods this host offers, in the order they are tried (for diagnostics). */
export function signInMethods() {
  return [...state.methods];
}

async function acquire() {
  if (state.methods.length === 0) {
    throw new AuthError("Cette version d'Office ne permet pas de se connecter à Plume.",
      'no NAA, no Office SSO, no dialog API');
  }
  let lastError = null;
  for (const method of state.methods) {
    try {
      const { token, expiresAt } = await METHODS[method]();
      state.token = token;
      state.expiresAt = expiresAt;
      return token;
    } catch (err) {
      lastError = err;
      if (err && err.final) break; // the user said no: do not open another prompt
      console.warn(`Plume: sign-in by ${method} failed, trying the next way`, err);
    }
  }
  if (lastError instanceof AuthError) throw lastError;
  throw new AuthError('La connexion à votre compte a échoué. Réessayez.', String(lastError));
}

const METHODS = {
  naa: acquireWithNaa,
  sso: acquireWithOfficeSso,
  dialog: acquireWithDialog,
  browser: acquireInBrowser,
};

/**
 * Loads MSAL.js's browser build once (it defines `window.msal`).
 * @returns {Promise<object>} the `msal` namespace.
 */
export function loadMsal() {
  if (globalThis.msal) return Promise.resolve(globalThis.msal);
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = MSAL_SCRIPT;
    script.async = true;
    script.onload = () => (globalThis.msal ? resolve(globalThis.msal)
      : reject(new Error('msal-browser loaded without defining window.msal')));
    script.onerror = () => reject(new Error(`cannot load ${MSAL_SCRIPT} (run make to vendor MSAL.js)`));
    document.head.appendChild(script);
  });
}

/**
 * MSAL's configuration for a client-config: the tenant's authority (declared as known when it is
 * not one of Microsoft's hosts, or MSAL refuses it), tokens cached per tab. Shared by Nested App
 * Authentication, the browser sign-in and the sign-in dialog.
 * @param {{client_id: string, authority?: string}} config
 * @param {string} [redirectUri]
 * @returns {object}
 */
export function msalConfiguration(config, redirectUri) {
  const authority = config.authority || undefined;
  const url = authority ? new URL(authority) : null;
  return {
    auth: {
      clientId: config.client_id,
      authority,
      // MSAL compares known authorities by host and port.
      knownAuthorities: url && !MICROSOFT_LOGIN_HOSTS.has(url.hostname) ? [url.host] : [],
      ...(redirectUri ? { redirectUri } : {}),
    },
    cache: { cacheLocation: 'sessionStorage' },
  };
}

/**
 * MSAL's browser application for this page, created once, answered at the redirect bridge.
 * @returns {Promise<object>} a `PublicClientApplication`.
 */
async function browserApp() {
  if (state.browserApp) return state.browserApp;
  let msal;
  try {
    msal = await loadMsal();
  } catch (err) {
    const missing = new AuthError(BROWSER_TEXT.unavailable, String(err));
    missing.final = true;
    throw missing;
  }
  const app = new msal.PublicClientApplication(
    msalConfiguration(state.config, `${globalThis.location.origin}${REDIRECT_BRIDGE_PAGE}`));
  await app.initialize();
  state.browserApp = app;
  return app;
}

/**
 * On every page load outside Office: if the browser is coming back from the sign-in page (the
 * bridge left the answer in sessionStorage), MSAL redeems the code (PKCE) and the token is kept;
 * an error there is kept too, and shown by the next API call instead of sending the user round
 * again (no redirect loop).
 */
async function completeBrowserRedirect() {
  try {
    const app = await browserApp();
    const result = await app.handleRedirectPromise();
    if (result && result.account) app.setActiveAccount(result.account);
    if (result && result.accessToken) {
      const { token, expiresAt } = fromMsalResult(result);
      state.token = token;
      state.expiresAt = expiresAt;
    }
  } catch (err) {
    const code = (err && err.errorCode) || '';
    state.browserError = err instanceof AuthError ? err
      : new AuthError(code === 'access_denied' || code === 'user_cancelled' ? BROWSER_TEXT.refused
        : BROWSER_TEXT.failed, `browser sign-in: ${code || err}`);
    state.browserError.final = true;
  }
}

async function acquireInBrowser() {
  if (state.browserError) throw state.browserError;
  const app = await browserApp();
  const request = { scopes: [state.config.api_scope] };
  const account = app.getActiveAccount() || app.getAllAccounts()[0];
  if (account) {
    try {
      return fromMsalResult(await app.acquireTokenSilent({ ...request, account }));
    } catch (err) {
      if (!INTERACTION_NEEDED.has(err && err.errorCode)) {
        const failed = new AuthError(BROWSER_TEXT.failed, `acquireTokenSilent: ${err && (err.errorCode || err)}`);
        failed.final = true;
        throw failed;
      }
    }
  }
  announce(BROWSER_TEXT.redirecting);
  const redirect = { ...request, redirectStartPage: globalThis.location.href };
  await (account ? app.acquireTokenRedirect({ ...redirect, account }) : app.loginRedirect(redirect));
  // The browser is leaving for the sign-in page: callers wait instead of showing an error.
  return new Promise(() => {});
}

async function acquireWithNaa() {
  if (!state.msalApp) {
    const msal = await loadMsal();
    state.msalApp = await msal.createNestablePublicClientApplication(msalConfiguration(state.config));
  }
  const request = { scopes: [state.config.api_scope] };
  let result;
  try {
    result = await state.msalApp.acquireTokenSilent(request);
  } catch (silentError) {
    // Consent or interaction needed: the host shows its own prompt.
    result = await state.msalApp.acquireTokenPopup(request);
  }
  return fromMsalResult(result);
}

/** An MSAL result as `{ token, expiresAt }` (ms); also what the sign-in dialog sends back. */
export function fromMsalResult(result) {
  if (!result || !result.accessToken) throw new Error('MSAL returned no access token');
  const expiresOn = result.expiresOn ? new Date(result.expiresOn).getTime() : expiryOf(result.accessToken);
  return { token: result.accessToken, expiresAt: expiresOn };
}

async function acquireWithOfficeSso() {
  let token;
  try {
    token = await office().auth.getAccessToken({
      allowSignInPrompt: true,
      allowConsentPrompt: true,
      forMSGraphAccess: false,
    });
  } catch (err) {
    const code = err && Number(err.code);
    if (code === SSO_USER_ABORTED) {
      const aborted = new AuthError('Connexion annulée. Plume a besoin de votre compte pour fonctionner.',
        'Office SSO: user aborted');
      aborted.final = true;
      throw aborted;
    }
    if (SSO_UNAVAILABLE_CODES.has(code)) throw new Error(`Office SSO unavailable here (${code})`);
    throw new Error(`Office SSO failed (${code || 'unknown'})`);
  }
  return { token, expiresAt: expiryOf(token) };
}

function acquireWithDialog() {
  return new Promise((resolve, reject) => {
    const url = `${globalThis.location.origin}${DIALOG_PAGE}`;
    office().context.ui.displayDialogAsync(url, { ...DIALOG_SIZE, displayInIframe: false }, (opened) => {
      if (opened.status !== 'succeeded') {
        reject(new Error(`dialog could not open (${opened.error && opened.error.code})`));
        return;
      }
      const dialog = opened.value;
      const messageEvent = (office().EventType && office().EventType.DialogMessageReceived)
        || 'dialogMessageReceived';
      const closedEvent = (office().EventType && office().EventType.DialogEventReceived)
        || 'dialogEventReceived';
      dialog.addEventHandler(messageEvent, (arg) => {
        if (arg.origin && arg.origin !== globalThis.location.origin) return; // not our page
        dialog.close();
        let message;
        try {
          message = JSON.parse(arg.message);
        } catch (_) {
          reject(new Error('sign-in dialog sent an unreadable message'));
          return;
        }
        if (message.status === 'ok' && message.token) {
          resolve({ token: message.token, expiresAt: message.expiresAt || expiryOf(message.token) });
        } else {
          const failed = new AuthError(message.message || 'La connexion à votre compte a échoué. Réessayez.',
            `sign-in dialog: ${message.error || 'failed'}`);
          failed.final = true;
          reject(failed);
        }
      });
      dialog.addEventHandler(closedEvent, (arg) => {
        const closed = new AuthError(
          arg && arg.error === DIALOG_CLOSED ? 'Connexion annulée : la fenêtre de connexion a été fermée.'
            : 'La fenêtre de connexion a rencontré un problème. Réessayez.',
          `sign-in dialog event ${arg && arg.error}`);
        closed.final = true;
        reject(closed);
      });
    });
  });
}

/**
 * Expiry (ms since epoch) read from a JWT's `exp`, only to know when to renew it; the server
 * verifies the token. Unknown: treat it as valid for five more minutes.
 * @param {string} token
 * @returns {number}
 */
export function expiryOf(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(payload.padEnd(payload.length + ((4 - (payload.length % 4)) % 4), '=')));
    if (typeof claims.exp === 'number') return claims.exp * 1000;
  } catch (_) {
    // not a JWT: fall through
  }
  return Date.now() + RENEW_MARGIN_MS * 2;
}
