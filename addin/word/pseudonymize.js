/**
 * Pseudonymiser: Plume proposes what to replace (`POST /api/v1/pseudonymize`), grouped by
 * person or place; she reviews (untick, add a missed one from the selection, change a
 * category, click an occurrence to select it in the document) and « Appliquer » replaces
 * every ticked occurrence as tracked changes, with a comment recording what was done.
 * Nothing changes in the document before her click. What « Appliquer » replaced is kept in
 * the document's own settings (inside the file, never on the server) and sent back as
 * `known` by the next analysis of the same document, so that a person keeps her letter
 * from one selection to the next.
 * @module word/pseudonymize
 */
import { postJSON } from '../common/api.js';
import { showError } from '../common/errors.js';
import { h } from '../common/render.js';
import { message, setStatus } from '../common/widgets.js';
import { capabilities, readDocumentParagraphs, readSelection, withTracking } from './document.js';

/** Categories the server may propose, with their French names and replacement labels. */
export const CATEGORIES = Object.freeze({
  personne: { name: 'Personne', label: '' },
  adresse: { name: 'Adresse', label: 'Adresse' },
  localite: { name: 'Localité', label: 'Localité' },
  date_naissance: { name: 'Date de naissance', label: 'Date de naissance' },
  date_deces: { name: 'Date de décès', label: 'Date de décès' },
  date_mariage: { name: 'Date de mariage', label: 'Date de mariage' },
  telephone: { name: 'Téléphone', label: 'Téléphone' },
  courriel: { name: 'Courriel', label: 'Courriel' },
  iban: { name: 'Compte bancaire', label: 'Compte bancaire' },
  nir: { name: 'N° de sécurité sociale', label: 'Numéro de sécurité sociale' },
  immatriculation: { name: 'Immatriculation', label: 'Immatriculation' },
  cadastre: { name: 'Référence cadastrale', label: 'Référence cadastrale' },
  identifiant: { name: 'Identifiant', label: 'Numéro identifiant' },
});
/** Word's search refuses longer strings. */
const MAX_SEARCH_CHARS = 255;
/** Characters of context shown around an occurrence. */
const CONTEXT_CHARS = 30;
/** The document setting that holds what « Appliquer » replaced in this document. */
export const KNOWN_SETTING = 'plumePseudonymisation';
/** The server takes at most this many known replacements, and this long a text. */
const MAX_KNOWN = 5000;
const MAX_KNOWN_TEXT = 300;
const REPLACEMENT = /^\[[^[\]\n]{1,40}\]$/;

/** The document's settings (Office.context.document.settings), or null where the host has none. */
function documentSettings() {
  const settings = globalThis.Office?.context?.document?.settings;
  return settings && typeof settings.get === 'function' && typeof settings.set === 'function' ? settings : null;
}

function isKnownItem(item) {
  return item && typeof item.text === 'string' && item.text.trim() && item.text.length <= MAX_KNOWN_TEXT
    && Object.hasOwn(CATEGORIES, item.category) && typeof item.replacement === 'string' && REPLACEMENT.test(item.replacement);
}

/**
 * What « Appliquer » already replaced in this document (read from its settings).
 * @returns {{text: string, category: string, replacement: string}[]}
 */
export function readKnown() {
  const settings = documentSettings();
  const stored = settings ? settings.get(KNOWN_SETTING) : null;
  return Array.isArray(stored) ? stored.filter(isKnownItem).slice(-MAX_KNOWN) : [];
}

/**
 * The known replacements plus those of the applied groups (one item per distinct text and
 * category; the latest replacement wins).
 * @param {object[]} known
 * @param {object[]} groups The applied groups.
 * @returns {object[]}
 */
