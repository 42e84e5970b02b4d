/**
 * The three generation panels of the Word pane: Synthétiser, Rédiger, Reformuler.
 * @module word/assist
 */
import { describeError } from '../common/errors.js';
import { answerToPlainText, formatDate, h, setText, zoneLabel } from '../common/render.js';
import { countChanges, describeChanges, diffParts, loadDiff, renderDiff } from '../common/worddiff.js';
import { message, setStatus } from '../common/widgets.js';
import { readDocumentParagraphs, readSelection, selectParagraph } from './document.js';
import { GenerationPanel, describeInsertError, sourcesComment } from './generation.js';

/** Longest passage excerpt shown under a numbered source. */
const SOURCE_EXCERPT_CHARS = 200;

/**
 * Numbers paragraphs as « [§ N] » so the summary can refer back to them.
 * @param {string[]} paragraphs
 * @param {number[]|null} indices Body index of each paragraph (null when unknown).
 * @returns {{text: string, refs: Map<number, {index: number|null, text: string}>}}
 */
export function markParagraphs(paragraphs, indices) {
  const refs = new Map();
  const blocks = [];
  paragraphs.forEach((text, i) => {
    if (!text.trim()) return;
    const n = indices ? indices[i] + 1 : i + 1;
    refs.set(n, { index: indices ? indices[i] : null, text });
    blocks.push(`[§ ${n}] ${text.trim()}`);
  });
  return { text: blocks.join('\n\n'), refs };
}

async function readOrComplain(panel, reader) {
  try {
    return await reader();
  } catch (err) {
    panel.error.replaceChildren(describeInsertError(err));
    panel.error.hidden = false;
    return null;
  }
}

/** Synthétiser: the selection or the whole document, with clickable « § N ». */
export function setupSummarize() {
  const panel = new GenerationPanel('summarize', { task: 'summarize', location: 'after', insertLabel: 'Insérer la synthèse' });
  let refs = new Map();
  let scopeWords = '';
  const onParagraphRef = async (n) => {
    const ref = refs.get(n);
    let found = false;
    try {
      found = ref ? await selectParagraph(ref) : false;
    } catch (err) {
      setStatus(panel.status, describeError(err).message);
      return;
    }
    setStatus(panel.status, found
      ? `Paragraphe ${n} sélectionné dans le document.`
      : `Le paragraphe ${n} est introuvable : le document a peut-être changé depuis la synthèse.`);
  };
  panel.runButton.addEventListener('click', async () => {
    if (panel.running) return;
    panel.reset();
    const scope = document.querySelector('input[name="summarize-scope"]:checked').value;
    let marked;
    if (scope === 'document') {
      const paragraphs = await readOrComplain(panel, readDocumentParagraphs);
      if (!paragraphs) return;
      marked = markParagraphs(paragraphs, paragraphs.map((_, i) => i));
      scopeWords = 'Synthèse du document';
    } else {
      const selection = await readOrComplain(panel, readSelection);
      if (!selection) return;
      if (!selection.text.trim()) {
        panel.complain('Sélectionnez le passage à synthétiser dans le document, ou choisissez « Tout le document ».');
        return;
      }
      marked = markParagraphs(selection.paragraphs, null);
      scopeWords = 'Synthèse de la sélection';
    }
    if (!marked.text) {
      panel.complain('Le document est vide : il n\'y a rien à synthétiser.');
      return;
    }
    refs = marked.refs;
    await panel.start({ text: marked.text }, {
      renderOptions: { onParagraphRef },
      comment: (result) => sourcesComment({ what: scopeWords, model: result.done && result.done.model }),
    });
  });
  return panel;
}

function sourceLine(source) {
  return `[${source.n}] ${source.citation || 'Source sans référence'}${source.zone ? ` (${zoneLabel(source.zone)})` : ''}`;
}

