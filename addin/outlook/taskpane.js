/**
 * Entry of the Outlook pane: waits for Office, signs in, then shows read mode (Résumer,
 * Pièces jointes, Orientation) or compose mode (Rédiger une réponse) for the item on screen.
 * @module outlook/taskpane
 */
import { startSession } from '../common/api.js';
import { followOfficeTheme, whenOfficeReady } from '../common/host.js';
import { h } from '../common/render.js';
import { message, setupTabs, showBanners } from '../common/widgets.js';
import { setupAttachments } from './attachments.js';
import { setupCompose } from './compose.js';
import { itemMode } from './mailbox.js';
import { setupOrientation } from './orientation.js';
import { problemBox } from './problems.js';
import { setupSummary } from './summary.js';

/**
 * A pinned pane stays open while the clerk moves to another message: start again on the new
 * one, so no summary of the previous mail is ever shown next to the next.
 */
function followItemChanges() {
  const mailbox = Office.context.mailbox;
  if (Office.EventType && Office.EventType.ItemChanged && typeof mailbox.addHandlerAsync === 'function') {
    mailbox.addHandlerAsync(Office.EventType.ItemChanged, () => globalThis.location.reload());
  }
}

async function main() {
  const startup = document.getElementById('startup');
  try {
    await whenOfficeReady();
  } catch (err) {
    startup.replaceChildren(message('error', err.message));
    return;
  }
  followOfficeTheme();

  const mode = itemMode();
  if (mode === 'none') {
    startup.replaceChildren(message('warning', 'Ouvrez un message pour utiliser Plume.'));
    return;
  }

  let clientConfig = null;
  try {
    clientConfig = await startSession();
  } catch (err) {
    startup.replaceChildren(problemBox(err, {}, { onRetry: () => globalThis.location.reload() }));
    return;
  }
  await showBanners(document.getElementById('banners'), clientConfig);

  followItemChanges();
  startup.hidden = true;
  document.body.dataset.mode = mode;
  if (mode === 'read') {
    document.getElementById('read-mode').hidden = false;
    setupTabs(document.querySelector('#read-mode [role="tablist"]'));
    setupSummary();
    setupAttachments();
    setupOrientation();
  } else {
    document.getElementById('compose-mode').hidden = false;
    setupCompose();
  }
  document.body.dataset.ready = 'true';
}

main().catch((err) => {
  document.getElementById('startup').replaceChildren(h('div', null, problemBox(err)));
});
