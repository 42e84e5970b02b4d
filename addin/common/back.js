/**
 * « ← Retour » on the pages opened outside the panes (Observatoire, À propos): back to the
 * Plume page the user came from in this tab; otherwise the button stays hidden and the
 * page's note says the tab can simply be closed.
 *
 * Plume sends no referrer (Referrer-Policy) and a tab's history may hold anything, so each
 * page leaves its address in the tab's session storage for the next one to read.
 * @module common/back
 */

/** Session-storage key of the last Plume page shown in this tab. */
export const LAST_PAGE_KEY = 'plume:last-page';

/**
 * Shows and wires `#back` when the previous page of this tab was another Plume page.
 * @param {Document} [doc]
 * @returns {boolean} whether the button is offered.
 */
export function setupBack(doc = document) {
  const here = globalThis.location.pathname;
  let previous = null;
  try {
    previous = globalThis.sessionStorage.getItem(LAST_PAGE_KEY);
    globalThis.sessionStorage.setItem(LAST_PAGE_KEY, here);
  } catch (err) {
    previous = null; // storage refused: no button rather than a wrong one
  }
  const offered = Boolean(previous) && previous !== here && globalThis.history.length > 1;
  const button = doc.getElementById('back');
  if (button) {
    button.hidden = !offered;
    if (offered) button.addEventListener('click', () => globalThis.history.back());
  }
  const note = doc.getElementById('back-note');
  if (note) note.hidden = offered;
  return offered;
}
