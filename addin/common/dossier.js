/**
 * « Dossier »: a whole case file (20–60 files, scans included) read and summarised by a
 * background job on the server (`/api/v1/dossiers`), shared by the Word and Outlook panes.
 *
 * The panel has two views. « Mes dossiers » (home): what the host pane puts there to gather
 * files (Word: a file picker and a drop zone; Outlook: the message and its attachments) and
 * the list of the user's dossiers with their state, read from the server — so she can close
 * the pane while a job runs and find it again. One dossier: its inventory (type, pages,
 * « OCR nécessaire », each file's error in French) and the estimate before anything starts,
 * « Lancer la synthèse », the progress (server-sent events, polling when the stream fails),
 * then the synthesis by section with every reference opening the file at its page, the
 * server's flags, « Télécharger (.docx) » and the host's own action (insert, attach).
 *
 * Model text is rendered as text (render.js `h`), never as HTML.
 * @module common/dossier
 */
import { API_PREFIX, ApiError, CLIENT_ERROR_CODES, getJSON, getToken, readEvents, request } from './api.js';
import { describeError, renderError } from './errors.js';
import { messageBar, problemOf } from './messagebar.js';
import { h } from './render.js';
import { frenchTypography } from './typography.js';
import { message, setStatus } from './widgets.js';

/** File types a dossier takes (the server checks again and explains a refusal per file). */
export const DOSSIER_EXTENSIONS = ['pdf', 'docx', 'odt', 'txt', 'eml', 'msg'];
/** How often the pane asks for the state when the event stream is not available (ms). */
export const POLL_MS = 2000;
/** Content type of the export. */
export const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
/** How often « Mes dossiers » is read again while one of them runs (ms). */
export const LIST_REFRESH_MS = 5000;
/** How long a downloaded or opened file keeps its object URL (ms). */
const OBJECT_URL_LIFE_MS = 60_000;
/** Longest quotation shown under an item (the whole one is in the button's title). */
const MAX_QUOTE_CHARS = 160;
const KIB = 1024;

/** What to do when the server refuses the files as a whole (none readable, too many, too big). */
const UPLOAD_ACTIONS = Object.freeze({
  413: 'Retirez des fichiers ou répartissez-les en plusieurs dossiers.',
  422: 'Ajoutez des fichiers lisibles, ou remplacez ceux qui sont signalés.',
});

/** States after which nothing changes any more. */
export const FINISHED = new Set(['done', 'failed', 'cancelled']);

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
// The API (contract: /work/wt/CONTRACT.md, « dossier API »)

/**
 * Path of a dossier, or of one of its resources.
 * @param {string} id
 * @param {string} [rest] e.g. `/start`.
 * @returns {string}
 */
export function dossierPath(id, rest = '') {
  return `/dossiers/${encodeURIComponent(id)}${rest}`;
}

/**
 * Uploads the files as one dossier. With `start: false` the job is held, so the pane can show
 * the inventory and the estimate before anything costs.
 * @param {File[]} files
 * @param {{title?: string, start?: boolean}} [options]
 * @returns {Promise<object>} the dossier JSON.
 */
export async function createDossier(files, { title = '', start = false } = {}) {
  const form = new FormData();
  for (const file of files) form.append('files', file, file.name);
  if (title) form.append('title', title);
  form.append('start', start ? 'true' : 'false');
  const response = await request('/dossiers', { method: 'POST', body: form });
  return response.json();
}

async function post(path) {
  const response = await request(path, { method: 'POST' });
  return response.json();
}

/** Starts a held dossier. @param {string} id @returns {Promise<object>} */
export const startDossier = (id) => post(dossierPath(id, '/start'));
/** Cancels a queued or running dossier. @param {string} id @returns {Promise<object>} */
export const cancelDossier = (id) => post(dossierPath(id, '/cancel'));
/** One dossier with its inventory. @param {string} id @returns {Promise<object>} */
export const getDossier = (id, options = {}) => getJSON(dossierPath(id), options);
/** The synthesis of a finished dossier. @param {string} id @returns {Promise<object>} */
export const getSynthesis = (id) => getJSON(dossierPath(id, '/synthesis'));

/**
 * The user's dossiers, newest first.
 * @returns {Promise<object[]>}
 */