function flagText(flag) {
  const message = flag.message || 'Citation à vérifier.';
  const quote = flag.quote && !message.includes(flag.quote) ? ` — « ${flag.quote} »` : '';
  return `${flag.ref != null && !message.includes(`[${flag.ref}]`) ? `[${flag.ref}] ` : ''}${message}${quote}`;
}

/**
 * The source numbers a text cites (« [2] », « [1, 3] » and « [1][3] » alike).
 * @param {string} text
 * @returns {Set<number>}
 */
export function citedRefs(text) {
  const cited = new Set();
  for (const match of String(text || '').matchAll(/\[(\d+(?:\s*[,;]\s*\d+)*)\]/g)) {
    for (const n of match[1].split(/[,;]/)) cited.add(Number(n.trim()));
  }
  return cited;
}

/**
 * The citation check of a draft, shown above the proposal: the flagged citations and, when
 * there are any, the « J'ai vérifié » box that « Insérer » asks for.
 * @param {object[]} flags
 * @param {number} sourceCount
 * @returns {{element: HTMLElement|null, verified: HTMLInputElement|null}}
 */
export function renderCheck(flags, sourceCount) {
  if (!flags.length) {
    if (!sourceCount) return { element: null, verified: null };
    return {
      element: message('success', "Vérification des citations : chaque renvoi « [n] » correspond à une source fournie et les passages cités entre guillemets y figurent. Relisez-les tout de même.", { dataset: { flags: '0' } }),
      verified: null,
    };
  }
  const verified = h('input', { type: 'checkbox', id: 'draft-verified' });
  const element = message('warning', [
    h('strong', null, `${flags.length} citation${flags.length > 1 ? 's' : ''} à vérifier avant l'insertion`),
    h('ul', { className: 'plume-flags' }, flags.map((flag) => h('li', { dataset: { flag: flag.kind || '' } }, flagText(flag)))),
    h('label', { className: 'plume-check' }, verified, " J'ai vérifié ces citations dans les décisions"),
  ], { dataset: { flags: String(flags.length) } });
  return { element, verified };
}

function sourceCard(group, flaggedRefs) {
  const [first] = group;
  const excerpt = String(first.text || '');
  const flagged = group.flatMap((source) => flaggedRefs.get(Number(source.n)) || []);
  return h('li', { className: `plume-card${flagged.length ? ' plume-card--flagged' : ''}`, id: `draft-source-${first.n}`, tabIndex: -1,
    dataset: { refs: group.map((source) => source.n).join(' ') } },
  h('p', { className: 'plume-card__title' }, `${group.map((source) => `[${source.n}]`).join(' ')} ${first.citation || 'Source sans référence'}`),
  h('p', { className: 'plume-card__meta' },
    first.zone ? h('span', { className: 'plume-zone' }, zoneLabel(first.zone)) : null,
    first.date && !String(first.citation || '').includes(formatDate(first.date)) ? ` ${formatDate(first.date)}` : null),
  excerpt ? h('p', { className: 'plume-card__text', dataset: { short: 'true' } }, excerpt.length > SOURCE_EXCERPT_CHARS ? `${excerpt.slice(0, SOURCE_EXCERPT_CHARS)}…` : excerpt) : null,
  // The whole passage, shown when a « [n] » of the answer is clicked (the preview of its source).
  excerpt.length > SOURCE_EXCERPT_CHARS ? h('p', { className: 'plume-card__text', dataset: { full: 'true' }, hidden: true }, excerpt) : null,
  flagged.map((flag) => h('p', { className: 'plume-flag', role: 'note' }, `⚠ ${flag.message || 'Citation à vérifier.'}`)));
}

/**
 * The sources of a grounded draft: the cited ones first (« Sources citées »), one card per
 * decision (several passages of one decision share its card), then the others under
 * « Autres sources consultées », folded.
 * @param {object[]} sources
 * @param {object[]} flags
 * @param {Set<number>} [cited] The numbers the answer cites (all when not given).
 * @returns {HTMLElement}
 */
