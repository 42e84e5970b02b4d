/**
 * Text-only rendering. Server and model text is untrusted: it becomes DOM text nodes, never
 * HTML (no innerHTML anywhere in the panes). A tiny markdown subset (headings, lists, bold)
 * and the references Plume emits (« § N » paragraphs, « [n] » sources) are turned into
 * elements built one by one.
 * @module common/render
 */
import { NBSP, frenchTypography } from './typography.js';

const PROPERTY_KEYS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'tabIndex', 'title', 'id', 'htmlFor', 'type', 'name']);

/**
 * Creates an element. `props`: `className`, `dataset`, `on` ({event: handler}), DOM
 * properties (`value`, `disabled`, `hidden`, …) and any other attribute (`role`, `aria-*`).
 * Children: nodes, strings (as text nodes, in French typography), arrays, null/false (skipped).
 * The placeholder a user reads is typeset too; values and other attributes are kept as given.
 * @param {string} tag
 * @param {object|null} [props]
 * @param {...(Node|string|number|null|false|Array)} children
 * @returns {HTMLElement}
 */
export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'className') element.className = value;
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key === 'on') for (const [name, handler] of Object.entries(value)) element.addEventListener(name, handler);
    else if (PROPERTY_KEYS.has(key)) element[key] = value;
    else if (key === 'placeholder') element.setAttribute(key, frenchTypography(value));
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    // Every string the panes show goes through here: French typography is done once, here.
    else parent.appendChild(document.createTextNode(frenchTypography(String(child))));
  }
}

/**
 * Replaces the text of `element` with `text`, in French typography (what `textContent =`
 * would do, with the typography {@link h} gives every other string).
 * @param {Element} element
 * @param {string} text
 */
export function setText(element, text) {
  element.textContent = frenchTypography(String(text ?? ''));
}

/**
 * Sets French typography on the text a page was written with (its static HTML): visible text
 * and placeholders. The panes call it once at start; what they add later comes through {@link h}.
 * @param {ParentNode} [root]
 */
export function typesetPage(root = document.body) {
  // Code and what the user typed are never retypeset.
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => (node.parentElement && node.parentElement.closest('script, style, textarea, pre, code')
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
  });
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.nodeValue.trim()) continue;
    const typeset = frenchTypography(node.nodeValue);
    if (typeset !== node.nodeValue) node.nodeValue = typeset;
  }
  for (const field of root.querySelectorAll('[placeholder]')) field.placeholder = frenchTypography(field.placeholder);
}

/**
 * Removes accents and lower-cases, for accent-insensitive matching (« arrêt » = « arret »).
 * Keeps the string length for Latin text so offsets stay valid.
 * @param {string} text
 * @returns {string}
 */
