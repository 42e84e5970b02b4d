/**
 * What sign-in is doing, told to the page: auth.js announces, pages show.
 *
 * A module of its own so that neither api.js nor auth.js imports the other for it: api.js
 * loads auth.js (dynamically, so a page still works when sign-in cannot load), and auth.js
 * needs nothing from api.js.
 * @module common/signin-status
 */

/** Event carrying a sign-in status (`detail.message`, French). */
export const STATUS_EVENT = 'plume:auth-status';

/**
 * Tells the page what sign-in is doing (a page opened in a plain browser may leave for the
 * organisation's sign-in page).
 * @param {string} message French sentence.
 */
export function announceSignIn(message) {
  globalThis.dispatchEvent(new CustomEvent(STATUS_EVENT, { detail: { message } }));
}

/**
 * Calls `show(message)` with each sign-in status.
 * @param {(message: string) => void} show
 */
export function onSignInStatus(show) {
  window.addEventListener(STATUS_EVENT, (event) => show(event.detail.message));
}
