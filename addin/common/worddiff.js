/**
 * Word-level differences between a passage and its rewriting (« Reformuler »), computed by
 * jsdiff (the `diff` package from npm, vendored at /addin/vendor/diff.min.js by `make` and
 * loaded on first use, so the other panes never fetch it). Removed words are struck through,
 * added ones underlined, each with a label a screen reader says: never colour alone.
 * @module common/worddiff
 */
import { h } from './render.js';
import { frenchTypography } from './typography.js';

/** Where `make vendor` copies jsdiff's browser build (it defines `globalThis.Diff`). */
export const DIFF_SCRIPT = '/addin/vendor/diff.min.js';

let loading = null;

/**
 * Loads jsdiff once; rejects when the file cannot be loaded (the caller keeps the plain text).
 * @returns {Promise<object>} the library (`diffWordsWithSpace`, …).
 */
export function loadDiff() {
  if (globalThis.Diff && typeof globalThis.Diff.diffWordsWithSpace === 'function') return Promise.resolve(globalThis.Diff);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = DIFF_SCRIPT;
      script.onload = () => resolve(globalThis.Diff);
      script.onerror = () => {
        loading = null;
        script.remove();
        reject(new Error(`${DIFF_SCRIPT} could not be loaded`));
      };
      document.head.append(script);
    });
  }
  return loading;
}

/**
 * The changes from `before` to `after`, word by word (spaces and line breaks kept).
 * @param {object} Diff jsdiff.
 * @param {string} before
 * @param {string} after
 * @returns {{text: string, kind: 'same'|'added'|'removed'}[]}
 */
export function diffParts(Diff, before, after) {
  return Diff.diffWordsWithSpace(String(before || ''), String(after || ''))
    .map((part) => ({ text: part.value, kind: part.added ? 'added' : part.removed ? 'removed' : 'same' }));
}

/**
 * How many words were removed and added.
 * @param {{text: string, kind: string}[]} parts
 * @returns {{removed: number, added: number}}
 */
export function countChanges(parts) {
  const words = (text) => (text.match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu) || []).length;
  const counts = { removed: 0, added: 0 };
  for (const part of parts) if (part.kind !== 'same') counts[part.kind] += words(part.text);
  return counts;
}

/**
 * A French sentence for the counts (« 3 mots retirés, 5 ajoutés »).
 * @param {{removed: number, added: number}} counts
 * @returns {string}
 */
export function describeChanges({ removed, added }) {
  if (!removed && !added) return 'Aucun mot ne change.';
  const plural = (n, word) => `${n} ${word}${n > 1 ? 's' : ''}`;
  return `${plural(removed, 'mot')} retiré${removed > 1 ? 's' : ''}, ${plural(added, 'mot')} ajouté${added > 1 ? 's' : ''}.`;
}

/**
 * Renders the changes into `container`: `<del>` and `<ins>` elements holding text nodes only.
 * @param {HTMLElement} container
 * @param {{text: string, kind: string}[]} parts
 */
export function renderDiff(container, parts) {
  container.replaceChildren(...parts.map((part) => {
    const text = frenchTypography(part.text);
    if (part.kind === 'same') return document.createTextNode(text);
    const label = part.kind === 'added' ? 'ajouté : ' : 'retiré : ';
    return h(part.kind === 'added' ? 'ins' : 'del', { className: `plume-diff__${part.kind}` },
      h('span', { className: 'plume-visually-hidden' }, `[${label}`), text,
      h('span', { className: 'plume-visually-hidden' }, ']'));
  }));
}