export function foldAccents(text) {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

const STOPWORDS = new Set(('le la les un une des du de d l au aux et ou en dans par pour sur sous avec sans ' +
  'que qui quoi dont ne pas plus est sont a ont ce cette ces son sa ses leur leurs il elle ils elles on').split(' '));

/**
 * The words of a query worth highlighting (accent-folded, no stop words, 3+ letters).
 * @param {string} query
 * @returns {string[]}
 */
export function queryTerms(query) {
  const words = foldAccents(query || '').split(/[^\p{L}\p{N}]+/u);
  return [...new Set(words.filter((w) => w.length >= 3 && !STOPWORDS.has(w)))];
}

/**
 * Splits a passage into plain and highlighted segments. Highlights come, in order of
 * preference, from character `ranges` ([start, end] pairs), from `<mark>…</mark>` markers
 * in the text (the markers are parsed as text, never as HTML), or from query `terms`
 * (matched on word starts, accent-insensitively, so « licencie » marks « licenciement »).
 * @param {string} text
 * @param {{ranges?: number[][], terms?: string[]}} [options]
 * @returns {{text: string, mark: boolean}[]}
 */
export function highlightSegments(text, { ranges, terms } = {}) {
  const source = String(text || '');
  if (Array.isArray(ranges) && ranges.length) return segmentsFromRanges(source, ranges);
  if (source.includes('<mark>')) return segmentsFromMarkers(source);
  if (Array.isArray(terms) && terms.length) return segmentsFromTerms(source, terms);
  return [{ text: source, mark: false }];
}

function segmentsFromRanges(text, ranges) {
  const sorted = ranges
    .map(([start, end]) => [Math.max(0, start), Math.min(text.length, end)])
    .filter(([start, end]) => end > start)
    .sort((a, b) => a[0] - b[0]);
  const segments = [];
  let at = 0;
  for (const [start, end] of sorted) {
    if (start < at) continue;
    if (start > at) segments.push({ text: text.slice(at, start), mark: false });
    segments.push({ text: text.slice(start, end), mark: true });
    at = end;
  }
  if (at < text.length) segments.push({ text: text.slice(at), mark: false });
  return segments;
}

function segmentsFromMarkers(text) {
  const segments = [];
  const parts = text.split(/(<mark>|<\/mark>)/);
  let mark = false;
  for (const part of parts) {
    if (part === '<mark>') mark = true;
    else if (part === '</mark>') mark = false;
    else if (part) segments.push({ text: part, mark });
  }
  return segments;
}

function segmentsFromTerms(text, terms) {
  const folded = foldAccents(text);
  if (folded.length !== text.length) return [{ text, mark: false }];
  const ranges = [];
  const wordStart = /[\p{L}\p{N}]+/gu;
  let match;
  while ((match = wordStart.exec(folded))) {
    const word = match[0];
    for (const term of terms) {
      const stem = term.length > 5 ? term.slice(0, term.length - 2) : term;
      if (word.startsWith(stem)) {
        ranges.push([match.index, match.index + word.length]);
        break;
      }
    }
  }
  return ranges.length ? segmentsFromRanges(text, ranges) : [{ text, mark: false }];
}

/**
 * A passage as a fragment of text nodes with `<mark>` elements around matched terms.
 * @param {string} text
 * @param {{ranges?: number[][], terms?: string[]}} [options] See {@link highlightSegments}.
 * @returns {DocumentFragment}
 */
export function renderHighlighted(text, options) {
  const fragment = document.createDocumentFragment();
  for (const segment of highlightSegments(text, options)) {
    fragment.appendChild(segment.mark ? h('mark', null, segment.text) : document.createTextNode(frenchTypography(segment.text)));
  }
  return fragment;
}

// « § 12 », « §12 », « [§ 12] »; « [3] » source references; **bold**.
const INLINE = /(\*\*[^*\n]+\*\*)|\[?§\s?(\d{1,4})\]?|\[(\d{1,3})\]/g;

/**
 * @typedef {object} AnswerOptions
 * @property {(n: number) => void} [onParagraphRef] Makes « § N » a button calling it.
 * @property {(n: number) => void} [onSourceRef] Makes « [n] » a button calling it.
 * @property {Set<number>} [flaggedRefs] Source numbers shown as flagged (unknown or misquoted).
 */

/**
 * Inline text with bold and clickable references, as a fragment, in French typography
 * ({@link module:common/typography}).
 * @param {string} text
 * @param {AnswerOptions} [options]
 * @returns {DocumentFragment}
 */
export function renderInline(raw, options = {}) {
  const text = frenchTypography(raw);
  const fragment = document.createDocumentFragment();
  let at = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > at) fragment.appendChild(document.createTextNode(text.slice(at, match.index)));
    at = match.index + match[0].length;
    if (match[1]) {
      fragment.appendChild(h('strong', null, match[1].slice(2, -2)));
    } else if (match[2]) {
      const n = Number(match[2]);
      fragment.appendChild(options.onParagraphRef
        ? h('button', {
          type: 'button', className: 'plume-ref plume-ref--paragraph', dataset: { paragraph: String(n) },
          title: `Sélectionner le paragraphe ${n} dans le document`, on: { click: () => options.onParagraphRef(n) },
        }, `§${NBSP}${n}`)
        : document.createTextNode(match[0]));
    } else if (match[3]) {
      const n = Number(match[3]);
      const flagged = options.flaggedRefs && options.flaggedRefs.has(n);
      fragment.appendChild(options.onSourceRef || flagged
        ? h('button', {
          type: 'button',
          className: `plume-ref plume-ref--source${flagged ? ' plume-ref--flagged' : ''}`,
          dataset: { source: String(n) },
          title: flagged ? `Citation [${n}] signalée : à vérifier` : `Voir la source ${n}`,
          on: options.onSourceRef ? { click: () => options.onSourceRef(n) } : undefined,
        }, `[${n}]`)
        : document.createTextNode(match[0]));
    }
  }
  if (at < text.length) fragment.appendChild(document.createTextNode(text.slice(at)));
  return fragment;
}

