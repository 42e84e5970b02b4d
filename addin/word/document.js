/**
 * Everything the Word pane does to the document, in one place, behind feature detection.
 *
 * Human oversight is enforced here: generated text enters only through
 * {@link insertGenerated}, which turns change tracking on (WordApi 1.4), wraps the text in
 * a content control tagged {@link AI_TAG} and titled {@link AI_TITLE}, adds a comment listing
 * its sources, then restores the user's previous tracking mode.
 * @module word/document
 */
import { isSetSupported } from '../common/host.js';

/** Tag of the content controls that hold AI-generated text (for audits and macros). */
export const AI_TAG = 'plume-ai';
/** Title shown on those content controls. */
export const AI_TITLE = 'Texte généré par IA – à vérifier';

/**
 * What this Word host can do, from its requirement sets.
 * @returns {{read: boolean, tracking: boolean, comments: boolean, footnotes: boolean}}
 */
export function capabilities() {
  return {
    read: isSetSupported('WordApi', '1.1'),
    tracking: isSetSupported('WordApi', '1.4'),
    comments: isSetSupported('WordApi', '1.4'),
    footnotes: isSetSupported('WordApi', '1.5'),
  };
}

/** Raised when the host lacks what an action needs; its message is French. */
export class UnsupportedError extends Error {
  constructor(message) {
    super(message);
    this.name = 'UnsupportedError';
  }
}

function requireWord() {
  if (typeof Word === 'undefined' || !capabilities().read) {
    throw new UnsupportedError("Cette version de Word ne permet pas à Plume de lire ou modifier le document (WordApi 1.1 requis).");
  }
}

/**
 * The selected text and its paragraphs.
 * @returns {Promise<{text: string, paragraphs: string[]}>}
 */
export async function readSelection() {
  requireWord();
  return Word.run(async (context) => {
    const range = context.document.getSelection();
    range.load('text');
    const paragraphs = range.paragraphs;
    paragraphs.load('items/text');
    await context.sync();
    return { text: range.text, paragraphs: paragraphs.items.map((p) => p.text) };
  });
}

/**
 * The text of every paragraph of the document body, in order.
 * @returns {Promise<string[]>}
 */
export async function readDocumentParagraphs() {
  requireWord();
  return Word.run(async (context) => {
    const paragraphs = context.document.body.paragraphs;
    paragraphs.load('items/text');
    await context.sync();
    return paragraphs.items.map((p) => p.text);
  });
}

/**
 * Selects a paragraph the summary referred to. Tries its recorded position first, then
 * looks for the same text (the document may have changed since).
 * @param {{index: number|null, text: string}} ref
 * @returns {Promise<boolean>} false when the paragraph is no longer in the document.
 */
export async function selectParagraph(ref) {
  requireWord();
  return Word.run(async (context) => {
    const paragraphs = context.document.body.paragraphs;
    paragraphs.load('items/text');
    await context.sync();
    const items = paragraphs.items;
    const wanted = ref.text.trim();
    let target = null;
    if (ref.index !== null && ref.index < items.length && items[ref.index].text.trim() === wanted) target = items[ref.index];
    if (!target) target = items.find((p) => p.text.trim() === wanted) || null;
    if (!target) return false;
    target.select();
    await context.sync();
    return true;
  });
}

/**
 * Runs `insert(context, selection)` with change tracking on, then restores the previous mode
 * (even when the insertion fails). Without WordApi 1.4 the insertion runs untracked and the
 * result says so, so the pane can tell the user.
 * @param {(context: object, selection: object) => (void|Promise<void>)} insert queues the document changes.
 * @returns {Promise<{tracked: boolean}>}
 */
export async function withTracking(insert) {
  const { tracking } = capabilities();
  return Word.run(async (context) => {
    const doc = context.document;
    let previous = null;
    if (tracking) {
      doc.load('changeTrackingMode');
      await context.sync();
      previous = doc.changeTrackingMode;
      if (previous !== Word.ChangeTrackingMode.trackAll) doc.changeTrackingMode = Word.ChangeTrackingMode.trackAll;
    }
    let inserted;
    try {
      inserted = await insert(context, doc.getSelection());
      await context.sync();
    } finally {
      if (tracking && previous !== null && previous !== Word.ChangeTrackingMode.trackAll) {
        doc.changeTrackingMode = previous;
        await context.sync();
      }
    }
    return { tracked: tracking, inserted };
  });
}