export function renderSources(sources, flags, cited = null) {
  const flaggedRefs = new Map();
  for (const flag of flags) {
    if (flag.ref != null) flaggedRefs.set(Number(flag.ref), [...(flaggedRefs.get(Number(flag.ref)) || []), flag]);
  }
  const groups = (list) => {
    const byDecision = new Map();
    for (const source of list) {
      const key = source.decision_id || source.citation || `n${source.n}`;
      byDecision.set(key, [...(byDecision.get(key) || []), source]);
    }
    return [...byDecision.values()];
  };
  const isCited = (source) => !cited || cited.has(Number(source.n));
  const citedGroups = groups(sources.filter(isCited));
  const citedKeys = new Set(citedGroups.flat().map((source) => source.decision_id || source.citation));
  // A decision cited through one passage keeps its other passages on the same card.
  const withSiblings = citedGroups.map((group) => [...group, ...sources.filter((source) => !isCited(source)
    && (source.decision_id || source.citation) === (group[0].decision_id || group[0].citation))]);
  const others = groups(sources.filter((source) => !isCited(source) && !citedKeys.has(source.decision_id || source.citation)));
  return h('div', { className: 'plume-stack' },
    withSiblings.length ? h('p', { className: 'plume-label' }, 'Sources citées') : null,
    withSiblings.length ? h('ol', { className: 'plume-sources' }, withSiblings.map((group) => sourceCard(group, flaggedRefs))) : null,
    others.length ? h('details', { className: 'plume-filters', id: 'draft-other-sources' },
      h('summary', null, `Autres sources consultées (${others.length})`),
      h('ol', { className: 'plume-sources' }, others.map((group) => sourceCard(group, flaggedRefs)))) : null);
}

/** Rédiger: a section grounded in precedents, its citation check above it, numbered sources. */
export function setupDraft() {
  const panel = new GenerationPanel('draft', { task: 'draft', location: 'after', insertLabel: 'Insérer la section' });
  const sourcesBox = document.getElementById('draft-sources');
  const checkBox = document.getElementById('draft-check');
  let sources = [];
  let flags = [];
  let verified = null;
  const onSourceRef = (n) => {
    const card = document.querySelector(`#draft-sources [data-refs~="${Number(n)}"]`);
    if (card) {
      const folded = card.closest('details');
      if (folded) folded.open = true;
      for (const other of document.querySelectorAll('#draft-sources .plume-card--current')) other.classList.remove('plume-card--current');
      card.classList.add('plume-card--current');
      const full = card.querySelector('[data-full]');
      if (full) {
        full.hidden = false;
        card.querySelector('[data-short]').hidden = true;
      }
      card.scrollIntoView({ block: 'nearest' });
      card.focus();
    } else {
      setStatus(panel.status, `La source [${n}] n'existe pas parmi les sources fournies : cette citation est à vérifier.`);
    }
  };
  const flaggedRefs = () => new Set(flags.filter((f) => f.ref != null).map((f) => Number(f.ref)));
  const showCheck = (text) => {
    const check = renderCheck(flags, sources.length);
    verified = check.verified;
    checkBox.replaceChildren(...(check.element ? [check.element] : []));
    sourcesBox.replaceChildren(renderSources(sources, flags, citedRefs(text)));
  };
  // A proposal whose citations were flagged goes in only once the magistrate says she checked.
  panel.gate = () => (verified && !verified.checked
    ? { message: "Cochez « J'ai vérifié ces citations dans les décisions » (au-dessus de la proposition) après avoir contrôlé chaque citation signalée : rien n'a été inséré.", focus: verified }
    : null);
  // On insertion the « [n] » the answer cites become citations (footnotes where Word allows).
  panel.citations = () => new Map(sources.filter((source) => source.citation)
    .map((source) => [Number(source.n), source.citation]));
  panel.onRestored = (entry) => {
    const extra = entry.extra || {};
    sources = extra.sources || [];
    flags = extra.flags || [];
    showCheck(entry.text);
  };
  const clear = () => {
    sourcesBox.replaceChildren();
    checkBox.replaceChildren();
    sources = [];
    flags = [];
    verified = null;
  };
  const baseReset = panel.reset.bind(panel);
  panel.reset = () => {
    baseReset();
    clear();
  };
  panel.runButton.addEventListener('click', async () => {
    if (panel.running) return;
    panel.reset();
    const instructions = document.getElementById('draft-instructions').value.trim();
    if (!instructions) {
      panel.complain('Indiquez ce que la section doit contenir.');
      document.getElementById('draft-instructions').focus();
      return;
    }
    let text = '';
    if (document.getElementById('draft-use-selection').checked) {
      const selection = await readOrComplain(panel, readSelection);
      if (!selection) return;
      text = selection.text;
    }
    const tone = document.querySelector('input[name="draft-tone"]:checked').value;
    const length = document.querySelector('input[name="draft-length"]:checked').value;
    await panel.start({ text, instructions, tone, length }, {
      renderOptions: { onSourceRef },
      renderOptionsAtEnd: () => ({ onSourceRef, flaggedRefs: flaggedRefs() }),
      onSources: (payload) => {
        sources = payload.sources;
        flags = payload.flags;
        showCheck(panel.streamed);
      },
      keep: () => ({ sources, flags }),
      comment: (result) => sourcesComment({
        what: 'Projet de section',
        model: result.done && result.done.model,
        sources: sources.filter((source) => citedRefs(result.text).has(Number(source.n))).map(sourceLine),
        warnings: flags.map(flagText),
      }),
    });
  });
  return panel;
}

