/**
 * Word « Dossier »: the magistrate adds the files of a case (multi-select or drag and drop),
 * sees their inventory and the estimate, starts the synthesis, and inserts the result into the
 * open document the way every task does (word/generation.js `insertChoices`: tracked, in the
 * « Texte généré par IA » content control, with a comment naming the files).
 * The panel itself is common/dossier.js.
 * @module word/dossier
 */
import { DossierPanel } from '../common/dossier.js';
import { DOSSIER_EXTENSIONS } from '../common/dossier-api.js';
import { synthesisText } from '../common/dossier-render.js';
import { h } from '../common/render.js';
import { message, setStatus } from '../common/widgets.js';
import { insertChoices, sourcesComment } from './generation.js';

/** Most files one dossier takes from the pane (the server has its own limits, in French). */
export const MAX_FILES = 200;

/**
 * The comment beside the inserted synthesis: what produced it and from which files.
 * @param {object} dossier
 * @param {object} synthesis
 * @returns {string}
 */
export function dossierComment(dossier, synthesis) {
  const files = (dossier.inventory || []).filter((f) => !f.error).map((f) => `« ${f.name} »`);
  return sourcesComment({
    what: `Synthèse du dossier « ${dossier.title || synthesis.title || 'sans titre'} »`,
    model: (synthesis.model && synthesis.model.name) || null,
    sources: files.length ? [`Fichiers du dossier : ${files.join(', ')}.`] : [],
  });
}

/** Wires the Dossier panel. */
export function setupDossier() {
  const panel = document.getElementById('panel-dossier');
  if (!panel) return;
  let chosen = [];

  const input = h('input', {
    id: 'dossier-files', className: 'plume-visually-hidden', type: 'file', multiple: true,
    accept: DOSSIER_EXTENSIONS.map((e) => `.${e}`).join(','), 'aria-describedby': 'dossier-drop-hint',
  });
  const chosenList = h('ul', { id: 'dossier-chosen', className: 'dossier-chosen', 'aria-label': 'Fichiers choisis' });
  const title = h('input', { id: 'dossier-title-input', className: 'plume-input', type: 'text', maxLength: '200', autocomplete: 'off',
    placeholder: 'Ex. : RG 24/01234 – Dupont c/ Immobilière du Rhône' });
  const prepare = h('button', { id: 'dossier-prepare', type: 'button', className: 'plume-button plume-button--primary',
    dataset: { shortcut: 'run' }, 'aria-keyshortcuts': 'Control+Enter' }, 'Préparer le dossier');
  const drop = h('div', { id: 'dossier-drop', className: 'dossier-drop' },
    h('div', { className: 'plume-file' }, input, h('label', { htmlFor: 'dossier-files', className: 'plume-button' }, 'Ajouter des fichiers…')),
    h('p', { id: 'dossier-drop-hint', className: 'plume-hint' }, 'Ou déposez-les ici. PDF (même numérisés), Word (.docx), OpenDocument (.odt), texte (.txt), courriels (.eml, .msg, pièces jointes comprises), images (.jpg, .png, .tiff).'));
  const form = h('section', { className: 'dossier-view', 'aria-labelledby': 'dossier-new-title' },
    h('h2', { id: 'dossier-new-title', className: 'dossier-heading__title' }, 'Nouveau dossier'),
    drop, chosenList,
    h('div', { className: 'plume-field' }, h('label', { htmlFor: 'dossier-title-input' }, 'Titre (facultatif)'), title),
    h('div', { className: 'plume-actions' }, prepare));

  const dossier = new DossierPanel(panel, {
    intro: 'Synthèse d’un dossier entier (conclusions, pièces, procès-verbaux, scans) : faits datés, procédure, prétentions, points à trancher, chaque point renvoyant à sa page.',
    home: [form],
    resultActions: ({ dossier: current, synthesis, status, close, interactionId, regenerate, refine }) => insertChoices({
      label: 'Insérer dans le document',
      text: () => synthesisText(synthesis),
      location: 'after',
      comment: () => dossierComment(current, synthesis),
      // The dossier is its own record in the observatory (one interaction per dossier, same
      // id), and so is each version written again.
      interactionId,
      onRegenerate: regenerate,
      onRefine: refine,
      demo: Boolean(synthesis.model && synthesis.model.demonstration),
      status,
      onInserted: () => setStatus(status, 'Synthèse insérée dans le document, en suivi des modifications.'),
      onDiscarded: () => {
        close();
        setStatus(status, 'Synthèse écartée : rien n’a été inséré. Le dossier reste dans « Mes dossiers ».');
      },
    }),
  });

  const renderChosen = () => {
    chosenList.replaceChildren(...chosen.map((file, index) => h('li', { dataset: { file: file.name } },
      h('span', { className: 'dossier-chosen__name' }, file.name),
      h('button', { type: 'button', className: 'plume-button plume-button--small', 'aria-label': `Retirer ${file.name}`,
        on: { click: () => { chosen.splice(index, 1); renderChosen(); input.focus(); } } }, 'Retirer'))));
  };
  const add = (files) => {
    const known = new Set(chosen.map((f) => `${f.name}:${f.size}`));
    for (const file of files) {
      if (chosen.length >= MAX_FILES) break;
      if (!known.has(`${file.name}:${file.size}`)) chosen.push(file);
      known.add(`${file.name}:${file.size}`);
    }
    renderChosen();
    setStatus(dossier.status, `${chosen.length} fichier${chosen.length > 1 ? 's' : ''} choisi${chosen.length > 1 ? 's' : ''}.`);
  };

  input.addEventListener('change', () => {
    add([...(input.files || [])]);
    input.value = ''; // choosing the same file again must fire « change »
  });
  // The whole panel takes a drop: a file let go beside the zone must not replace the pane.
  panel.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.dataset.over = 'true';
  });
  panel.addEventListener('dragleave', (event) => {
    if (!panel.contains(event.relatedTarget)) delete drop.dataset.over;
  });
  panel.addEventListener('drop', (event) => {
    event.preventDefault();
    delete drop.dataset.over;
    add([...((event.dataTransfer && event.dataTransfer.files) || [])]);
  });

  prepare.addEventListener('click', async () => {
    if (prepare.getAttribute('aria-disabled') === 'true') return;
    if (!chosen.length) {
      dossier.error.replaceChildren(message('warning', 'Ajoutez d’abord les fichiers du dossier.'));
      dossier.error.hidden = false;
      input.focus();
      return;
    }
    prepare.setAttribute('aria-disabled', 'true');
    try {
      const made = await dossier.prepare(chosen, { title: title.value.trim() });
      if (made) {
        chosen = [];
        title.value = '';
        renderChosen();
        document.getElementById('dossier-start')?.focus();
      }
    } finally {
      prepare.removeAttribute('aria-disabled');
    }
  });
}
