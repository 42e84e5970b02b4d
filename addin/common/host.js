/**
 * Office host helpers shared by the panes: waiting for Office.js, feature detection of
 * requirement sets, and following the Office theme.
 * @module common/host
 */

/** How long to wait for Office.js before telling the user to open the pane from Office. */
export const OFFICE_READY_TIMEOUT_MS = 10000;

/**
 * Resolves when Office.js is ready, with `{host, platform}`; rejects with a French message
 * when Office.js did not load (page opened outside Office, or the Microsoft host unreachable).
 * @returns {Promise<{host: string|null, platform: string|null}>}
 */
export function whenOfficeReady() {
  return new Promise((resolve, reject) => {
    if (typeof Office === 'undefined' || typeof Office.onReady !== 'function') {
      reject(new Error("Office.js n'a pas pu être chargé : ouvrez Plume depuis Word ou Outlook, et vérifiez l'accès à appsforoffice.microsoft.com."));
      return;
    }
    const timer = setTimeout(() => reject(new Error("Office ne répond pas : fermez puis rouvrez le volet Plume.")), OFFICE_READY_TIMEOUT_MS);
    Office.onReady((info) => {
      clearTimeout(timer);
      resolve({ host: info && info.host, platform: info && info.platform });
    });
  });
}

/**
 * True when the host supports `name` at `version` (false when Office.js cannot tell).
 * @param {string} name e.g. `WordApi`
 * @param {string} version e.g. `1.5`
 * @returns {boolean}
 */
export function isSetSupported(name, version) {
  try {
    return Boolean(Office.context.requirements.isSetSupported(name, version));
  } catch (_) {
    return false;
  }
}

function luminance(color) {
  const match = /^#?([0-9a-f]{6})$/i.exec(String(color || '').trim());
  if (!match) return null;
  const n = parseInt(match[1], 16);
  const channel = (v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel((n >> 16) & 255) + 0.7152 * channel((n >> 8) & 255) + 0.0722 * channel(n & 255);
}

/**
 * Applies `Office.context.officeTheme` (when the host gives it) to the CSS variables of
 * ui.css, and marks the page dark or light so accents keep their contrast. Also follows
 * theme changes when the host reports them.
 * @param {Document} [doc=document]
 * @returns {boolean} true when an Office theme was applied.
 */
export function followOfficeTheme(doc = document) {
  const apply = (theme) => {
    if (!theme || !theme.bodyBackgroundColor) return false;
    const root = doc.documentElement;
    root.style.setProperty('--plume-bg', theme.bodyBackgroundColor);
    if (theme.bodyForegroundColor) root.style.setProperty('--plume-fg', theme.bodyForegroundColor);
    if (theme.controlBackgroundColor) root.style.setProperty('--plume-control-bg', theme.controlBackgroundColor);
    if (theme.controlForegroundColor) root.style.setProperty('--plume-control-fg', theme.controlForegroundColor);
    const lum = luminance(theme.bodyBackgroundColor);
    root.dataset.theme = lum !== null && lum < 0.4 ? 'dark' : 'light';
    return true;
  };
  let applied = false;
  try {
    applied = apply(Office.context.officeTheme);
    if (Office.EventType && Office.EventType.OfficeThemeChanged && Office.context.document
      && typeof Office.context.document.addHandlerAsync === 'function') {
      Office.context.document.addHandlerAsync(Office.EventType.OfficeThemeChanged, (event) => apply(event.officeTheme));
    }
  } catch (_) {
    // Hosts without officeTheme (Office on the web in some versions) fall back below.
  }
  if (!applied && typeof matchMedia === 'function') {
    doc.documentElement.dataset.theme = matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  }
  return applied;
}