export function mergeKnown(known, groups) {
  const merged = new Map(known.map((item) => [`${item.category}\u0000${item.text}`, item]));
  for (const group of groups) {
    for (const occurrence of group.occurrences) {
      const item = { text: occurrence.text, category: group.category, replacement: group.replacement };
      if (isKnownItem(item)) merged.set(`${item.category}\u0000${item.text}`, item);
    }
  }
  return [...merged.values()].slice(-MAX_KNOWN);
}

/**
 * Saves the known replacements in the document's settings (they travel with the file).
 * @param {object[]} known
 * @returns {Promise<boolean>} false where the host has no settings or the save failed.
 */
export function saveKnown(known) {
  const settings = documentSettings();
  if (!settings) return Promise.resolve(false);
  settings.set(KNOWN_SETTING, known);
  if (typeof settings.saveAsync !== 'function') return Promise.resolve(true);
  return new Promise((resolve) => {
    settings.saveAsync((result) => resolve(!result || result.status !== 'failed'));
  });
}

/**
 * UTF-16 offsets of every code point of `text` (the server counts code points, JavaScript
 * strings count UTF-16 units: an emoji is one of the first and two of the second).
 * @param {string} text
 * @returns {number[]} unit offset of code point i, plus the length at the end.
 */
export function codePointUnits(text) {
  const units = [];
  let unit = 0;
  for (const char of text) {
    units.push(unit);
    unit += char.length;
  }
  units.push(unit);
  return units;
}

/** Spreadsheet-style letters: 0 → A, 25 → Z, 26 → AA. */
export function letters(index) {
  let label = '';
  let n = index + 1;
  while (n > 0) {
    const rest = (n - 1) % 26;
    label = String.fromCharCode(65 + rest) + label;
    n = Math.floor((n - 1) / 26);
  }
  return label;
}

/**
 * Proposals grouped by entity, each occurrence located in a paragraph.
 * @param {{entities: object[]}} answer The server's answer.
 * @param {string[]} paragraphs The paragraphs whose text (joined by "\n") was sent.
 * @param {number} [firstParagraph] Index in the document of `paragraphs[0]`.
 * @returns {object[]} [{id, category, replacement, ticked, occurrences: [{paragraph, text, nth, context}]}]
 */
export function groupProposals(answer, paragraphs, firstParagraph = 0) {
  const text = paragraphs.join('\n');
  const units = codePointUnits(text);
  const starts = [];
  let offset = 0;
  for (const paragraph of paragraphs) {
    starts.push(offset);
    offset += paragraph.length + 1;
  }
  const groups = new Map();
  for (const entity of answer.entities || []) {
    const start = units[entity.start];
    const end = units[entity.end];
    let index = starts.length - 1;
    while (index > 0 && starts[index] > start) index -= 1;
    const local = start - starts[index];
    const value = text.slice(start, end);
    if (value.includes('\n') || value.length > MAX_SEARCH_CHARS) continue; // Word cannot search it
    const paragraph = paragraphs[index];
    let nth = 0;
    for (let at = paragraph.indexOf(value); at >= 0 && at < local; at = paragraph.indexOf(value, at + value.length)) nth += 1;
    if (!groups.has(entity.entity_id)) {
      groups.set(entity.entity_id, { id: entity.entity_id, category: entity.category, replacement: entity.replacement, ticked: true, occurrences: [] });
    }
    groups.get(entity.entity_id).occurrences.push({
      paragraph: firstParagraph + index, text: value, nth, offset: local,
      context: paragraph.slice(Math.max(0, local - CONTEXT_CHARS), local + value.length + CONTEXT_CHARS),
    });
  }
  return [...groups.values()];
}

/**
 * The replacement a new or re-categorised entity gets: the next free letter for a person,
 * the next number of its label otherwise.
 * @param {object[]} groups
 * @param {string} category
 * @returns {string}
 */
