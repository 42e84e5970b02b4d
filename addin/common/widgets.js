/**
 * Small pieces of pane UI shared by Word and Outlook: tabs (from tabs.js), banners (development
 * mode, demonstration model), the « suggestion à vérifier » notice, status line and the
 * 👍/👎 feedback bar.
 * @module common/widgets
 */
import { getModels, sendFeedback } from './api.js';
import { userText } from './messagebar.js';
import { h, setText } from './render.js';

/** The oversight notice shown under every generated answer. */
export const OVERSIGHT_NOTICE = "Texte proposé par une IA : c'est une suggestion. Relisez-le et vérifiez chaque information et chaque citation avant de l'utiliser.";

export { setupTabs } from './tabs.js';

/**
 * A message box. `kind`: `info`, `warning`, `success` or `error`.
 * @param {'info'|'warning'|'success'|'error'} kind
 * @param {string|Node|Array} content
 * @param {object} [props] Extra props for the box (e.g. `dataset`).
 * @returns {HTMLElement}
 */
export function message(kind, content, props = {}) {
  const role = kind === 'error' ? 'alert' : 'status';
  return h('div', { role, ...props, className: `plume-message plume-message--${kind}` }, content);
}

/**
 * Fills `container` with the development-mode banner (`client-config.dev_banner`) and the
 * demonstration-model notice (`models.notice` when `demo`, or when no model is configured).
 * @param {HTMLElement} container
 * @param {{clientConfig?: object|null, models?: object|null, extra?: HTMLElement[]}} sources
 */
export function renderBanners(container, { clientConfig, models, extra = [] }) {
  const banners = [];
  if (clientConfig && clientConfig.dev_banner) {
    banners.push(message('warning', clientConfig.dev_banner, { dataset: { banner: 'dev' } }));
  }
  if (models && models.notice) {
    // The notice names the server setting to fill: the administrator needs it, the user does not.
    banners.push(message(models.demo ? 'info' : 'warning', userText(models.notice, "Le service d'IA n'est pas encore configuré sur ce serveur."),
      { dataset: { banner: 'models' } }));
  }
  banners.push(...extra);
  container.replaceChildren(...banners);
  container.hidden = banners.length === 0;
}

/** How long a pane waits for the model list before it shows itself (ms). */
export const BANNERS_WAIT_MS = 2000;

/**
 * Renders the banners before the pane shows itself, waiting up to `BANNERS_WAIT_MS` for the
 * model list: the banners sit above the tabs, and one appearing later would move a tab (or a
 * button) under the user's pointer. A model list that comes later still updates them.
 * @param {HTMLElement} container
 * @param {object|null} clientConfig
 * @param {HTMLElement[]} [extra] Further notices, kept after the others.
 * @returns {Promise<void>}
 */
export async function showBanners(container, clientConfig, extra = []) {
  const loading = getModels();
  const late = Symbol('late');
  const models = await Promise.race([loading, new Promise((resolve) => { setTimeout(resolve, BANNERS_WAIT_MS, late); })]);
  renderBanners(container, { clientConfig, models: models === late ? null : models, extra });
  if (models === late) loading.then((answer) => renderBanners(container, { clientConfig, models: answer, extra }));
}

/** Said first in the notice of an answer from the demonstration model. */
export const DEMO_NOTICE = 'Réponse du modèle de démonstration : sa qualité est limitée, elle sert à essayer Plume, pas à travailler.';

/**
 * The one AI notice of an answer (« suggestion à vérifier »), which says first, when the
 * demonstration model answered, that it did: one notice, not two stacked.
 * @param {{demo?: boolean}} [options]
 * @returns {HTMLElement}
 */
export function oversightNotice({ demo = false } = {}) {
  if (!demo) return h('p', { className: 'plume-oversight', role: 'note' }, OVERSIGHT_NOTICE);
  return h('p', { className: 'plume-oversight', role: 'note', dataset: { notice: 'demo' } },
    h('strong', null, DEMO_NOTICE), ' ', OVERSIGHT_NOTICE);
}

