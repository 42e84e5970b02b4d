/**
 * Entry of the Outlook pane: waits for Office, signs in, then shows read mode (Résumer,
 * Pièces jointes, Orientation) or compose mode (Rédiger une réponse) for the item on screen.
 * @module outlook/taskpane
 */
import { getMe, getModels, startSession } from '../common/api.js';
import { followOfficeTheme, whenOfficeReady } from '../common/host.js';
import { setupShortcuts } from '../common/keyboard.js';
import { h, typesetPage } from '../common/render.js';
import { refusedPanels, setupTabs } from '../common/tabs.js';
import { BANNERS_WAIT_MS, message, showBanners } from '../common/widgets.js';
import { setupAttachments } from './attachments.js';
import { setupCompose } from './compose.js';
import { refuseDossierWithoutFiles, setupDossier } from './dossier.js';
import { itemMode } from './mailbox.js';
import { setupOrientation } from './orientation.js';
import { problemBox } from './problems.js';
import { setupSummary } from './summary.js';
import { setupMailTranslation } from './translation.js';

/** What each read-mode panel needs (Orientation is a greffe page, also open to administrators). */
export const READ_PANELS = {
  'panel-summary': { task: 'mail-summary' },
  'panel-attachments': { task: 'attachment-summary' },
  'panel-routing': { roles: ['Plume.Greffier', 'Plume.Admin'] },
  'panel-dossier': { roles: ['Plume.Greffier'] },
};

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
  typesetPage(); // the page as written, in French typography; what comes later goes through h()
  const startup = document.getElementById('startup');
  try {
    await whenOfficeReady();
  } catch (err) {
    startup.replaceChildren(message('error', err.message));
    return;
  }
  followOfficeTheme();
  setupShortcuts();

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
  const late = new Promise((resolve) => { setTimeout(resolve, BANNERS_WAIT_MS, null); });
  const [me] = await Promise.all([Promise.race([getMe(), late]), showBanners(document.getElementById('banners'), clientConfig)]);
  const models = await Promise.race([getModels(), late]);

  followItemChanges();
  startup.hidden = true;
  document.body.dataset.mode = mode;
  if (mode === 'read') {
    const refused = refuseDossierWithoutFiles(refusedPanels(me, models, READ_PANELS));
    if (refused && refused.size === Object.keys(READ_PANELS).length) {
      startup.replaceChildren(message('warning', "Votre rôle ne donne accès à aucune fonction de Plume dans Outlook : demandez à votre administrateur Plume de vous attribuer le rôle de greffier."));
      startup.hidden = false;
      document.body.dataset.ready = 'true';
      return;
    }
    document.getElementById('read-mode').hidden = false;
    setupTabs(document.querySelector('#read-mode [role="tablist"]')).restrict(refused);
    setupSummary();
    setupMailTranslation();
    setupAttachments();
    setupOrientation();
    setupDossier();
  } else {
    if (me && Array.isArray(me.tasks) && !me.tasks.includes('mail-reply')) {
      startup.replaceChildren(message('warning', "Votre rôle ne permet pas de rédiger une réponse avec Plume : demandez à votre administrateur Plume de vous attribuer le rôle de greffier."));
      startup.hidden = false;
      document.body.dataset.ready = 'true';
      return;
    }
    document.getElementById('compose-mode').hidden = false;
    setupCompose();
  }
  document.body.dataset.ready = 'true';
}

main().catch((err) => {
  document.getElementById('startup').replaceChildren(h('div', null, problemBox(err)));
});