export function nextReplacement(groups, category) {
  const used = new Set(groups.map((g) => g.replacement));
  if (category === 'personne') {
    for (let i = 0; ; i += 1) if (!used.has(`[${letters(i)}]`)) return `[${letters(i)}]`;
  }
  const label = CATEGORIES[category].label;
  for (let n = 1; ; n += 1) if (!used.has(`[${label} ${n}]`)) return `[${label} ${n}]`;
}

/**
 * Every occurrence of `value` in the paragraphs (what « ajouter depuis la sélection » finds).
 * @param {string[]} paragraphs
 * @param {string} value
 * @returns {object[]}
 */
export function findOccurrences(paragraphs, value) {
  const found = [];
  paragraphs.forEach((paragraph, index) => {
    let nth = 0;
    for (let at = paragraph.indexOf(value); at >= 0; at = paragraph.indexOf(value, at + value.length)) {
      found.push({ paragraph: index, text: value, nth, offset: at, context: paragraph.slice(Math.max(0, at - CONTEXT_CHARS), at + value.length + CONTEXT_CHARS) });
      nth += 1;
    }
  });
  return found;
}

/** The longest mention names the entity in the list (« M. Jean Dupont » rather than « Dupont »). */
function entityName(group) {
  return group.occurrences.reduce((best, o) => (o.text.length > best.length ? o.text : best), '');
}

/**
 * The comment recording what « Appliquer » did.
 * @param {object[]} groups The applied groups.
 * @returns {string}
 */
export function applicationComment(groups) {
  const count = groups.reduce((n, g) => n + g.occurrences.length, 0);
  const persons = groups.filter((g) => g.category === 'personne').length;
  const others = groups.length - persons;
  const date = new Date().toLocaleDateString('fr-FR');
  return `Pseudonymisation Plume du ${date} : ${count} occurrence${count > 1 ? 's' : ''} remplacée${count > 1 ? 's' : ''} `
    + `(${persons} personne${persons > 1 ? 's' : ''}, ${others} autre${others > 1 ? 's' : ''} élément${others > 1 ? 's' : ''}), `
    + 'proposées par Plume et validées par l\'utilisateur. Les remplacements apparaissent en suivi des modifications.';
}

async function searchOccurrence(context, paragraph, occurrence) {
  const ranges = paragraph.search(occurrence.text, { matchCase: true });
  ranges.load('items');
  return ranges;
}

/**
 * Selects one occurrence in the document.
 * @param {{paragraph: number, text: string, nth: number}} occurrence
 * @returns {Promise<boolean>} false when it is no longer there.
 */
export async function selectOccurrence(occurrence) {
  return Word.run(async (context) => {
    const paragraphs = context.document.body.paragraphs;
    paragraphs.load('items');
    await context.sync();
    const paragraph = paragraphs.items[occurrence.paragraph];
    if (!paragraph) return false;
    const ranges = await searchOccurrence(context, paragraph, occurrence);
    await context.sync();
    const range = ranges.items[occurrence.nth];
    if (!range) return false;
    range.select();
    await context.sync();
    return true;
  });
}

/**
 * Replaces every occurrence of the ticked groups, tracked, and adds the comment.
 * @param {object[]} groups
 * @returns {Promise<{replaced: number, tracked: boolean, commented: boolean}>}
 */
