/**
 * The dossier API (`/api/v1/dossiers`, issue 17) as the panes call it: upload, start, cancel,
 * list, read, delete, export; following a running dossier by its server-sent events, or by
 * polling when the stream cannot be had; opening an original file at a page.
 * @module common/dossier-api
 */
import { API_PREFIX, ApiError, CLIENT_ERROR_CODES, getJSON, getToken, readEvents, request } from './api.js';
import { h } from './render.js';

/** File types a dossier takes (the server checks again and explains a refusal per file). */
export const DOSSIER_EXTENSIONS = ['pdf', 'docx', 'odt', 'txt', 'eml', 'msg'];
/** How often the pane asks for the state when the event stream is not available (ms). */
export const POLL_MS = 2000;
/** Content type of the export. */
export const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
/** How long a downloaded or opened file keeps its object URL (ms). */
const OBJECT_URL_LIFE_MS = 60_000;

/** States after which nothing changes any more. */
export const FINISHED = new Set(['done', 'failed', 'cancelled']);


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