/**
 * Sets the status line (polite live region) of a panel.
 * @param {HTMLElement} element
 * @param {string} text
 */
export function setStatus(element, text) {
  setText(element, text);
}

/** Longest comment the server records (backend/api/feedback.py, MAX_COMMENT_CHARS). */
export const MAX_COMMENT_CHARS = 1000;

let feedbackBars = 0;

/**
 * 👍/👎 buttons for an answer, then a comment box. Each click sends `POST /api/v1/feedback`
 * with `useful` at once (a rating must not wait for a comment the user may never write);
 * the comment goes on its own, with `useful: null`, so that one rating is counted once.
 * Comments are read by the administrators in the observatory (« Derniers commentaires »).
 * One bar may stand for several answers given together (Outlook's attachments): each click
 * is then sent for each of them.
 * @param {string|string[]} interactionId
 * @param {{question?: string}} [options] The question asked (« Cette réponse vous a-t-elle aidé ? »).
 * @returns {HTMLElement}
 */
export function feedbackBar(interactionId, { question = 'Cette réponse vous a-t-elle aidé ?' } = {}) {
  const ids = [].concat(interactionId).filter(Boolean);
  const sendAll = async (body) => (await Promise.all(ids.map((id) => sendFeedback({ ...body, interaction_id: id })))).every(Boolean);
  feedbackBars += 1;
  const commentId = `feedback-comment-${feedbackBars}`;
  const thanks = h('span', { className: 'plume-feedback__thanks', role: 'status' });
  const commentStatus = h('span', { className: 'plume-feedback__comment-status', role: 'status' });
  const box = h('textarea', {
    id: commentId, className: 'plume-textarea plume-feedback__text', rows: '2', maxLength: String(MAX_COMMENT_CHARS),
    placeholder: 'Ex. : la jurisprudence citée est ancienne',
  });
  const sendComment = h('button', { type: 'button', className: 'plume-button plume-button--small', dataset: { action: 'send-comment' } },
    'Envoyer le commentaire');
  const commentForm = h('div', { className: 'plume-feedback__comment', hidden: true },
    h('label', { htmlFor: commentId, className: 'plume-label' }, 'Un commentaire ? (facultatif, sans donnée personnelle)'),
    box, h('div', { className: 'plume-actions' }, sendComment, commentStatus));
  const send = async (useful, button, other) => {
    button.setAttribute('aria-pressed', 'true');
    other.setAttribute('aria-pressed', 'false');
    commentForm.hidden = false;
    const ok = await sendAll({ useful, comment: null, outcome: null });
    setText(thanks, ok ? 'Merci pour votre avis.' : "Votre avis n'a pas pu être envoyé.");
  };
  sendComment.addEventListener('click', async () => {
    const comment = box.value.trim();
    if (!comment) {
      setText(commentStatus, "Écrivez votre commentaire avant de l'envoyer.");
      box.focus();
      return;
    }
    sendComment.disabled = true;
    const ok = await sendAll({ useful: null, comment, outcome: null });
    if (ok) {
      box.readOnly = true;
      setText(commentStatus, 'Commentaire envoyé, merci.');
    } else {
      sendComment.disabled = false;
      setText(commentStatus, "Le commentaire n'a pas pu être envoyé. Réessayez.");
    }
  });
  const up = h('button', { type: 'button', className: 'plume-button plume-button--icon', 'aria-pressed': 'false', 'aria-label': 'Réponse utile', title: 'Réponse utile' }, '👍');
  const down = h('button', { type: 'button', className: 'plume-button plume-button--icon', 'aria-pressed': 'false', 'aria-label': 'Réponse peu utile', title: 'Réponse peu utile' }, '👎');
  up.addEventListener('click', () => send(true, up, down));
  down.addEventListener('click', () => send(false, down, up));
  return h('div', { className: 'plume-feedback', dataset: { interaction: ids.join(' ') } },
    h('span', { className: 'plume-feedback__label' }, question), up, down, thanks, commentForm);
}