export async function applyReplacements(groups) {
  const ticked = groups.filter((g) => g.ticked);
  const { comments } = capabilities();
  let replaced = 0;
  const byParagraph = new Map();
  for (const group of ticked) {
    for (const occurrence of group.occurrences) {
      if (!byParagraph.has(occurrence.paragraph)) byParagraph.set(occurrence.paragraph, []);
      byParagraph.get(occurrence.paragraph).push({ ...occurrence, replacement: group.replacement });
    }
  }
  const result = await withTracking(async (context) => {
    const paragraphs = context.document.body.paragraphs;
    paragraphs.load('items');
    await context.sync();
    const pending = [];
    for (const [index, occurrences] of byParagraph) {
      const paragraph = paragraphs.items[index];
      if (!paragraph) continue;
      const searches = new Map();
      for (const occurrence of occurrences) {
        if (!searches.has(occurrence.text)) searches.set(occurrence.text, await searchOccurrence(context, paragraph, occurrence));
      }
      pending.push({ occurrences, searches });
    }
    await context.sync();
    for (const { occurrences, searches } of pending) {
      // Later occurrences first, so that earlier ones keep their place.
      const located = occurrences.map((o) => ({ o, range: searches.get(o.text).items[o.nth] })).filter((x) => x.range);
      located.sort((a, b) => b.o.offset - a.o.offset);
      for (const { o, range } of located) {
        range.insertText(o.replacement, Word.InsertLocation.replace);
        replaced += 1;
      }
    }
    if (comments && paragraphs.items.length) paragraphs.items[0].getRange().insertComment(applicationComment(ticked));
  });
  return { replaced, tracked: result.tracked, commented: comments };
}

