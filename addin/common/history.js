/**
 * The recent answers for this document or this message, kept on the device (the pane's
 * localStorage, which Office keeps per add-in), never on the server: coming back to one of 40
 * files or 200 mails shows what Plume already answered instead of generating it again.
 *
 * Keys: the Word document's URL (`Office.context.document.url`; an unsaved document has none,
 * so no history) or the mail's `itemId`. Only the answer text and what is needed to show it
 * again are kept, a few per document, for a limited number of documents.
 * @module common/history
 */
import { h, setText } from './render.js';

const PREFIX = 'plume.history.v1:';
/** Answers kept per document or message and task. */
export const MAX_PER_TASK = 5;
/** Documents and messages remembered; the least recently used are forgotten first. */
export const MAX_KEYS = 60;
/** Longest answer kept (characters); longer ones are not kept rather than cut. */
export const MAX_TEXT_CHARS = 30000;

/**
 * @typedef {object} HistoryEntry
 * @property {string} task
 * @property {string} text The answer as the model wrote it.
 * @property {number} at Time (ms since 1970).
 * @property {string|null} [interactionId]
 * @property {boolean} [demo]
 * @property {object} [extra] What the pane needs to show it again (e.g. a mail's fields).
 */

function storage() {
  try {
    return globalThis.localStorage || null;
  } catch (_) {
    return null; // storage refused (private mode, policy): no history, nothing breaks
  }
}

/**
 * The history key of the Word document on screen, or null when it has no URL (unsaved).
 * @returns {string|null}
 */
export function documentKey() {
  try {
    const url = Office.context.document && Office.context.document.url;
    return url ? `word:${url}` : null;
  } catch (_) {
    return null;
  }
}

/**
 * The history key of the mail on screen, or null (a message being written has no id yet).
 * @returns {string|null}
 */
export function messageKey() {
  try {
    const item = Office.context.mailbox && Office.context.mailbox.item;
    return item && item.itemId ? `mail:${item.itemId}` : null;
  } catch (_) {
    return null;
  }
}

function read(key) {
  const store = storage();
  if (!store || !key) return [];
  try {
    const value = JSON.parse(store.getItem(PREFIX + key) || '[]');
    return Array.isArray(value) ? value : [];
  } catch (_) {
    return [];
  }
}

function forgetOldKeys(store) {
  const keys = [];
  for (let i = 0; i < store.length; i += 1) {
    const name = store.key(i);
    if (name && name.startsWith(PREFIX)) {
      const entries = read(name.slice(PREFIX.length));
      keys.push({ name, last: Math.max(0, ...entries.map((e) => e.at || 0)) });
    }
  }
  keys.sort((a, b) => b.last - a.last);
  for (const { name } of keys.slice(MAX_KEYS)) store.removeItem(name);
}

/**
 * Keeps `entry` for `key` (newest first, `MAX_PER_TASK` per task).
 * @param {string|null} key
 * @param {HistoryEntry} entry
 * @returns {boolean} false when nothing was kept (no key, no storage, answer too long).
 */
export function remember(key, entry) {
  const store = storage();
  if (!store || !key || !entry.text || entry.text.length > MAX_TEXT_CHARS) return false;
  const entries = [{ ...entry, at: entry.at || Date.now() }, ...read(key)];
  const kept = [];
  const perTask = new Map();
  for (const e of entries) {
    const n = (perTask.get(e.task) || 0) + 1;
    perTask.set(e.task, n);
    if (n <= MAX_PER_TASK) kept.push(e);
  }
  try {
    store.setItem(PREFIX + key, JSON.stringify(kept));
    forgetOldKeys(store);
    return true;
  } catch (_) {
    return false; // storage full: the answer is simply not kept
  }
}

/**
 * The kept answers of `task` for `key`, newest first.
 * @param {string|null} key
 * @param {string} task
 * @returns {HistoryEntry[]}
 */
export function recall(key, task) {
  return read(key).filter((e) => e.task === task);
}

const WHEN = new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

/**
 * « 7 déc. à 14:05 » for a time in ms.
 * @param {number} at
 * @returns {string}
 */
export function formatWhen(at) {
  const parts = WHEN.formatToParts(new Date(at));
  const get = (type) => (parts.find((p) => p.type === type) || {}).value || '';
  return `${get('day')} ${get('month')} à ${get('hour')}:${get('minute')}`;
}

/** First words of an answer, for the list. */
function preview(text) {
  const flat = String(text).replace(/[#*]/g, '').replace(/\s+/g, ' ').trim();
  return flat.length > 70 ? `${flat.slice(0, 70).trimEnd()}…` : flat;
}

/**
 * The « Historique » list of a panel: a disclosure with one button per kept answer. It
 * stays hidden while there is nothing to show; call `refresh()` after `remember`.
 * @param {{key: string|null, task: string, onRestore: (entry: HistoryEntry) => void}} options
 * @returns {{element: HTMLElement, refresh: () => void}}
 */
export function historyList({ key, task, onRestore }) {
  const list = h('ol', { className: 'plume-history__list' });
  const summary = h('summary', null, 'Historique');
  const element = h('details', { className: 'plume-history', hidden: true, dataset: { task } }, summary, list);
  const refresh = () => {
    const entries = recall(key, task);
    element.hidden = entries.length === 0;
    setText(summary, `Historique (${entries.length})`);
    list.replaceChildren(...entries.map((entry) => h('li', null, h('button', {
      type: 'button', className: 'plume-history__item',
      on: { click: () => { element.open = false; onRestore(entry); } },
    }, h('span', { className: 'plume-history__when' }, formatWhen(entry.at)), ' ', preview(entry.text)))));
  };
  refresh();
  return { element, refresh };
}
