/**
 * The three generation panels of the Word pane: Synthétiser, Rédiger, Reformuler.
 * @module word/assist
 */
import { describeError } from '../common/errors.js';
import { answerToPlainText, formatDate, h } from '../common/render.js';
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
  return `[${source.n}] ${source.citation || 'Source sans référence'}${source.zone ? ` (${source.zone})` : ''}`;
}

function flagText(flag) {
  const message = flag.message || 'Citation à vérifier.';
  const quote = flag.quote && !message.includes(flag.quote) ? ` — « ${flag.quote} »` : '';
  return `${flag.ref != null && !message.includes(`[${flag.ref}]`) ? `[${flag.ref}] ` : ''}${message}${quote}`;
}

/**
 * The numbered sources of a grounded draft, with the flagged citations visible.
 * @param {object[]} sources
 * @param {object[]} flags
 * @returns {HTMLElement}
 */
export function renderSources(sources, flags) {
  const flaggedRefs = new Map();
  for (const flag of flags) {
    if (flag.ref != null) flaggedRefs.set(Number(flag.ref), [...(flaggedRefs.get(Number(flag.ref)) || []), flag]);
  }
  const items = sources.map((source) => {
    const excerpt = String(source.text || '');
    const flagged = flaggedRefs.get(Number(source.n)) || [];
    return h('li', { className: `plume-card${flagged.length ? ' plume-card--flagged' : ''}`, id: `draft-source-${source.n}`, tabIndex: -1 },
      h('p', { className: 'plume-card__title' }, `[${source.n}] ${source.citation || ''}`),
      h('p', { className: 'plume-card__meta' },
        source.zone ? h('span', { className: 'plume-zone' }, source.zone) : null,
        source.date ? ` ${formatDate(source.date)}` : null),
      excerpt ? h('p', { className: 'plume-card__text' }, excerpt.length > SOURCE_EXCERPT_CHARS ? `${excerpt.slice(0, SOURCE_EXCERPT_CHARS)}…` : excerpt) : null,
      flagged.map((flag) => h('p', { className: 'plume-flag', role: 'note' }, `⚠ ${flag.message || 'Citation à vérifier.'}`)));
  });
  return h('div', { className: 'plume-stack' },
    flags.length
      ? message('warning', [h('strong', null, `${flags.length} citation${flags.length > 1 ? 's' : ''} à vérifier`),
        h('ul', { className: 'plume-flags' }, flags.map((flag) => h('li', { dataset: { flag: flag.kind || '' } },
          flagText(flag))))],
      { dataset: { flags: String(flags.length) } })
      : null,
    sources.length ? h('p', { className: 'plume-label' }, 'Sources citées') : null,
    sources.length ? h('ol', { className: 'plume-sources' }, items) : null);
}

/** Rédiger: a section grounded in precedents, with numbered sources and flags. */
export function setupDraft() {
  const panel = new GenerationPanel('draft', { task: 'draft', location: 'after', insertLabel: 'Insérer la section' });
  const sourcesBox = document.getElementById('draft-sources');
  let sources = [];
  let flags = [];
  const onSourceRef = (n) => {
    const card = document.getElementById(`draft-source-${n}`);
    if (card) {
      card.scrollIntoView({ block: 'nearest' });
      card.focus();
    } else {
      setStatus(panel.status, `La source [${n}] n'existe pas parmi les sources fournies : cette citation est à vérifier.`);
    }
  };
  const flaggedRefs = () => new Set(flags.filter((f) => f.ref != null).map((f) => Number(f.ref)));
  panel.runButton.addEventListener('click', async () => {
    if (panel.running) return;
    panel.reset();
    sourcesBox.replaceChildren();
    sources = [];
    flags = [];
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
    await panel.start({ text, instructions }, {
      renderOptions: { onSourceRef },
      renderOptionsAtEnd: () => ({ onSourceRef, flaggedRefs: flaggedRefs() }),
      onSources: (payload) => {
        sources = payload.sources;
        flags = payload.flags;
        sourcesBox.replaceChildren(renderSources(sources, flags));
      },
      comment: (result) => sourcesComment({
        what: 'Projet de section',
        model: result.done && result.done.model,
        sources: sources.map(sourceLine),
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
  document.getElementById('rewrite-diff-count').textContent = describeChanges(countChanges(parts));
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
