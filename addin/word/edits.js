/**
 * Whether AI text was edited after insertion: the « edited » outcome of the observatory.
 *
 * Each insertion wraps the text in a content control (document.js); its text as Word held it
 * right after insertion is the baseline. The pane reads the controls again when it may have
 * missed a change — when it regains focus or becomes visible (the user was typing in the
 * document), every {@link CHECK_EVERY_MS} while some text is watched, and before the next
 * task — and sends `outcome: 'edited'` once for an answer whose text changed. The
 * observatory keeps an answer's latest text event, so « inserted » becomes « edited ».
 *
 * A control that disappeared (the text deleted, or the control removed and the text kept:
 * Word cannot tell which) is no longer watched and nothing is sent for it.
 * @module word/edits
 */
import { sendFeedback } from '../common/api.js';
import { isSetSupported } from '../common/host.js';
import { controlTexts } from './document.js';

/** How often watched text is read again while the pane is open (ms). */
export const CHECK_EVERY_MS = 30_000;
/** Most insertions watched at once; the oldest is dropped first. */
export const MAX_WATCHED = 20;

/** interaction id → {id: control id, text: baseline, inserted: the « inserted » report} */
const watched = new Map();
let timer = null;
let checking = null;
let listening = false;

/**
 * Starts watching the text of one insertion.
 * @param {string} interactionId
 * @param {{id: number, text: string}} control From {@link insertGenerated}.
 * @param {Promise<unknown>} [inserted] The « inserted » report: « edited » must come after it,
 *   the observatory keeping an answer's latest event.
 */
export function watchEdits(interactionId, control, inserted = Promise.resolve()) {
  if (!interactionId || !control || control.id === undefined || !isSetSupported('WordApi', '1.3')) return;
  watched.delete(interactionId);
  watched.set(interactionId, { id: control.id, text: control.text, inserted });
  while (watched.size > MAX_WATCHED) watched.delete(watched.keys().next().value);
  listen();
  if (!timer) timer = setInterval(() => { checkEdits(); }, CHECK_EVERY_MS);
}

/**
 * Reads the watched controls once and reports those whose text changed. Never throws;
 * concurrent calls share one read.
 * @returns {Promise<string[]>} the interaction ids reported as edited by this call.
 */
export function checkEdits() {
  if (!checking) checking = readAndReport().finally(() => { checking = null; });
  return checking;
}

async function readAndReport() {
  if (watched.size === 0) return [];
  const entries = [...watched.entries()];
  let texts;
  try {
    texts = await controlTexts(entries.map(([, control]) => control.id));
  } catch (err) {
    console.warn('Plume: inserted text could not be read again', err);
    return [];
  }
  const edited = [];
  for (const [interactionId, control] of entries) {
    const now = texts.get(control.id);
    if (now === undefined) continue;
    if (now === null) {
      watched.delete(interactionId);
    } else if (now !== control.text) {
      watched.delete(interactionId);
      edited.push(interactionId);
      control.inserted.then(() => sendFeedback({ interaction_id: interactionId, outcome: 'edited' }));
    }
  }
  if (watched.size === 0 && timer) {
    clearInterval(timer);
    timer = null;
  }
  return edited;
}

function listen() {
  if (listening) return;
  listening = true;
  window.addEventListener('focus', () => { checkEdits(); });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') checkEdits();
  });
}