/**
 * Shows what the rewriting changes, word by word, in place of the proposal's plain text.
 * Without jsdiff (the file could not be loaded) the proposal stays as plain text.
 * @param {GenerationPanel} panel
 * @param {string} before The selection.
 * @param {string} after The proposal.
 * @returns {Promise<boolean>} whether the diff is shown.
 */
export async function showRewriteDiff(panel, before, after) {
  let Diff;
  try {
    Diff = await loadDiff();
  } catch (err) {
    console.warn('Plume: word diff not available', err);
    return false;
  }
  const parts = diffParts(Diff, before, after);
  renderDiff(document.getElementById('rewrite-diff'), parts);
  setText(document.getElementById('rewrite-diff-count'), describeChanges(countChanges(parts)));
  document.getElementById('rewrite-compare').hidden = false;
  panel.output.hidden = true;
  return true;
}

/** Reformuler: the selection in plain language, shown as a word-level diff of the selection. */
export function setupRewrite() {
  const panel = new GenerationPanel('rewrite', { task: 'rewrite', location: 'replace', insertLabel: 'Remplacer la sélection' });
  const compare = document.getElementById('rewrite-compare');
  const baseReset = panel.reset.bind(panel);
  panel.reset = () => {
    baseReset();
    panel.output.hidden = false;
    compare.hidden = true;
  };
  panel.onRestored = (entry) => {
    const before = entry.extra && entry.extra.before;
    if (before) showRewriteDiff(panel, before, answerToPlainText(entry.text));
  };
  panel.runButton.addEventListener('click', async () => {
    if (panel.running) return;
    panel.reset();
    const selection = await readOrComplain(panel, readSelection);
    if (!selection) return;
    if (!selection.text.trim()) {
      panel.complain('Sélectionnez dans le document le passage à reformuler.');
      return;
    }
    loadDiff().catch(() => {}); // fetched while the model writes
    const result = await panel.start({ text: selection.text }, {
      keep: () => ({ before: selection.text }),
      comment: (done) => sourcesComment({ what: 'Reformulation en langage clair de la sélection', model: done.done && done.done.model }),
    });
    // A complete proposal is shown as changes; a stopped one stays as the text received.
    if (result && !result.stopped && result.text) await showRewriteDiff(panel, selection.text, answerToPlainText(result.text));
  });
  return panel;
}
