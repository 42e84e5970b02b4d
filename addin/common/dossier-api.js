/**
 * The dossier API (`/api/v1/dossiers`, issue 17) as the panes call it: upload, start, cancel,
 * list, read, delete, export; following a running dossier by its server-sent events, or by
 * polling when the stream cannot be had; opening an original file at a page.
 * @module common/dossier-api
 */
import { API_PREFIX, ApiError, CLIENT_ERROR_CODES, errorFromResponse, getJSON, getToken, postJSON, readEvents,
  request } from './api.js';
import { h } from './render.js';

/** File types a dossier takes (the server checks again and explains a refusal per file). */
export const DOSSIER_EXTENSIONS = ['pdf', 'docx', 'odt', 'txt', 'eml', 'msg', 'jpg', 'jpeg', 'png', 'tif', 'tiff'];
/** How often a synthesis being written again is asked for (ms). */
export const REVISION_POLL_MS = 1000;
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
 * @param {{title?: string, start?: boolean, onProgress?: Function}} [options] `onProgress`:
 *   bytes sent so far (see {@link uploadWithProgress}).
 * @returns {Promise<object>} the dossier JSON.
 */
export async function createDossier(files, { title = '', start = false, onProgress = null } = {}) {
  const form = new FormData();
  for (const file of files) form.append('files', file, file.name);
  if (title) form.append('title', title);
  form.append('start', start ? 'true' : 'false');
  if (onProgress) return uploadWithProgress(`${API_PREFIX}/dossiers`, form, onProgress);
  const response = await request('/dossiers', { method: 'POST', body: form });
  return response.json();
}

/**
 * POSTs a multipart form with XMLHttpRequest, whose upload events say how many bytes are sent
 * (fetch says nothing until the answer): a dossier of 200 MB takes minutes to send.
 * `onProgress({sent, total})` is called as the bytes go, then once with `inventory: true`
 * when all are sent and the server inventories the files. Errors are the same {@link ApiError}s as `request`.
 * @param {string} url
 * @param {FormData} form
 * @param {(progress: {sent: number, total: number}) => void} onProgress
 * @param {boolean} [retried] Already sent again after a 401 with a fresh token.
 * @returns {Promise<object>} the JSON answer.
 */
export async function uploadWithProgress(url, form, onProgress, retried = false) {
  const token = await getToken();
  const xhr = new XMLHttpRequest();
  xhr.open('POST', url);
  xhr.setRequestHeader('Accept', 'application/json');
  if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
  let total = 0;
  const finished = new Promise((resolve, reject) => {
    xhr.upload.addEventListener('progress', (event) => {
      if (!event.lengthComputable) return;
      total = event.total;
      onProgress({ sent: event.loaded, total });
    });
    // Every byte is sent: the server now inventories the files (seconds for a large dossier).
    xhr.upload.addEventListener('load', () => onProgress({ sent: total, total, inventory: true }));
    xhr.addEventListener('load', () => resolve());
    xhr.addEventListener('error', () => reject(new ApiError({
      code: CLIENT_ERROR_CODES.network, message: 'Impossible de joindre le serveur Plume.' })));
    xhr.addEventListener('abort', () => reject(new DOMException('Aborted', 'AbortError')));
  });
  xhr.send(form);
  await finished;
  const headers = { 'Content-Type': xhr.getResponseHeader('Content-Type') || 'application/json' };
  const retry = xhr.getResponseHeader('Retry-After');
  if (retry) headers['Retry-After'] = retry;
  if (xhr.status === 401 && token && !retried) {
    // The token expired or was revoked since it was cached (as `request` does): a fresh one, once.
    const auth = await import('./auth.js').catch(() => null);
    if (auth && typeof auth.invalidateToken === 'function') {
      auth.invalidateToken(token);
      return uploadWithProgress(url, form, onProgress, true);
    }
  }
  const response = new Response(xhr.responseText, { status: xhr.status, headers });
  if (!response.ok) throw await errorFromResponse(response);
  return response.json();
}

/**
 * Writes a finished dossier's synthesis again, without reading its files again: « Régénérer »
 * (`instruction` null) or « Affiner » (« plus court », « plus ferme », her words).
 * @param {string} id
 * @param {{instruction?: string|null, base?: string|null}} options `base`: the version to
 *   start from (default: the dossier's synthesis).
 * @returns {Promise<object>} the revision, queued.
 */
export function reviseDossier(id, { instruction = null, base = null } = {}) {
  return postJSON(dossierPath(id, '/revisions'), { instruction, base });
}

/**
 * Stops writing a version (« Arrêter »); the server's job ends cancelled.
 * @param {string} id
 * @param {string} revisionId
 * @returns {Promise<object>} the revision as it is now.
 */
export const cancelRevision = (id, revisionId) => post(dossierPath(id, `/revisions/${encodeURIComponent(revisionId)}/cancel`));

/**
 * Waits for a revision to end, asking every {@link REVISION_POLL_MS}; each state goes to
 * `onChange`.
 * @param {string} id
 * @param {string} revisionId
 * @param {(revision: object) => void} onChange
 * @param {AbortSignal} signal
 * @returns {Promise<object>} the finished revision (with its synthesis when done).
 */
export async function followRevision(id, revisionId, onChange, signal) {
  for (;;) {
    if (signal.aborted) throw new DOMException('Aborted', 'AbortError');
    try {
      const revision = await getJSON(dossierPath(id, `/revisions/${encodeURIComponent(revisionId)}`), { signal });
      onChange(revision);
      if (FINISHED.has(revision.state)) return revision;
    } catch (err) {
      if (!(err instanceof ApiError && err.code === CLIENT_ERROR_CODES.network)) throw err;
    }
    await sleep(REVISION_POLL_MS, signal);
  }
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
 * The .docx export of a finished dossier (or of one of its versions written again).
 * @param {string} id
 * @param {string|null} [revisionId]
 * @returns {Promise<Blob>}
 */
export async function exportDocx(id, revisionId = null) {
  const query = revisionId ? { revision: revisionId } : undefined;
  const response = await request(dossierPath(id, '/export.docx'), { accept: DOCX_TYPE, query });
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
