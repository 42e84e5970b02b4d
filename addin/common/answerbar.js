/**
 * The one action bar under every answer, in both panes: Copier, Régénérer, Affiner (« plus
 * court », « plus ferme » or the user's words), then the pane's Insérer and Écarter.
 *
 * Affiner reruns the same task with the previous answer as context, through the fields every
 * task already accepts (no new API field): the previous answer goes at the end of `text`,
 * which the server fences as data, and the request goes in `instructions`. Model output never
 * lands outside the fence, so an injected sentence it may have echoed stays data.
 * @module common/answerbar
 */
import { copyText } from './clipboard.js';
import { h } from './render.js';
import { setStatus } from './widgets.js';

/** Line that opens the previous answer inside the fenced text. */
export const PREVIOUS_ANSWER_LINE = '--- Réponse précédente de Plume, à retravailler ---';
/** Longest `instructions` the server accepts (backend/llm/tasks.py, MAX_INSTRUCTIONS_CHARS). */
export const MAX_INSTRUCTIONS_CHARS = 4000;
/** Longest refinement the user may type. */
export const MAX_REFINEMENT_CHARS = 300;
/** The ready-made refinements: label shown, words sent. */
export const REFINEMENTS = [
  { label: 'Plus court', words: 'plus court' },
  { label: 'Plus ferme', words: 'plus ferme' },
];

/**
 * The body that reruns `payload` with `previous` as context and `refinement` as the request.
 * Every other field (tone, length, subject…) is kept as it was.
 * @param {object} payload The body of the run that produced `previous`.
 * @param {string} previous The previous answer (model text).
 * @param {string} refinement e.g. « plus court ».
 * @returns {object}
 */
export function refinePayload(payload, previous, refinement) {
  const ask = `Retravaille ta réponse précédente, placée à la fin des données après la ligne « ${PREVIOUS_ANSWER_LINE} », `
    + `selon cette demande : ${refinement.trim()}. Donne la nouvelle version complète, sans commentaire.`;
  const room = MAX_INSTRUCTIONS_CHARS - ask.length - 2;
  const first = (payload.instructions || '').slice(0, Math.max(0, room));
  return {
    ...payload,
    text: [payload.text || '', `${PREVIOUS_ANSWER_LINE}\n${previous}`].filter(Boolean).join('\n\n'),
    instructions: first ? `${first}\n\n${ask}` : ask,
  };
}

let bars = 0;

/**
 * The action bar of one answer.
 * @param {object} options
 * @param {() => string} options.text The answer as plain text (what Copier copies).
 * @param {HTMLElement} options.status Status line where Copier says what it did.
 * @param {() => void} [options.onRegenerate] Absent: no « Régénérer ».
 * @param {(refinement: string) => void} [options.onRefine] Absent: no « Affiner ».
 * @param {HTMLElement|null} [options.insert] The pane's insert button (primary), if any.
 * @param {() => void} options.onDiscard « Écarter ».
 * @returns {{element: HTMLElement, discard: HTMLButtonElement}}
 */
export function answerBar({ text, status, onRegenerate, onRefine, insert = null, onDiscard }) {
  bars += 1;
  const refineId = `refine-${bars}`;
  const copy = h('button', { type: 'button', className: 'plume-button plume-button--small', dataset: { action: 'copy' } }, 'Copier');
  copy.addEventListener('click', async () => {
    const ok = await copyText(text());
    setStatus(status, ok ? 'Réponse copiée dans le presse-papiers.' : 'Copie impossible : sélectionnez le texte à la main.');
  });
  const tools = [copy];
  if (onRegenerate) {
    tools.push(h('button', {
      type: 'button', className: 'plume-button plume-button--small', dataset: { action: 'regenerate' },
      on: { click: () => onRegenerate() },
    }, 'Régénérer'));
  }
  let refineForm = null;
  if (onRefine) {
    const toggle = h('button', {
      type: 'button', className: 'plume-button plume-button--small', dataset: { action: 'refine' },
      'aria-expanded': 'false', 'aria-controls': refineId,
    }, 'Affiner…');
    const field = h('input', {
      id: `${refineId}-text`, className: 'plume-input', type: 'text', maxLength: String(MAX_REFINEMENT_CHARS),
      placeholder: 'Ex. : citer l’article 1240 du code civil', autocomplete: 'off',
    });
    const go = (words) => {
      if (!words.trim()) {
        setStatus(status, 'Écrivez comment affiner la réponse, ou choisissez « Plus court » ou « Plus ferme ».');
        field.focus();
        return;
      }
      onRefine(words.trim());
    };
    const presets = REFINEMENTS.map(({ label, words }) => h('button', {
      type: 'button', className: 'plume-button plume-button--small plume-chip', dataset: { refine: words },
      on: { click: () => go(words) },
    }, label));
    refineForm = h('form', { id: refineId, className: 'plume-refine', hidden: true, novalidate: true },
      h('div', { className: 'plume-actions' }, presets),
      h('label', { htmlFor: field.id, className: 'plume-label' }, 'Ou dites comment la changer'),
      h('div', { className: 'plume-refine__row' }, field,
        h('button', { type: 'submit', className: 'plume-button plume-button--small', dataset: { action: 'refine-run' } }, 'Affiner')));
    refineForm.addEventListener('submit', (event) => {
      event.preventDefault();
      go(field.value);
    });
    toggle.addEventListener('click', () => {
      const open = refineForm.hidden;
      refineForm.hidden = !open;
      toggle.setAttribute('aria-expanded', String(open));
      if (open) refineForm.querySelector('button').focus();
    });
    tools.push(toggle);
  }
  const discard = h('button', { type: 'button', className: 'plume-button', dataset: { action: 'discard' } }, 'Écarter');
  discard.addEventListener('click', () => onDiscard());
  const element = h('div', { className: 'plume-answerbar', role: 'group', 'aria-label': 'Actions sur la réponse' },
    h('div', { className: 'plume-actions plume-answerbar__tools' }, tools),
    refineForm,
    h('div', { className: 'plume-actions' }, insert, discard));
  return { element, discard };
}