/**
 * The text with its « [n] » replaced by « (citation) », for a Word without footnotes (the
 * same fallback as Rechercher's « Citer »). A number with no citation stays as it is.
 * @param {string} text
 * @param {Map<number, string>} citations
 * @returns {string}
 */
export function inlineCitations(text, citations) {
  return String(text).replace(/[ \u00a0]?\[(\d+)\]/g, (whole, n) => (citations.has(Number(n)) ? ` (${citations.get(Number(n))})` : whole));
}

/**
 * Inserts AI-generated text: tracked, in a tagged content control, with a sources comment.
 * The « [n] » of a grounded draft become real citations: footnotes where WordApi 1.5 allows
 * (each marker found in the inserted text, a footnote put after it, the marker removed, all
 * tracked), otherwise the citation in parentheses in the text.
 * @param {string} text Plain text (paragraphs separated by newlines).
 * @param {object} options
 * @param {'after'|'replace'} options.location After the selection (new paragraph) or replacing it.
 * @param {string} options.comment Comment listing the sources (added when WordApi 1.4 allows).
 * @param {Map<number, string>|null} [options.citations] Source number → its citation.
 * @returns {Promise<{tracked: boolean, commented: boolean, footnotes: number, control: {id: number, text: string}}>}
 *   `control`: the content control holding the text, and its text as Word holds it;
 *   `footnotes`: how many citations went into footnotes.
 */
export async function insertGenerated(text, { location, comment, citations = null }) {
  requireWord();
  const { comments, footnotes } = capabilities();
  const cited = citations && citations.size ? citations : null;
  const body = cited && !footnotes ? inlineCitations(text, cited) : text;
  let notes = 0;
  const result = await withTracking(async (context, selection) => {
    const target = location === 'replace'
      ? selection.insertText(body, Word.InsertLocation.replace)
      : selection.insertParagraph(body, Word.InsertLocation.after);
    const control = target.insertContentControl();
    control.tag = AI_TAG;
    control.title = AI_TITLE;
    control.appearance = Word.ContentControlAppearance.boundingBox;
    if (cited && footnotes) {
      // « mot [1]. » becomes « mot¹. »: the marker goes with the space before it, when there is one.
      for (const before of [' ', '']) {
        const range = control.getRange();
        const searches = [...cited.keys()].map((n) => {
          const found = range.search(`${before}[${n}]`, { matchCase: true, matchWildcards: false });
          found.load('items');
          return [n, found];
        });
        await context.sync();
        for (const [n, found] of searches) {
          for (const marker of found.items) {
            marker.insertFootnote(cited.get(n));
            marker.insertText('', Word.InsertLocation.replace);
            notes += 1;
          }
        }
      }
    }
    if (comments && comment) control.getRange().insertComment(comment);
    control.load('id,text');
    return control;
  });
  const control = result.inserted;
  // The text as Word holds it (its own paragraph marks), the baseline later edits compare to.
  return {
    tracked: result.tracked, commented: comments && Boolean(comment), footnotes: notes,
    control: { id: control.id, text: control.text },
  };
}

/**
 * The current text of content controls, by id; null for a control no longer in the document
 * (deleted, or unwrapped by the user: Word cannot tell them apart). Needs WordApi 1.3.
 * @param {number[]} ids
 * @returns {Promise<Map<number, string|null>>}
 */
export async function controlTexts(ids) {
  requireWord();
  if (!isSetSupported('WordApi', '1.3')) throw new UnsupportedError('WordApi 1.3 requis pour relire un texte inséré.');
  return Word.run(async (context) => {
    const controls = ids.map((id) => {
      const control = context.document.contentControls.getByIdOrNullObject(id);
      control.load('text');
      return [id, control];
    });
    await context.sync();
    return new Map(controls.map(([id, control]) => [id, control.isNullObject ? null : control.text]));
  });
}

/**
 * Inserts a citation at the selection: a footnote when WordApi 1.5 allows, otherwise inline
 * in parentheses after the selection. Tracked like any other insertion.
 * @param {string} citation e.g. « Cass. com., 18 nov. 2020, n° 19-19.463 »
 * @returns {Promise<{footnote: boolean, tracked: boolean}>}
 */
export async function insertCitation(citation) {
  requireWord();
  const { footnotes } = capabilities();
  const result = await withTracking((context, selection) => {
    if (footnotes) selection.insertFootnote(citation);
    else selection.insertText(` (${citation})`, Word.InsertLocation.end);
  });
  return { footnote: footnotes, tracked: result.tracked };
}
