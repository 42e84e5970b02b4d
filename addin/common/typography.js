/**
 * French typography for the text the panes show, applied once by the renderer (render.js)
 * rather than string by string: no line may start with « : », « ? » or a lone « [1] », a
 * pourvoi number is never split, and apostrophes are typographic.
 *
 * Pure string functions, no DOM: the module loads on its own in node for its unit tests.
 * @module common/typography
 */

/** No-break space: before « : », inside « », after « n° », « M. », « Mme ». */
export const NBSP = '\u00a0';
/** Narrow no-break space: before « ; », « ? », « ! » (Imprimerie nationale). */
export const NNBSP = '\u202f';
/** Non-breaking hyphen, inside pourvoi numbers (« 23‑11.537 »). */
export const NBHYPHEN = '\u2011';

// Ordinary spaces and tabs only: a line break the author wrote stays a line break.
const SPACE = '[ \\t\\u00a0\\u202f]';

const RULES = [
  // Typographic apostrophe between letters (« l'arrêt » → « l’arrêt »), never in code-like text.
  [/(\p{L})'(?=\p{L})/gu, '$1’'],
  // Guillemets hold their text with no-break spaces, whatever the model wrote inside.
  [new RegExp(`«${SPACE}*`, 'g'), `«${NBSP}`],
  [new RegExp(`${SPACE}*»`, 'g'), `${NBSP}»`],
  // No space at all before a full stop or a comma that ends a word (« l'entreprise [1] . »),
  // nor inside brackets; « (.eml, .msg) » keeps its space before an extension.
  [new RegExp(`${SPACE}+([.,])(?=\\s|$|[)»\\]])`, 'g'), '$1'],
  [new RegExp(`\\(${SPACE}+`, 'g'), '('],
  [new RegExp(`${SPACE}+\\)`, 'g'), ')'],
  // « : » takes a no-break space; « ; ? ! » a narrow one; added after a word when missing.
  [new RegExp(`(?:${SPACE}+|(?<=[\\p{L}\\p{N}»)\\]]))(:)(?=\\s|$)`, 'gu'), `${NBSP}$1`],
  [new RegExp(`(?:${SPACE}+|(?<=[\\p{L}\\p{N}»)\\]]))([;?!]+)(?=\\s|$|[»)])`, 'gu'), `${NNBSP}$1`],
  // Abbreviations that must not end a line: « n° 23 », « M. Martin », « Mme Durand », « § 4 ».
  [new RegExp(`(\\b[nN]°|\\bMM?\\.|\\bMmes?|\\bMlle|\\bMe|\\bart\\.|§)${SPACE}+(?=[\\p{L}\\p{N}])`, 'gu'), `$1${NBSP}`],
  // Pourvoi numbers (« 23-11.537 ») keep their hyphen on one line.
  [/\b(\d{2})-(\d{2}\.\d{3})\b/g, `$1${NBHYPHEN}$2`],
  // A source chip stays on the line of the word it documents.
  [new RegExp(`(\\S)${SPACE}+(\\[\\d{1,3}\\])`, 'g'), `$1${NBSP}$2`],
];

/**
 * `text` with French typography: no-break spaces before « : ; ? ! », inside « », after
 * « n° », « M. », « Mme »; non-breaking hyphens in pourvoi numbers; typographic apostrophes;
 * no space before « . » and « , » or inside brackets.
 * @param {string} text
 * @returns {string}
 */
export function frenchTypography(text) {
  let out = String(text ?? '');
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}