export async function listDossiers() {
  const body = await getJSON('/dossiers');
  return (body && Array.isArray(body.dossiers)) ? body.dossiers : [];
}

/**
 * Deletes a dossier with its files and synthesis.
 * @param {string} id
 */
export async function deleteDossier(id) {
  await request(dossierPath(id), { method: 'DELETE' });
}

/**
 * The .docx export of a finished dossier.
 * @param {string} id
 * @returns {Promise<Blob>}
 */
export async function exportDocx(id) {
  const response = await request(dossierPath(id, '/export.docx'), { accept: DOCX_TYPE });
  return response.blob();
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new DOMException('Aborted', 'AbortError'));
    }, { once: true });
  });
}

/**
 * Follows a dossier until it is finished: its server-sent events (`progress`, then `done`,
 * `failed` or `cancelled`), or, when the stream cannot be opened or is cut, its state every
 * {@link POLL_MS}. Each new state goes to `onChange`.
 * @param {string} id
 * @param {(dossier: object) => void} onChange
 * @param {AbortSignal} signal Aborting stops following (the job goes on on the server).
 * @returns {Promise<object>} the finished dossier.
 */
export async function followDossier(id, onChange, signal) {
  let last = null;
  try {
    const response = await request(dossierPath(id, '/events'), { accept: 'text/event-stream', signal });
    for await (const event of readEvents(response)) {
      if (event.data && typeof event.data === 'object' && event.data.id) {
        last = event.data;
        onChange(last);
      }
      if (FINISHED.has(event.event)) return last && FINISHED.has(last.state) ? last : getDossier(id, { signal });
    }
  } catch (err) {
    if (signal.aborted || (err && err.name === 'AbortError')) throw err;
    // A dossier that is gone or not hers: polling would say the same.
    if (err instanceof ApiError && (err.status === 403 || err.status === 404)) throw err;
    console.warn('Plume: dossier events unavailable, polling instead', err);
  }
  for (;;) {
    if (signal.aborted) throw new DOMException('Aborted', 'AbortError');
    try {
      const dossier = await getDossier(id, { signal });
      onChange(dossier);
      if (FINISHED.has(dossier.state)) return dossier;
    } catch (err) {
      // A network blip while a long job runs is not the job's failure: ask again.
      if (!(err instanceof ApiError && err.code === CLIENT_ERROR_CODES.network)) throw err;
    }
    await sleep(POLL_MS, signal);
  }
}

/**
 * Opens a file of the dossier at a page, in a new window (the PDF viewer honours `#page=N`).
 * Without a token (development mode) the window opens the API address itself; with one, the
 * pane fetches the file with its token and opens a local copy, since a new window cannot send
 * the bearer header.
 * @param {string} id
 * @param {string} file
 * @param {number|null} page
 */
export async function openReference(id, file, page) {
  const path = `${API_PREFIX}${dossierPath(id, `/files/${encodeURIComponent(file)}`)}`;
  const fragment = page ? `#page=${page}` : '';
  const token = await getToken();
  if (!token) {
    globalThis.open(`${path}${fragment}`, '_blank', 'noopener');
    return;
  }
  const response = await request(path, { accept: '*/*' });
  const url = URL.createObjectURL(await response.blob());
  globalThis.open(`${url}${fragment}`, '_blank', 'noopener');
  setTimeout(() => URL.revokeObjectURL(url), OBJECT_URL_LIFE_MS);
}

/**
 * Saves a blob under `name` (the browser's download).
 * @param {Blob} blob
 * @param {string} name
 */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), OBJECT_URL_LIFE_MS);
}

/**
 * The export's file name: « Synthèse – <titre>.docx », without characters file systems refuse.
 * @param {object} dossier
 * @returns {string}
 */
