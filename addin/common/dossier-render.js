/**
 * How a dossier reads in the panes: its inventory, the estimate, the progress, and the
 * synthesis by section with every reference a button — and the same synthesis as plain text
 * for Copier and Insérer. Model text is rendered as text, never as HTML.
 * @module common/dossier-render
 */
import { h } from './render.js';
import { frenchTypography } from './typography.js';
import { message } from './widgets.js';

/** Longest quotation shown under an item (the whole one is in the button's title). */
const MAX_QUOTE_CHARS = 160;
const KIB = 1024;

/** French names of the file formats of the inventory. */
export const FORMAT_NAMES = Object.freeze({
  pdf: 'PDF', docx: 'Word (.docx)', odt: 'OpenDocument (.odt)', txt: 'Texte (.txt)',
  eml: 'Courriel (.eml)', msg: 'Courriel Outlook (.msg)',
});

/** French names of a dossier's states (`held` is a queued dossier waiting for « Lancer »). */
export const STATE_NAMES = Object.freeze({
  held: 'À lancer', queued: 'En attente', running: 'En cours', done: 'Terminé', failed: 'Échec', cancelled: 'Annulé',
});

/** What each flag of the server's checks means for the reader. */
export const FLAG_TEXT = Object.freeze({
  reference_introuvable: 'Référence introuvable : ce fichier ou cette page n’existe pas dans le dossier.',
  citation_non_trouvee: 'Citation non trouvée telle quelle à la page indiquée.',
  page_mal_reconnue: 'Page mal reconnue par l’OCR : vérifiez sur l’original.',
});

// ---------------------------------------------------------------------------------------
// Words and numbers

const NUMBER = new Intl.NumberFormat('fr-FR');
/** « 7 décembre 2026 à 16:40 »: when a dossier was made. */
export const WHEN = new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit' });
const LONG_DATE = new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

/** « 52 000 » (French grouping). @param {number} n @returns {string} */
export function formatNumber(n) {
  return NUMBER.format(Number(n) || 0);
}

/** « 3 pages », « 1 page ». */
export function plural(n, one, many = `${one}s`) {
  return `${formatNumber(n)} ${Number(n) > 1 ? many : one}`;
}

/**
 * « 2 avril 2023 » from an ISO date (« 2023-04 » and « 2023 » stay as they are).
 * @param {string|null} iso
 * @returns {string}
 */
export function formatLongDate(iso) {
  if (!iso) return '';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(iso)) return String(iso);
  const date = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return String(iso);
  // French writes the first day of a month as an ordinal: « 1er mars 2021 ».
  return LONG_DATE.format(date).replace(/^1 /, '1er ');
}

/**
 * Time left in words: « moins d'une minute », « environ 4 min », « environ 1 h 20 ».
 * @param {number|null} seconds
 * @returns {string}
 */
