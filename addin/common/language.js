/**
 * The « translate » task's answer: a first line « Langue d'origine : … » naming the language
 * the model recognised, then the translation (backend/llm/prompts/translate.v1.md). Shared by
 * Word's Traduire tab and Outlook's « Traduire en français ».
 * @module common/language
 */

const LANGUAGE_LINE = /^\s*Langue d['’]origine\s*:\s*([^\n]*)(\n|$)/i;

/**
 * Splits the model's answer into the language it recognised (its first line) and the
 * translation. Without that line (a model that did not follow the form) all is translation;
 * while the line is still arriving, nothing is translation yet.
 * @param {string} text
 * @returns {{language: string|null, body: string}}
 */
export function splitLanguage(text) {
  const source = String(text || '');
  const match = LANGUAGE_LINE.exec(source);
  if (!match) return { language: null, body: source };
  if (match[2] !== '\n') return { language: null, body: '' };
  const language = match[1].replace(/[.«»"]/g, '').trim().toLowerCase() || null;
  return { language, body: source.slice(match[0].length).replace(/^\s*\n/, '') };
}