/**
 * Renders a model answer into `container` (replacing its content): paragraphs, `#` headings,
 * `-`/`*`/`1.` lists and inline references. Safe to call again with a longer text while the
 * answer streams.
 * @param {HTMLElement} container
 * @param {string} text
 * @param {AnswerOptions} [options]
 */
export function renderAnswer(container, text, options = {}) {
  const blocks = [];
  let list = null;
  let paragraph = null;
  const closeParagraph = () => { paragraph = null; };
  for (const rawLine of String(text || '').split('\n')) {
    const line = rawLine.trimEnd();
    const heading = /^(#{1,4})\s+(.*)$/.exec(line);
    const bullet = /^\s*(?:[-*•])\s+(.*)$/.exec(line);
    const numbered = /^\s*(\d{1,3})[.)]\s+(.*)$/.exec(line);
    if (!line.trim()) {
      list = null;
      closeParagraph();
    } else if (heading) {
      list = null;
      closeParagraph();
      blocks.push(h(heading[1].length <= 2 ? 'h3' : 'h4', { className: 'plume-answer__heading' }, renderInline(heading[2], options)));
    } else if (bullet || numbered) {
      closeParagraph();
      const tag = bullet ? 'ul' : 'ol';
      if (!list || list.tagName.toLowerCase() !== tag) {
        list = h(tag, { className: 'plume-answer__list' });
        if (numbered) list.start = Number(numbered[1]);
        blocks.push(list);
      }
      list.appendChild(h('li', null, renderInline((bullet || numbered)[bullet ? 1 : 2], options)));
    } else if (paragraph) {
      paragraph.appendChild(h('br'));
      paragraph.appendChild(renderInline(line, options));
    } else {
      list = null;
      paragraph = h('p', null, renderInline(line, options));
      blocks.push(paragraph);
    }
  }
  container.replaceChildren(...blocks);
}

/**
 * Plain text of a model answer for insertion into a document: markdown markers removed,
 * references kept as written.
 * @param {string} text
 * @returns {string}
 */
export function answerToPlainText(text) {
  return String(text || '')
    .split('\n')
    .map((line) => line.replace(/^#{1,4}\s+/, '').replace(/^\s*[*•]\s+/, '- ').replace(/\*\*([^*\n]+)\*\*/g, '$1'))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const DATE_FORMAT = new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

/**
 * « 18 nov. 2020 » from an ISO date; the input unchanged when it is not a date.
 * @param {string} iso
 * @returns {string}
 */
export function formatDate(iso) {
  if (!iso) return '';
  const date = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  return Number.isNaN(date.getTime()) ? String(iso) : DATE_FORMAT.format(date);
}

/**
 * « 01:02:03 » or « 02:03 » from seconds (transcript timestamps).
 * @param {number} seconds
 * @returns {string}
 */
export function formatTimestamp(seconds) {
  const total = Math.max(0, Math.floor(Number(seconds) || 0));
  const hh = Math.floor(total / 3600);
  const mm = Math.floor((total % 3600) / 60);
  const ss = total % 60;
  const pad = (n) => String(n).padStart(2, '0');
  return hh ? `${pad(hh)}:${pad(mm)}:${pad(ss)}` : `${pad(mm)}:${pad(ss)}`;
}

/** The zones of a decision, as the search API names them, in French for the reader. */
export const ZONE_LABELS = Object.freeze({
  introduction: 'Introduction',
  expose: 'Exposé du litige',
  moyens: 'Moyens',
  motivations: 'Motivation',
  dispositif: 'Dispositif',
  annexes: 'Annexes',
  texte: 'Texte',
});

/**
 * « Motivation » for the API's « motivations »; an unknown zone is shown as it came.
 * @param {string} zone
 * @returns {string}
 */
export function zoneLabel(zone) {
  return ZONE_LABELS[zone] || String(zone || '');
}