export function formatEta(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return 'en cours d’estimation';
  const s = Math.max(0, Number(seconds));
  if (s < 60) return 'moins d’une minute';
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `environ ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `environ ${hours} h ${String(rest).padStart(2, '0')}` : `environ ${hours} h`;
}

function formatSize(bytes) {
  if (!bytes) return '';
  if (bytes < KIB * KIB) return `${Math.max(1, Math.round(bytes / KIB))} Ko`;
  return `${(bytes / (KIB * KIB)).toFixed(1).replace('.', ',')} Mo`;
}

/** The state a user reads: a held dossier is « À lancer ». */
export function stateOf(dossier) {
  return dossier.state === 'queued' && dossier.held ? 'held' : dossier.state;
}

/**
 * Fraction done, for the progress bar: reading (pages, OCR included) counts for half,
 * summarising (parts) for the other half.
 * @param {object} progress
 * @returns {number} 0..1
 */
export function progressFraction(progress) {
  const p = progress || {};
  const ratio = (done, total) => (total > 0 ? Math.min(1, done / total) : 0);
  const reading = p.pages_total > 0 ? ratio(p.pages_read, p.pages_total) : ratio(p.files_read, p.files_total);
  const parts = ratio(p.parts_done, p.parts_total);
  return Math.min(1, reading / 2 + parts / 2);
}

// ---------------------------------------------------------------------------------------
// Rendering

/**
 * The inventory: one card per file, with its type, pages, OCR and error.
 * @param {object[]} inventory
 * @returns {HTMLElement}
 */
export function renderInventory(inventory) {
  return h('ul', { className: 'plume-results dossier-inventory', 'aria-label': 'Fichiers du dossier' },
    (inventory || []).map((file) => {
      const meta = [FORMAT_NAMES[file.format] || (file.format ? String(file.format).toUpperCase() : 'Format inconnu')];
      if (file.pages) meta.push(plural(file.pages, 'page'));
      if (file.size) meta.push(formatSize(file.size));
      let ocr = null;
      if (!file.error && file.ocr_pages > 0) {
        ocr = h('span', { className: 'plume-zone dossier-badge', dataset: { ocr: String(file.ocr_pages) } },
          file.ocr_pages === file.pages ? 'OCR nécessaire' : `OCR nécessaire : ${plural(file.ocr_pages, 'page')}`);
      }
      const low = Array.isArray(file.low_confidence_pages) && file.low_confidence_pages.length
        ? h('p', { className: 'plume-flag' }, `Pages mal reconnues : ${file.low_confidence_pages.map((p) => (typeof p === 'object' ? p.page : p)).join(', ')}`)
        : null;
      return h('li', { className: `plume-card${file.error ? ' plume-card--flagged' : ''}`, dataset: { file: file.name } },
        h('p', { className: 'plume-card__title' }, file.name),
        h('p', { className: 'plume-card__meta' }, meta.join(' · '), ocr ? ' ' : null, ocr),
        low,
        file.error ? h('p', { className: 'plume-flag', dataset: { errorCode: file.error.error || '' } },
          h('span', { 'aria-hidden': 'true' }, '⛔ '), `Non lu : ${file.error.message || 'fichier illisible.'}`) : null);
    }));
}

/**
 * One line on the files: « 3 fichiers lisibles · 42 pages, dont 10 à reconnaître · 1 écarté ».
 * @param {object[]} inventory
 * @returns {string}
 */
export function inventorySummary(inventory) {
  const files = inventory || [];
  const good = files.filter((f) => !f.error);
  const bad = files.length - good.length;
  const pages = good.reduce((n, f) => n + (f.pages || 0), 0);
  const ocr = good.reduce((n, f) => n + (f.ocr_pages || 0), 0);
  const parts = [`${plural(good.length, 'fichier lisible', 'fichiers lisibles')}`, plural(pages, 'page')];
  if (ocr) parts[1] += `, dont ${formatNumber(ocr)} à reconnaître (OCR)`;
  if (bad) parts.push(`${plural(bad, 'fichier écarté', 'fichiers écartés')}`);
  return parts.join(' · ');
}

/**
 * The estimate before starting: pages, calls to the model, tokens.
 * @param {object} estimate
 * @returns {HTMLElement}
 */
export function renderEstimate(estimate) {
  const e = estimate || {};
  return h('div', { className: 'plume-message dossier-estimate', role: 'group', 'aria-labelledby': 'dossier-estimate-title', dataset: { estimate: 'true' } },
    h('strong', { id: 'dossier-estimate-title' }, 'Estimation avant lancement'),
    h('ul', { className: 'dossier-estimate__list' },
      h('li', { dataset: { figure: 'pages' } }, `${plural(e.pages || 0, 'page')} à lire`,
        e.ocr_pages ? `, dont ${formatNumber(e.ocr_pages)} à reconnaître (OCR)` : ''),
      h('li', { dataset: { figure: 'calls' } }, `environ ${plural(e.model_calls || 0, 'appel', 'appels')} au modèle`),
      h('li', { dataset: { figure: 'tokens' } }, `environ ${plural(e.tokens || 0, 'jeton')}`)));
}

/**
 * The progress: a bar, then files read, pages recognised, parts summarised, time left.
 * @param {object} dossier
 * @returns {HTMLElement}
 */
export function renderProgress(dossier) {
  const p = dossier.progress || {};
  const rows = [['Fichiers lus', `${formatNumber(p.files_read || 0)} / ${formatNumber(p.files_total || 0)}`, 'files']];
  if (p.pages_total) rows.push(['Pages lues', `${formatNumber(p.pages_read || 0)} / ${formatNumber(p.pages_total)}`, 'pages']);
  if (p.ocr_pages_total) rows.push(['Pages reconnues (OCR)', `${formatNumber(p.ocr_pages_done || 0)} / ${formatNumber(p.ocr_pages_total)}`, 'ocr']);
  rows.push(['Parties résumées', p.parts_total ? `${formatNumber(p.parts_done || 0)} / ${formatNumber(p.parts_total)}` : 'à venir', 'parts']);
  rows.push(['Temps restant', dossier.state === 'queued' ? 'en attente d’un poste libre' : formatEta(p.eta_seconds), 'eta']);
  const fraction = progressFraction(p);
  return h('div', { className: 'dossier-progress', dataset: { progress: 'true' } },
    h('progress', { className: 'dossier-progress__bar', max: '100', value: String(Math.round(fraction * 100)), 'aria-label': 'Avancement de la synthèse' }),
    h('dl', { className: 'dossier-progress__list' },
      rows.map(([label, value, key]) => h('div', { dataset: { row: key } }, h('dt', null, label), h('dd', null, value)))));
}

const MEGABYTES = new Intl.NumberFormat('fr-FR', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** « 12,3 Mo », « 850 ko ». @param {number} bytes @returns {string} */
export function formatBytes(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1024 * 1024) return `${formatNumber(Math.max(1, Math.round(n / 1024)))} ko`;
  return `${MEGABYTES.format(n / (1024 * 1024))} Mo`;
}

/**
 * The upload of a dossier's files: bytes sent out of the total, then the inventory.
 * @param {{sent: number, total: number, inventory?: boolean}} progress
 * @returns {HTMLElement}
 */
export function renderUpload({ sent, total, inventory = false }) {
  const percent = total ? Math.min(100, Math.round((sent / total) * 100)) : 0;
  const said = inventory
    ? `Fichiers envoyés (${formatBytes(total)}). Inventaire en cours sur le serveur…`
    : `Envoi : ${formatBytes(sent)} sur ${formatBytes(total)} (${percent} %)`;
  return h('div', { className: 'dossier-progress', dataset: { upload: inventory ? 'inventory' : 'sending', sent: String(sent), total: String(total) } },
    h('progress', { className: 'dossier-progress__bar', max: '100', value: String(inventory ? 100 : percent), 'aria-label': 'Envoi des fichiers' }),
    h('p', { className: 'plume-card__meta' }, frenchTypography(said)));
}

/**
 * One reference as a button opening the file at its page.
 * @param {object} ref {file, page, quote, verified}
 * @param {(ref: object) => void} onOpen
 * @returns {HTMLButtonElement}
 */
function referenceButton(ref, onOpen) {
  const label = ref.page ? `${ref.file}, p. ${ref.page}` : ref.file;
  return h('button', {
    type: 'button',
    className: `plume-ref${ref.verified === false ? ' plume-ref--flagged' : ''}`,
    dataset: { file: ref.file, page: String(ref.page || ''), verified: String(ref.verified !== false) },
    'aria-label': `Ouvrir ${label}${ref.verified === false ? ' (non vérifiée)' : ''}`,
    title: ref.quote ? `« ${ref.quote} »` : `Ouvrir ${label}`,
    on: { click: () => onOpen(ref) },
  }, label);
}

function renderItem(item, onOpen) {
  const flags = Array.isArray(item.flags) ? item.flags : [];
  const refs = Array.isArray(item.references) ? item.references : [];
  const quotes = refs.filter((r) => r.quote).map((r) => {
    const quote = r.quote.length > MAX_QUOTE_CHARS ? `${r.quote.slice(0, MAX_QUOTE_CHARS).trimEnd()}…` : r.quote;
    return h('p', { className: 'dossier-quote' }, frenchTypography(`« ${quote} »`));
  });
  return h('li', { className: `dossier-item${flags.length ? ' dossier-item--flagged' : ''}` },
    h('p', null,
      item.date ? h('strong', null, `${formatLongDate(item.date)} — `) : null,
      item.party ? h('em', null, frenchTypography(`${item.party} : `)) : null,
      frenchTypography(item.text || '')),
    refs.length ? h('p', { className: 'dossier-refs' }, refs.map((r) => referenceButton(r, onOpen))) : null,
    quotes,
    flags.length ? h('ul', { className: 'plume-flags' }, flags.map((f) => h('li', { dataset: { flag: f } }, FLAG_TEXT[f] || f))) : null);
}

function renderPieces(pieces, onOpen) {
  return h('ul', { className: 'plume-results dossier-pieces', 'aria-label': 'Inventaire des pièces' },
    pieces.map((piece) => h('li', { className: 'plume-card', dataset: { piece: piece.file } },
      // A file that was not read has no page to open.
      h('p', { className: 'plume-card__title' }, piece.pages ? referenceButton({ file: piece.file, page: 1 }, onOpen) : piece.file),
      h('p', { className: 'plume-card__meta' }, [piece.type, piece.date ? formatLongDate(piece.date) : null,
        piece.author, piece.pages ? plural(piece.pages, 'page') : null].filter(Boolean).join(' · ')))));
}

/**
 * The synthesis by section, every reference a button.
 * @param {object} synthesis The `/synthesis` JSON.
 * @param {(ref: object) => void} onOpen Opens a reference.
 * @returns {HTMLElement}
 */
export function renderSynthesis(synthesis, onOpen) {
  const s = synthesis || {};
  const meta = [s.jurisdiction, s.rg ? `RG n° ${s.rg}` : null, s.date ? formatLongDate(s.date) : null].filter(Boolean);
  const low = Array.isArray(s.low_confidence_pages) ? s.low_confidence_pages : [];
  const sections = Array.isArray(s.sections) ? s.sections : [];
  const pieces = Array.isArray(s.pieces) ? s.pieces : [];
  const hasPiecesSection = sections.some((section) => section.id === 'pieces');
  const parts = [h('h3', { className: 'dossier-synthesis__title' }, frenchTypography(s.title || 'Synthèse du dossier'))];
  if (meta.length) parts.push(h('p', { className: 'plume-card__meta' }, frenchTypography(meta.join(' · '))));
  // What the server says of the whole synthesis (a part the model failed, pages badly
  // recognised, a file unreadable at reading time): one notice, the pages to check as buttons.
  const notices = Array.isArray(s.notices) ? s.notices.filter(Boolean) : [];
  if (!notices.length && low.length) {
    notices.push(`${plural(low.length, 'page mal reconnue', 'pages mal reconnues')} par l’OCR : vérifiez-${low.length > 1 ? 'les' : 'la'} sur l’original.`);
  }
  if (notices.length) {
    parts.push(message('warning', [
      notices.length === 1 ? h('strong', null, frenchTypography(notices[0]))
        : h('ul', { className: 'dossier-estimate__list' }, notices.map((n) => h('li', null, frenchTypography(n)))),
      low.length ? h('p', { className: 'dossier-refs' }, low.map((p) => referenceButton({ file: p.file, page: p.page, verified: false }, onOpen))) : null,
    ], { dataset: { notices: String(notices.length), lowConfidence: String(low.length) } }));
  }
  for (const section of sections) {
    const items = Array.isArray(section.items) ? section.items : [];
    const body = [];
    // The pièces read best as their cards (type, date, author, pages) than as sentences.
    if (section.id === 'pieces' && pieces.length) body.push(renderPieces(pieces, onOpen));
    else if (items.length) body.push(h('ul', { className: 'dossier-items' }, items.map((item) => renderItem(item, onOpen))));
    if (!body.length) body.push(h('p', { className: 'plume-card__meta' }, 'Rien relevé dans le dossier.'));
    parts.push(h('section', { className: 'dossier-section', dataset: { section: section.id || '' } },
      h('h4', null, frenchTypography(section.title || '')), body));
  }
  if (!hasPiecesSection && pieces.length) {
    parts.push(h('section', { className: 'dossier-section', dataset: { section: 'pieces' } },
      h('h4', null, 'Inventaire des pièces'), renderPieces(pieces, onOpen)));
  }
  return h('article', { className: 'plume-answer dossier-synthesis', 'aria-label': 'Synthèse du dossier' }, parts);
}

/**
 * The synthesis as plain text (Copier, Insérer): headings, one line per point with its
 * references « [fichier, p. N] », and what the checks flagged.
 * @param {object} synthesis
 * @returns {string}
 */
export function synthesisText(synthesis) {
  const s = synthesis || {};
  const lines = [s.title || 'Synthèse du dossier'];
  const meta = [s.jurisdiction, s.rg ? `RG n° ${s.rg}` : null, s.date ? formatLongDate(s.date) : null].filter(Boolean);
  if (meta.length) lines.push(meta.join(' — '));
  for (const section of s.sections || []) {
    lines.push('', section.title || '');
    const usePieces = section.id === 'pieces' && (s.pieces || []).length;
    for (const item of usePieces ? [] : section.items || []) {
      const refs = (item.references || []).map((r) => `[${r.file}${r.page ? `, p. ${r.page}` : ''}]`).join(' ');
      const flags = (item.flags || []).map((f) => FLAG_TEXT[f] || f);
      lines.push(`- ${item.date ? `${formatLongDate(item.date)} — ` : ''}${item.party ? `${item.party} : ` : ''}${item.text || ''}`
        + `${refs ? ` ${refs}` : ''}${flags.length ? ` (à vérifier : ${flags.join(' ')})` : ''}`);
    }
    if (usePieces) {
      for (const piece of s.pieces) {
        lines.push(`- ${piece.file}${[piece.type, piece.date ? formatLongDate(piece.date) : null, piece.author,
          piece.pages ? plural(piece.pages, 'page') : null].filter(Boolean).map((x) => ` — ${x}`).join('')}`);
      }
    }
  }
  const low = s.low_confidence_pages || [];
  for (const notice of s.notices || []) lines.push('', notice);
  if (low.length) lines.push('', `Pages mal reconnues par l’OCR, à vérifier sur l’original : ${low.map((p) => `${p.file} p. ${p.page}`).join(', ')}`);
  return lines.join('\n');
}
