/**
 * Copy to the clipboard from a task pane.
 * @module common/clipboard
 */
import { h } from './render.js';

/**
 * Copies text to the clipboard (with the textarea fallback Office webviews sometimes need).
 * @param {string} text
 * @returns {Promise<boolean>} false when neither way worked.
 */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (_) {
    const area = h('textarea', { className: 'plume-visually-hidden', 'aria-hidden': 'true' });
    area.value = text;
    document.body.appendChild(area);
    area.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch (__) { ok = false; }
    area.remove();
    return ok;
  }
}