export function exportName(dossier) {
  const title = String((dossier && dossier.title) || 'dossier').replace(/[\\/:*?"<>|\u0000-\u001f]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 80);
  return `Synthèse – ${title || 'dossier'}.docx`;
}

// ---------------------------------------------------------------------------------------
// Words and numbers

const NUMBER = new Intl.NumberFormat('fr-FR');
const WHEN = new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit' });
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

// ---------------------------------------------------------------------------------------
// The panel

/**
 * @typedef {object} ResultContext
 * @property {object} dossier
 * @property {object} synthesis
 * @property {HTMLElement} status The panel's status line.
 * @property {() => void} close Back to « Mes dossiers » (« Écarter »).
 */

/**
 * The « Dossier » panel of a pane.
 */
export class DossierPanel {
  /**
   * @param {HTMLElement} panel The tab panel, filled here.
   * @param {object} options
   * @param {string} options.intro One sentence under the tab.
   * @param {HTMLElement[]} options.home What the host puts above « Mes dossiers » to gather files.
   * @param {(context: ResultContext) => HTMLElement[]} options.resultActions The host's actions
   *   under a synthesis (the oversight notice and the action bar).
   */
  constructor(panel, { intro, home, resultActions }) {
    this.resultActions = resultActions;
    this.current = null;
    this.follower = null;
    this.status = h('p', { id: 'dossier-status', className: 'plume-status', role: 'status', 'aria-live': 'polite' });
    this.error = h('div', { id: 'dossier-error', hidden: true });
    this.list = h('ul', { id: 'dossier-list', className: 'plume-results', 'aria-labelledby': 'dossier-list-title' });
    const refresh = h('button', { type: 'button', className: 'plume-button plume-button--small', dataset: { action: 'refresh' },
      on: { click: () => this.refreshList() } }, 'Actualiser');
    this.home = h('div', { id: 'dossier-home', className: 'dossier-view' }, home,
      h('section', { className: 'dossier-view', 'aria-labelledby': 'dossier-list-title' },
        h('div', { className: 'dossier-heading' }, h('h2', { id: 'dossier-list-title', className: 'dossier-heading__title' }, 'Mes dossiers'), refresh),
        this.list));
    this.back = h('button', { type: 'button', id: 'dossier-back', className: 'dossier-back', on: { click: () => this.showHome() } }, '← Mes dossiers');
    this.view = h('div', { id: 'dossier-view', className: 'dossier-view', hidden: true });
    panel.replaceChildren(h('p', { className: 'plume-panel__intro' }, intro), this.status, this.error, this.home, this.back, this.view);
    this.back.hidden = true;
    this.refreshList();
  }

  /** Clears the message bar. */
  clearError() {
    this.error.hidden = true;
    this.error.replaceChildren();
  }

  /**
   * Shows a failure as a message bar.
   * @param {*} err
   * @param {() => void} [onRetry]
   */
  showError(err, onRetry) {
    this.error.replaceChildren(renderError(err, onRetry ? { onRetry } : {}));
    this.error.hidden = false;
    setStatus(this.status, '');
  }

  /** Stops following the dossier on screen (its job goes on on the server). */
  stopFollowing() {
    if (this.follower) this.follower.abort();
    this.follower = null;
  }

  /** Back to « Mes dossiers ». */
  showHome() {
    this.stopFollowing();
    this.current = null;
    this.clearError();
    this.view.hidden = true;
    this.view.replaceChildren();
    this.back.hidden = true;
    this.home.hidden = false;
    setStatus(this.status, '');
    this.refreshList();
  }

  /** Reads the list of the user's dossiers again (and again while one of them runs). */
  async refreshList() {
    clearTimeout(this.listTimer);
    let dossiers;
    try {
      dossiers = await listDossiers();
    } catch (err) {
      this.list.replaceChildren(h('li', null, renderError(err, { onRetry: () => this.refreshList() })));
      return;
    }
    if (!dossiers.length) {
      this.list.replaceChildren(h('li', { className: 'plume-card__meta' }, 'Aucun dossier pour l’instant.'));
      return;
    }
    if (!this.home.hidden && dossiers.some((d) => !FINISHED.has(d.state) && !d.held)) {
      this.listTimer = setTimeout(() => { if (!this.home.hidden) this.refreshList(); }, LIST_REFRESH_MS);
    }
    // A row being asked about (« Supprimer définitivement ? ») is not redrawn under her pointer.
    if (this.list.querySelector('.dossier-delete__question:not([hidden])')) return;
    this.list.replaceChildren(...dossiers.map((dossier) => this.listRow(dossier)));
  }

  listRow(dossier) {
    const state = stateOf(dossier);
    const p = dossier.progress || {};
    const created = dossier.created_at ? WHEN.format(new Date(dossier.created_at)) : '';
    const meta = [created, p.files_total ? plural(p.files_total, 'fichier') : null].filter(Boolean).join(' · ');
    const title = dossier.title || 'Dossier sans titre';
    const row = h('li', { className: 'plume-card dossier-row', dataset: { dossier: dossier.id, state } });
    const actions = h('div', { className: 'plume-actions' },
      h('button', { type: 'button', className: 'plume-button plume-button--small', dataset: { action: 'open' },
        'aria-label': `Ouvrir le dossier ${title}`, on: { click: () => this.open(dossier.id) } }, 'Ouvrir'),
      this.deleteButton(dossier, () => {
        row.remove();
        if (!this.list.children.length) this.refreshList();
      }));
    row.append(
      h('p', { className: 'plume-card__title' }, frenchTypography(title)),
      h('p', { className: 'plume-card__meta' }, h('span', { className: 'plume-zone dossier-badge', dataset: { state } }, STATE_NAMES[state] || state), meta ? ` ${meta}` : ''),
      actions);
    return row;
  }

  /**
   * « Supprimer », which asks once more in the panel (Office panes have no confirm()).
   * @param {object} dossier
   * @param {() => void} onDeleted
   * @returns {HTMLElement}
   */
  deleteButton(dossier, onDeleted) {
    const title = dossier.title || 'Dossier sans titre';
    const holder = h('span', { className: 'dossier-delete' });
    const ask = h('button', { type: 'button', className: 'plume-button plume-button--small', dataset: { action: 'delete' },
      'aria-label': `Supprimer le dossier ${title}` }, 'Supprimer');
    const confirm = h('button', { type: 'button', className: 'plume-button plume-button--small plume-button--stop', dataset: { action: 'confirm-delete' } }, 'Supprimer définitivement');
    const keep = h('button', { type: 'button', className: 'plume-button plume-button--small', dataset: { action: 'keep' } }, 'Garder');
    const question = h('span', { className: 'dossier-delete__question', role: 'group', 'aria-label': 'Confirmer la suppression' },
      h('span', null, 'Supprimer le dossier, ses fichiers et sa synthèse ?'), confirm, keep);
    question.hidden = true;
    ask.addEventListener('click', () => {
      ask.hidden = true;
      question.hidden = false;
      keep.focus();
    });
    keep.addEventListener('click', () => {
      question.hidden = true;
      ask.hidden = false;
      ask.focus();
    });
    confirm.addEventListener('click', async () => {
      if (confirm.getAttribute('aria-disabled') === 'true') return;
      confirm.setAttribute('aria-disabled', 'true');
      try {
        await deleteDossier(dossier.id);
      } catch (err) {
        confirm.removeAttribute('aria-disabled');
        if (!(err instanceof ApiError && err.status === 404)) {
          this.showError(err);
          return;
        }
      }
      this.clearError();
      setStatus(this.status, `Dossier « ${title} » supprimé, avec ses fichiers et sa synthèse.`);
      onDeleted();
    });
    holder.append(ask, question);
    return holder;
  }

  /**
   * Uploads files as a new held dossier and shows its inventory and estimate.
   * @param {File[]} files
   * @param {{title?: string, notes?: HTMLElement[]}} [options] `notes`: what the host could
   *   not even send (an attachment Outlook refused), shown above the inventory.
   * @returns {Promise<object|null>} the dossier, or null when the upload failed.
   */
  async prepare(files, { title = '', notes = [] } = {}) {
    this.clearError();
    setStatus(this.status, `Envoi de ${plural(files.length, 'fichier')} et inventaire…`);
    let dossier;
    try {
      dossier = await createDossier(files, { title, start: false });
    } catch (err) {
      const action = err instanceof ApiError ? UPLOAD_ACTIONS[err.status] : null;
      if (action) {
        this.error.replaceChildren(messageBar(problemOf(err, { ...describeError(err), action })));
        this.error.hidden = false;
        setStatus(this.status, '');
      } else {
        this.showError(err, () => this.prepare(files, { title, notes }));
      }
      return null;
    }
    this.show(dossier, { notes });
    setStatus(this.status, 'Inventaire prêt. Vérifiez l’estimation, puis lancez la synthèse.');
    return dossier;
  }

  /**
   * Opens one of the user's dossiers (from the list).
   * @param {string} id
   */
  async open(id) {
    this.clearError();
    setStatus(this.status, 'Ouverture du dossier…');
    try {
      const dossier = await getDossier(id);
      this.show(dossier);
      setStatus(this.status, '');
    } catch (err) {
      this.showError(err, () => this.open(id));
      if (err instanceof ApiError && err.status === 404) this.refreshList();
    }
  }

  /**
   * Shows a dossier in its current state, and follows it while it runs.
   * @param {object} dossier
   * @param {{notes?: HTMLElement[]}} [options]
   */
  show(dossier, { notes = [] } = {}) {
    this.stopFollowing();
    this.current = dossier;
    this.home.hidden = true;
    this.back.hidden = false;
    this.view.hidden = false;
    this.notes = notes;
    this.inventoryOpen = false;
    this.render(dossier);
    const state = stateOf(dossier);
    if (state === 'queued' || state === 'running') this.follow(dossier.id);
    else if (state === 'done') this.loadSynthesis(dossier);
  }

  /** Renders the dossier view (header, inventory, estimate or progress, actions). */
  render(dossier) {
    const state = stateOf(dossier);
    const title = dossier.title || 'Dossier sans titre';
    const parts = [
      h('div', { className: 'dossier-heading' },
        h('h2', { id: 'dossier-title', className: 'dossier-heading__title' }, frenchTypography(title)),
        h('span', { className: 'plume-zone dossier-badge', dataset: { state } }, STATE_NAMES[state] || state)),
      ...(this.notes || []),
    ];
    const inventory = Array.isArray(dossier.inventory) ? dossier.inventory : [];
    if (inventory.length) {
      // Open before the start; afterwards as she left it (the view is redrawn at each event).
      const details = h('details', { className: 'plume-filters dossier-files', open: state === 'held' || this.inventoryOpen },
        h('summary', null, `Inventaire — ${inventorySummary(inventory)}`), renderInventory(inventory));
      if (state !== 'held') details.addEventListener('toggle', () => { this.inventoryOpen = details.open; });
      parts.push(details);
    }
    if (state === 'held') {
      parts.push(renderEstimate(dossier.estimate));
      const start = h('button', { id: 'dossier-start', type: 'button', className: 'plume-button plume-button--primary',
        dataset: { shortcut: 'run' }, 'aria-keyshortcuts': 'Control+Enter' }, 'Lancer la synthèse');
      start.addEventListener('click', () => this.start(dossier, start));
      parts.push(h('div', { className: 'plume-actions' }, start, this.deleteButton(dossier, () => this.showHome())));
    } else if (state === 'queued' || state === 'running') {
      parts.push(renderProgress(dossier));
      const cancel = h('button', { id: 'dossier-cancel', type: 'button', className: 'plume-button plume-button--stop',
        dataset: { shortcut: 'stop' }, 'aria-keyshortcuts': 'Escape' }, 'Annuler la synthèse');
      cancel.addEventListener('click', () => this.cancel(dossier, cancel));
      parts.push(h('div', { className: 'plume-actions' }, cancel),
        h('p', { className: 'plume-hint' }, 'Vous pouvez fermer le volet : la synthèse continue sur le serveur et vous la retrouverez dans « Mes dossiers ».'));
    } else if (state === 'failed') {
      const reason = (dossier.error && dossier.error.message) || 'La synthèse n’a pas pu aboutir.';
      parts.push(message('error', `Échec de la synthèse : ${reason}`, { dataset: { errorCode: (dossier.error && dossier.error.error) || 'echec' } }),
        h('div', { className: 'plume-actions' }, this.deleteButton(dossier, () => this.showHome())));
    } else if (state === 'cancelled') {
      parts.push(message('info', 'Synthèse annulée : rien n’a été produit.', { dataset: { outcome: 'cancelled' } }),
        h('div', { className: 'plume-actions' }, this.deleteButton(dossier, () => this.showHome())));
    } else if (state === 'done') {
      parts.push(h('div', { id: 'dossier-result', className: 'dossier-view', 'aria-busy': 'true' },
        h('p', { className: 'plume-status' }, 'Chargement de la synthèse…')));
    }
    this.view.replaceChildren(...parts);
  }

  async start(dossier, button) {
    if (button.getAttribute('aria-disabled') === 'true') return;
    button.setAttribute('aria-disabled', 'true');
    this.clearError();
    setStatus(this.status, 'Lancement de la synthèse…');
    try {
      const started = await startDossier(dossier.id);
      this.show(started, { notes: this.notes });
      setStatus(this.status, 'Synthèse lancée. Vous pouvez fermer le volet et revenir plus tard.');
      this.view.querySelector('#dossier-cancel')?.focus();
    } catch (err) {
      button.removeAttribute('aria-disabled');
      this.showError(err, () => this.start(dossier, button));
    }
  }

  async cancel(dossier, button) {
    if (button.getAttribute('aria-disabled') === 'true') return;
    button.setAttribute('aria-disabled', 'true');
    this.clearError();
    try {
      const cancelled = await cancelDossier(dossier.id);
      this.stopFollowing();
      this.current = cancelled;
      this.render(cancelled);
      setStatus(this.status, FINISHED.has(cancelled.state) ? 'Synthèse annulée.' : 'Annulation demandée : le serveur arrête la synthèse.');
      if (!FINISHED.has(cancelled.state)) this.follow(cancelled.id);
      this.back.focus();
    } catch (err) {
      button.removeAttribute('aria-disabled');
      this.showError(err, () => this.cancel(dossier, button));
    }
  }

  /** Follows a running dossier until it ends, re-rendering on each change. */
  async follow(id) {
    const controller = new AbortController();
    this.follower = controller;
    let phase = '';
    const onChange = (dossier) => {
      if (controller.signal.aborted || !this.current || this.current.id !== id) return;
      const focused = document.activeElement;
      const keepFocus = focused && this.view.contains(focused) ? focused.id : null;
      this.current = dossier;
      if (!FINISHED.has(dossier.state)) {
        this.render(dossier);
        if (keepFocus) document.getElementById(keepFocus)?.focus();
        const said = (dossier.progress && dossier.progress.message) || '';
        if (said && said !== phase) {
          phase = said;
          setStatus(this.status, said);
        }
      }
    };
    try {
      const finished = await followDossier(id, onChange, controller.signal);
      if (controller.signal.aborted) return;
      this.follower = null;
      this.current = finished;
      this.render(finished);
      if (finished.state === 'done') {
        setStatus(this.status, 'Synthèse terminée. Relisez-la et vérifiez les références avant tout usage.');
        this.loadSynthesis(finished);
      } else if (finished.state === 'failed') {
        setStatus(this.status, '');
      } else {
        setStatus(this.status, 'Synthèse annulée.');
      }
    } catch (err) {
      if (controller.signal.aborted || (err && err.name === 'AbortError')) return;
      this.follower = null;
      this.showError(err, () => this.open(id));
    }
  }

  /** Reads and shows the synthesis of a finished dossier, with the host's actions. */
  async loadSynthesis(dossier) {
    const box = this.view.querySelector('#dossier-result');
    if (!box) return;
    let synthesis;
    try {
      synthesis = await getSynthesis(dossier.id);
    } catch (err) {
      box.replaceChildren(renderError(err, { onRetry: () => this.show(dossier) }));
      box.removeAttribute('aria-busy');
      return;
    }
    if (!this.current || this.current.id !== dossier.id) return;
    const onOpen = (ref) => {
      openReference(dossier.id, ref.file, ref.page).catch((err) => this.showError(err));
    };
    const download = h('button', { type: 'button', id: 'dossier-download', className: 'plume-button', dataset: { action: 'download' } }, 'Télécharger (.docx)');
    download.addEventListener('click', async () => {
      if (download.getAttribute('aria-disabled') === 'true') return;
      download.setAttribute('aria-disabled', 'true');
      try {
        saveBlob(await exportDocx(dossier.id), exportName(dossier));
        setStatus(this.status, 'Synthèse téléchargée au format Word (.docx).');
      } catch (err) {
        this.showError(err);
      } finally {
        download.removeAttribute('aria-disabled');
      }
    });
    box.replaceChildren(
      renderSynthesis(synthesis, onOpen),
      ...this.resultActions({ dossier, synthesis, status: this.status, close: () => this.showHome() }),
      h('div', { className: 'plume-actions' }, download, this.deleteButton(dossier, () => this.showHome())));
    box.removeAttribute('aria-busy');
  }
}
