/**
 * Entry point of the Word task pane: waits for Office, starts sign-in, shows the banners
 * (development mode, demonstration model, what this Word version cannot do) and wires the
 * five panels.
 * @module word/word
 */
import { startSession } from '../common/api.js';
import { describeError } from '../common/errors.js';
import { followOfficeTheme, whenOfficeReady } from '../common/host.js';
import { h } from '../common/render.js';
import { message, setupTabs, showBanners } from '../common/widgets.js';
import { setupDraft, setupRewrite, setupSummarize } from './assist.js';
import { capabilities } from './document.js';
import { setupPseudonymize } from './pseudonymize.js';
import { setupSearch } from './search.js';
import { setupTranscribe } from './transcribe.js';

/**
 * French notices for the requirement sets this Word lacks (the pane degrades, never fails).
 * @param {{read: boolean, tracking: boolean, comments: boolean, footnotes: boolean}} caps
 * @returns {HTMLElement[]}
 */
export function capabilityNotices(caps) {
  const notices = [];
  if (!caps.read) {
    notices.push(message('error', "Cette version de Word est trop ancienne pour que Plume lise ou modifie le document (WordApi 1.1 requis). La recherche reste disponible en saisissant votre question.", { dataset: { banner: 'capability-read' } }));
    return notices;
  }
  if (!caps.tracking) {
    notices.push(message('warning', "Cette version de Word ne permet pas à Plume d'activer le suivi des modifications ni d'ajouter des commentaires (WordApi 1.4) : le texte inséré restera signalé par un cadre « IA », activez vous-même le suivi des modifications.", { dataset: { banner: 'capability-tracking' } }));
  }
  if (!caps.footnotes) {
    notices.push(message('info', 'Les notes de bas de page ne sont pas prises en charge par cette version de Word (WordApi 1.5) : les citations seront insérées entre parenthèses dans le texte.', { dataset: { banner: 'capability-footnotes' } }));
  }
  return notices;
}

async function main() {
  const startup = document.getElementById('startup');
  const banners = document.getElementById('banners');
  try {
    await whenOfficeReady();
  } catch (err) {
    startup.replaceChildren(message('error', err.message));
    return;
  }
  followOfficeTheme();
  let clientConfig = null;
  try {
    clientConfig = await startSession();
  } catch (err) {
    const info = describeError(err);
    startup.replaceChildren(message('error', [h('strong', null, info.title), h('p', null, info.message), h('p', null, info.action)]));
    return;
  }
  setupTabs(document.querySelector('[role="tablist"]'));
  setupSearch();
  setupSummarize();
  setupDraft();
  setupRewrite();
  setupTranscribe();
  setupPseudonymize();
  await showBanners(banners, clientConfig, capabilityNotices(capabilities()));
  startup.hidden = true;
  document.getElementById('app').hidden = false;
  document.body.dataset.ready = 'true';
}

main();
