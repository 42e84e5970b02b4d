/**
 * « À propos de Plume »: fills the page with what this server really does, from
 * `GET /api/v1/about` (model and host, sources, limits of use, record-keeping).
 * The page keeps its built-in French text when the server cannot be reached.
 * @module common/about
 */
import { getJSON, startSession } from './api.js';
import { setupBack } from './back.js';
import { followOfficeTheme } from './host.js';
import { typesetPage } from './render.js';
import { onSignInStatus } from './signin-status.js';

/** Days in a month, to say « 6 mois » rather than « 183 jours ». */
const DAYS_PER_MONTH = 30.5;

/**
 * A retention in days, said the way people say it.
 * @param {number} days
 * @returns {string}
 */
export function describeRetention(days) {
  const months = Math.round(days / DAYS_PER_MONTH);
  if (days >= 60 && Math.abs(months * DAYS_PER_MONTH - days) <= 3) return `${months} mois (${days} jours)`;
  return `${days} jour${days > 1 ? 's' : ''}`;
}

function setText(id, text) {
  const element = document.getElementById(id);
  if (element && text !== null && text !== undefined) element.textContent = String(text);
  return element;
}

function render(about) {
  setText('about-model-name', about.model.name || 'non précisé');
  setText('about-model-host', about.model.host || 'aucun hébergeur configuré');
  setText('about-version', about.version);
  const notice = document.getElementById('about-model-notice');
  notice.hidden = !about.model.notice;
  if (about.model.notice) notice.textContent = about.model.notice;

  setText('about-sources-text', about.sources.description);
  if (Number.isInteger(about.sources.decisions)) {
    const n = about.sources.decisions;
    // French agreement: « 0 décision indexée », « 1 décision », « 2 décisions ».
    const decisions = setText('about-decisions', n < 2
      ? `${n} décision est actuellement indexée.`
      : `${n.toLocaleString('fr-FR')} décisions sont actuellement indexées.`);
    decisions.hidden = false;
  }

  const list = document.getElementById('about-not-for');
  list.replaceChildren(...about.not_for.map((line) => {
    const item = document.createElement('li');
    item.textContent = line;
    return item;
  }));

  const records = about.records;
  setText('about-records-text', records.description);
  setText('about-retention', describeRetention(records.retention_days));
  setText('about-content-logging', records.content_logging
    ? `activée par l'administrateur (contenus conservés ${describeRetention(records.content_retention_days)})`
    : 'désactivée : aucun texte n\'est conservé');
}

async function main() {
  followOfficeTheme(); // outside Office: the system's light or dark theme
  setupBack();
  const status = document.getElementById('about-status');
  // Opened in a plain browser, sign-in may leave for the organisation's sign-in page: say so.
  onSignInStatus((message) => { status.textContent = message; });
  try {
    try {
      await startSession();
    } catch (err) {
      console.warn('Plume: sign-in not available on this page', err);
    }
    render(await getJSON('/about'));
    status.textContent = '';
    status.hidden = true;
  } catch (err) {
    const reason = (err && err.userMessage) || 'Connexion requise.';
    status.textContent = `Les informations propres à ce serveur n'ont pas pu être chargées. ${reason} `
      + 'Les principes ci-dessous restent valables.';
  }
  typesetPage(); // the page's text and the server's, in French typography
}

main();
