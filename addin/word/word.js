/**
 * Entry point of the Word task pane: waits for Office, starts sign-in, shows the banners
 * (development mode, demonstration model, what this Word version cannot do) and wires the
 * seven panels.
 * @module word/word
 */
import { getMe, getModels, startSession } from '../common/api.js';
import { renderError } from '../common/errors.js';
import { followOfficeTheme, whenOfficeReady } from '../common/host.js';
import { setupShortcuts } from '../common/keyboard.js';
import { h, setText, typesetPage } from '../common/render.js';
import { refusedPanels, setupTabs } from '../common/tabs.js';
import { BANNERS_WAIT_MS, message, showBanners } from '../common/widgets.js';
import { setupDraft, setupRewrite, setupSummarize } from './assist.js';
import { capabilities } from './document.js';
import { setupDossier } from './dossier.js';
import { setupPseudonymize } from './pseudonymize.js';
import { setupSearch } from './search.js';
import { setupTranscribe } from './transcribe.js';
import { setupTranslate } from './translate.js';

/**
 * What each panel needs: a task the user's role allows, and for Transcrire a model on the server.
 * Pseudonymiser is a task the server keeps out of `/me`'s list (it is reached from a tab of its
 * own, like Orientation in Outlook), so its rule names the roles the server lets through instead;
 * it needs no language model (the detection runs on the server's own engine).
 */
export const WORD_PANELS = {
  'panel-search': { task: 'search' },
  'panel-summarize': { task: 'summarize' },
  'panel-draft': { task: 'draft' },
  'panel-rewrite': { task: 'rewrite' },
  'panel-transcribe': { task: 'transcribe', model: true },
  'panel-dossier': { roles: ['Plume.Magistrat'] },
  'panel-pseudonymize': { roles: ['Plume.Magistrat', 'Plume.Greffier'] },
  'panel-translate': { task: 'translate' },
};

/**
 * French notices for the requirement sets this Word lacks (the pane degrades, never fails).
 * @param {{read: boolean, tracking: boolean, comments: boolean, footnotes: boolean}} caps
 * @returns {HTMLElement[]}
 */
export function capabilityNotices(caps) {
  const notices = [];
  if (!caps.read) {
    notices.push(message('error', "Cette version de Word est trop ancienne pour que Plume lise ou modifie le document. La recherche reste disponible en saisissant votre question.", { dataset: { banner: 'capability-read', requirement: 'WordApi 1.1' } }));
    return notices;
  }
  if (!caps.tracking) {
    notices.push(message('warning', "Cette version de Word ne permet pas à Plume d'activer le suivi des modifications ni d'ajouter des commentaires : le texte inséré restera signalé par un cadre « IA », activez vous-même le suivi des modifications.", { dataset: { banner: 'capability-tracking', requirement: 'WordApi 1.4' } }));
  }
  if (!caps.footnotes) {
    notices.push(message('info', 'Les notes de bas de page ne sont pas prises en charge par cette version de Word : les citations seront insérées entre parenthèses dans le texte.', { dataset: { banner: 'capability-footnotes', requirement: 'WordApi 1.5' } }));
  }
  return notices;
}

async function main() {
  typesetPage(); // the page as written, in French typography; what comes later goes through h()
  const startup = document.getElementById('startup');
  const banners = document.getElementById('banners');
  try {
    await whenOfficeReady();
  } catch (err) {
    startup.replaceChildren(message('error', err.message));
    return;
  }
  followOfficeTheme();
  setupShortcuts();
  let clientConfig = null;
  try {
    clientConfig = await startSession();
  } catch (err) {
    startup.replaceChildren(renderError(err, { onRetry: () => globalThis.location.reload() }));
    return;
  }
  const tabs = setupTabs(document.querySelector('[role="tablist"]'));
  setupSearch();
  setupSummarize();
  setupDraft();
  setupRewrite();
  setupTranscribe();
  setupDossier();
  setupPseudonymize();
  setupTranslate();
  // Who the user is decides the tabs: read it before the pane shows, so no tab moves later.
  const late = new Promise((resolve) => { setTimeout(resolve, BANNERS_WAIT_MS, null); });
  const [me] = await Promise.all([Promise.race([getMe(), late]),
    showBanners(banners, clientConfig, capabilityNotices(capabilities()))]);
  if (me && Array.isArray(me.roles) && !me.roles.includes('Plume.Magistrat') && me.roles.includes('Plume.Greffier')) {
    setText(document.querySelector('.plume-header__subtitle'), 'Assistant du greffe');
  }
  const left = tabs.restrict(refusedPanels(me, await Promise.race([getModels(), late]), WORD_PANELS));
  if (left === 0) {
    startup.replaceChildren(message('warning', "Votre rôle ne donne accès à aucune fonction de Plume dans Word : demandez à votre administrateur Plume de vous attribuer le rôle adéquat."));
    document.body.dataset.ready = 'true';
    return;
  }
  startup.hidden = true;
  document.getElementById('app').hidden = false;
  document.body.dataset.ready = 'true';
}

main();
