/**
 * Keyboard shortcuts of the panes, the same in Word and Outlook: Ctrl+Entrée (⌘+Entrée on a
 * Mac) runs the action of the panel on screen, Échap stops what runs. The buttons they press
 * are marked `data-shortcut="run"` / `"stop"` in the pages (with `aria-keyshortcuts`, which
 * screen readers announce).
 * @module common/keyboard
 */

function onScreen(element) {
  return element.getClientRects().length > 0 && !element.closest('[hidden]');
}

/**
 * The marked button of the panel on screen, if any.
 * @param {'run'|'stop'} kind
 * @param {ParentNode} [root]
 * @returns {HTMLButtonElement|null}
 */
export function shortcutButton(kind, root = document) {
  return [...root.querySelectorAll(`[data-shortcut="${kind}"]`)].find(onScreen) || null;
}

/**
 * Listens for Ctrl+Entrée and Échap on the whole page.
 * @param {Document} [doc]
 */
export function setupShortcuts(doc = document) {
  doc.addEventListener('keydown', (event) => {
    if (event.defaultPrevented) return;
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      // In a comment or a refinement box, Ctrl+Entrée must not start the panel's task anew.
      if (event.target instanceof Element && event.target.closest('.plume-feedback, .plume-refine')) return;
      const run = shortcutButton('run', doc);
      if (!run || run.getAttribute('aria-disabled') === 'true') return;
      event.preventDefault();
      run.click();
    } else if (event.key === 'Escape') {
      const stop = shortcutButton('stop', doc);
      if (!stop) return;
      event.preventDefault();
      stop.click();
    }
  });
}
