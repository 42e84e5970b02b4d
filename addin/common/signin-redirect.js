/**
 * Where the identity provider sends the browser back after sign-in, for the pages that sign
 * in by themselves outside Office (observatory, « À propos de Plume »; see auth.js). It is
 * MSAL.js's "redirect bridge": after a full-page sign-in it keeps the answer for MSAL and
 * returns to the page that started it; inside MSAL's hidden frame (silent renewal of an
 * expired token) it hands the answer to that page. One redirect URI serves every page, and
 * this page never calls Plume's API.
 * @module common/signin-redirect
 */

const FAILED = 'La connexion à votre compte a échoué. Revenez à la page de Plume et rechargez-la.';

const status = document.getElementById('status');

async function bridge() {
  if (!globalThis.msalRedirectBridge) throw new Error('MSAL redirect bridge is not served at /addin/vendor/');
  await globalThis.msalRedirectBridge.broadcastResponseToMainFrame();
}

bridge().catch((err) => {
  console.warn('Plume: sign-in answer could not be handed over', err);
  status.textContent = FAILED;
  status.classList.add('plume-message--error');
});