/** Wires the Pseudonymiser panel (the panel's elements are built here). */
export function setupPseudonymize() {
  const panel = document.getElementById('panel-pseudonymize');
  if (!panel) return;
  const scopeDocument = h('input', { type: 'radio', name: 'pseudo-scope', value: 'document', checked: true });
  const scopeSelection = h('input', { type: 'radio', name: 'pseudo-scope', value: 'selection' });
  // Ctrl+Entrée analyses; « Appliquer » changes the document, so it is only ever a click.
  const runButton = h('button', {
    id: 'pseudo-run', className: 'plume-button plume-button--primary', type: 'button',
    'aria-keyshortcuts': 'Control+Enter', dataset: { shortcut: 'run' },
  }, 'Analyser');
  const addButton = h('button', { id: 'pseudo-add', className: 'plume-button', type: 'button', hidden: true }, 'Ajouter la sélection');
  const applyButton = h('button', { id: 'pseudo-apply', className: 'plume-button plume-button--primary', type: 'button', hidden: true }, 'Appliquer');
  const status = h('p', { id: 'pseudo-status', className: 'plume-status', role: 'status', 'aria-live': 'polite' });
  const errorBox = h('div', { id: 'pseudo-error', hidden: true });
  const list = h('ol', { id: 'pseudo-list', className: 'plume-results', 'aria-label': 'Propositions de remplacement' });
  panel.replaceChildren(
    h('p', { className: 'plume-panel__intro' }, 'Propose les noms, adresses, lieux, dates et identifiants à remplacer. Magistrats, greffiers, avocats et juridictions restent. Rien ne change avant « Appliquer ».'),
    h('fieldset', { className: 'plume-radio-group' }, h('legend', null, 'Texte à analyser'),
      h('label', null, scopeDocument, ' Tout le document'), h('label', null, scopeSelection, ' La sélection')),
    h('div', { className: 'plume-actions' }, runButton, addButton, applyButton),
    status, errorBox, list,
  );
  let groups = [];
  let paragraphs = [];
  // The letters and numbers this document already uses: an added or re-categorised entity
  // takes the next free one.
  const usedElsewhere = () => readKnown().map((item) => ({ replacement: item.replacement }));

  const render = () => {
    list.replaceChildren(...groups.map((group, index) => {
      const box = h('input', { type: 'checkbox', checked: group.ticked, dataset: { entity: group.id } });
      box.addEventListener('change', () => { group.ticked = box.checked; });
      const select = h('select', { className: 'plume-select', 'aria-label': `Catégorie de ${group.replacement}` },
        ...Object.entries(CATEGORIES).map(([value, c]) => h('option', { value, selected: value === group.category }, c.name)));
      select.addEventListener('change', () => {
        group.category = select.value;
        group.replacement = nextReplacement(groups.filter((g) => g !== group).concat(usedElsewhere()), group.category);
        render();
      });
      const count = group.occurrences.length;
      const occurrences = h('ol', { className: 'plume-stack' }, ...group.occurrences.map((o) => {
        const link = h('button', { type: 'button', className: 'plume-ref' }, `…${o.context}…`);
        link.addEventListener('click', async () => {
          const found = await selectOccurrence(o);
          if (!found) setStatus(status, "Cette occurrence n'est plus dans le document.");
        });
        return h('li', null, link);
      }));
      return h('li', { className: 'plume-card', dataset: { entity: group.id, index: String(index) } },
        h('label', { className: 'plume-check plume-card__title' }, box,
          ` ${group.replacement} : ${entityName(group)} — ${count} occurrence${count > 1 ? 's' : ''}`),
        select,
        h('details', null, h('summary', null, 'Occurrences'), occurrences));
    }));
    applyButton.hidden = groups.length === 0;
    addButton.hidden = false;
  };

  runButton.addEventListener('click', async () => {
    errorBox.hidden = true;
    list.replaceChildren();
    applyButton.hidden = true;
    setStatus(status, 'Analyse en cours…');
    try {
      paragraphs = await readDocumentParagraphs();
      let sent = paragraphs;
      let first = 0;
      if (scopeSelection.checked) {
        const selection = await readSelection();
        const wanted = selection.paragraphs;
        first = Math.max(0, paragraphs.findIndex((p, i) => wanted.every((w, k) => paragraphs[i + k] === w)));
        sent = wanted.length ? wanted : paragraphs;
      }
      const known = readKnown();
      const answer = await postJSON('/pseudonymize', known.length ? { text: sent.join('\n'), known } : { text: sent.join('\n') });
      groups = groupProposals(answer, sent, first);
      render();
      setStatus(status, groups.length
        ? `${groups.length} élément${groups.length > 1 ? 's' : ''} à remplacer. Vérifiez, puis cliquez sur « Appliquer ».`
        : 'Rien à remplacer dans ce texte.');
    } catch (err) {
      setStatus(status, '');
      showError(errorBox, err);
    }
  });

  addButton.addEventListener('click', async () => {
    const selection = await readSelection();
    const value = selection.text.trim();
    if (!value) {
      setStatus(status, 'Sélectionnez d\'abord dans le document le nom ou le lieu à ajouter.');
      return;
    }
    const occurrences = findOccurrences(paragraphs.length ? paragraphs : await readDocumentParagraphs(), value);
    if (!occurrences.length) {
      setStatus(status, 'La sélection ne se retrouve pas telle quelle dans le document.');
      return;
    }
    const replacement = nextReplacement(groups.concat(usedElsewhere()), 'personne');
    groups.push({ id: `ajout:${groups.length}`, category: 'personne', replacement, ticked: true, occurrences });
    render();
    setStatus(status, `« ${value} » ajouté comme ${replacement} (${occurrences.length} occurrence${occurrences.length > 1 ? 's' : ''}).`);
  });

  applyButton.addEventListener('click', async () => {
    errorBox.hidden = true;
    try {
      const done = await applyReplacements(groups);
      const remembered = await saveKnown(mergeKnown(readKnown(), groups.filter((g) => g.ticked)));
      list.replaceChildren();
      applyButton.hidden = true;
      groups = [];
      const notice = done.tracked ? 'en suivi des modifications' : 'sans suivi des modifications (cette version de Word ne le permet pas)';
      setStatus(status, `${done.replaced} remplacement${done.replaced > 1 ? 's' : ''} effectué${done.replaced > 1 ? 's' : ''} ${notice}.`);
      const summary = done.commented ? 'Un commentaire en tête du document récapitule la pseudonymisation.' : 'Pseudonymisation appliquée.';
      list.replaceChildren(message('success', remembered
        ? `${summary} Les lettres attribuées sont gardées dans ce document : une prochaine analyse les reprendra.`
        : summary));
    } catch (err) {
      showError(errorBox, err);
    }
  });
}
