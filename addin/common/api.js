/**
 * Plume API client shared by the Word and Outlook panes.
 *
 * - {@link request} / {@link getJSON} / {@link postJSON} / {@link postForm}: fetch with the
 *   user's access token, JSON error bodies turned into {@link ApiError} (French message kept).
 * - {@link streamAssist}: `POST /api/v1/assist/<task>` read as Server-Sent Events over fetch
 *   (EventSource cannot POST nor send an Authorization header), with an AbortController-friendly
 *   `signal` so the Stop button closes the connection and the server sees the disconnect.
 * - {@link SSEParser}: the event-stream parser (WHATWG rules: fields, multi-line data, CR/LF/CRLF,
 *   events and even UTF-8 characters split across network chunks).
 *
 * The pane is served by Plume itself, so API paths are same-origin (`/api/v1/...`).
 * @module common/api
 */

/** Prefix of every API route. */
export const API_PREFIX = '/api/v1';

/** Codes the client gives to failures that never reached a JSON answer. */
export const CLIENT_ERROR_CODES = Object.freeze({
  network: 'reseau',
  stopped: 'arrete',
  interrupted: 'flux_interrompu',
  badResponse: 'reponse_invalide',
  authUnavailable: 'authentification_indisponible',
});

let authModule = null;
let authLoading = null;

/**
 * Loads `./auth.js` (owned by the auth area) once. It is imported dynamically so that a pane
 * in development mode still works when sign-in cannot load (calls then go without a token).
 * @returns {Promise<object|null>}
 */
function loadAuth() {
  if (!authLoading) {
    authLoading = import('./auth.js')
      .then((module) => { authModule = module; return module; })
      .catch((err) => {
        console.warn('Plume: auth.js could not be loaded', err);
        return null;
      });
  }
  return authLoading;
}

/**
 * Forgets the cached token so that the next call signs in again (« Se reconnecter »).
 * @returns {Promise<void>}
 */
export async function signInAgain() {
  const auth = authModule || (await loadAuth());
  if (auth && typeof auth.invalidateToken === 'function') auth.invalidateToken();
}

let clientConfigCache = null;

/**
 * Error of an API call, with the French message to show and what the pane needs to decide.
 */
export class ApiError extends Error {
  /**
   * @param {object} init
   * @param {number} [init.status] HTTP status (0 when the server was not reached).
   * @param {string} init.code Machine code (`quota_depasse`, `reseau`, …).
   * @param {string} [init.message] French sentence for the user (from the server when it sent one).
   * @param {number|null} [init.retryAfter] Seconds to wait, from `Retry-After` (429/503).
   * @param {boolean} [init.midStream] True when the failure came as an `error` event after text arrived.
   * @param {object} [init.body] The whole JSON error body (e.g. `field` of a validation error).
   */
  constructor({ status = 0, code, message = '', retryAfter = null, midStream = false, body = null }) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.userMessage = message;
    this.retryAfter = retryAfter;
    this.midStream = midStream;
    this.body = body;
  }
}

/**
 * Parses a `Retry-After` header (seconds or an HTTP date) into whole seconds.
 * @param {string|null} value
 * @returns {number|null}
 */
export function parseRetryAfter(value) {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(value);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/**
 * Public client configuration (`GET /api/v1/client-config`), fetched once, without a token.
 * Returns `null` when the server does not offer it (older server): the pane then works in
 * development mode without a banner.
 * @returns {Promise<object|null>}
 */
export async function getClientConfig() {
  if (clientConfigCache) return clientConfigCache;
  let response;
  try {
    response = await fetch(`${API_PREFIX}/client-config`, { headers: { Accept: 'application/json' } });
  } catch (err) {
    throw networkError(err);
  }
  if (response.status === 404) return null;
  if (!response.ok) throw await errorFromResponse(response);
  clientConfigCache = await response.json();
  return clientConfigCache;
}

/**
 * Starts sign-in for this pane: reads the client configuration and hands it to
 * `initAuth(clientConfig)` from `./auth.js`. Call once when Office is ready.
 * @returns {Promise<object|null>} the client configuration (with `dev_banner`), or null.
 */
export async function startSession() {
  const config = await getClientConfig();
  const auth = await loadAuth();
  if (auth && typeof auth.initAuth === 'function') {
    try {
      await auth.initAuth(config || { auth_mode: 'dev' });
    } catch (err) {
      // Sign-in is retried by getAccessToken() on each call; a failure there becomes a
      // 401-style « Connexion requise » message where the user acted.
      console.warn('Plume: sign-in could not start', err);
    }
  }
  return config;
}

/**
 * The bearer token for the next call, or null (development mode).
 * @returns {Promise<string|null>}
 */
export async function getToken() {
  const auth = authModule || (await loadAuth());
  // Without the sign-in module the call goes out without a token: the server decides (dev
  // mode accepts it; Entra mode answers 401, shown as « Connexion requise »).
  if (!auth || typeof auth.getAccessToken !== 'function') return null;
  try {
    return await auth.getAccessToken();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError({
      status: 401,
      code: 'non_authentifie',
      message: (err && err.userMessage) || 'La connexion à votre compte a échoué.',
    });
  }
}

function networkError(err) {
  if (err && err.name === 'AbortError') return err;
  return new ApiError({
    code: CLIENT_ERROR_CODES.network,
    message: 'Impossible de joindre le serveur Plume.',
  });
}

/**
 * Builds an {@link ApiError} from a non-2xx response, keeping the server's French message.
 * @param {Response} response
 * @returns {Promise<ApiError>}
 */
export async function errorFromResponse(response) {
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    body = null;
  }
  return new ApiError({
    status: response.status,
    code: (body && typeof body.error === 'string' && body.error) || `http_${response.status}`,
    message: (body && typeof body.message === 'string' && body.message) || '',
    retryAfter: parseRetryAfter(response.headers.get('Retry-After')),
    body,
  });
}

function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/**
 * fetch() against the Plume API with the access token; resolves only for 2xx answers.
 * @param {string} path Path under {@link API_PREFIX} (e.g. `/search`), or a full `/api/...` path.
 * @param {object} [options]
 * @param {string} [options.method='GET']
 * @param {object} [options.query] Query parameters (empty values are left out).
 * @param {*} [options.json] Body sent as JSON.
 * @param {BodyInit} [options.body] Raw body (FormData for uploads).
 * @param {AbortSignal} [options.signal]
 * @param {string} [options.accept='application/json']
 * @returns {Promise<Response>}
 * @throws {ApiError} on an HTTP error or network failure; the AbortError itself when aborted.
 */
export async function request(path, options = {}) {
  const { method = 'GET', query, json, body, signal, accept = 'application/json' } = options;
  const url = withQuery(path.startsWith('/api/') ? path : `${API_PREFIX}${path}`, query);
  const headers = { Accept: accept };
  const token = await getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload = body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body: payload, signal, credentials: 'same-origin' });
  } catch (err) {
    throw networkError(err);
  }
  if (response.status === 401 && token && !options.retried && authModule
      && typeof authModule.invalidateToken === 'function') {
    // The token may have expired or been revoked since it was cached: get a fresh one, once.
    authModule.invalidateToken(token);
    return request(path, { ...options, retried: true });
  }
  if (!response.ok) throw await errorFromResponse(response);
  return response;
}

/**
 * GET a JSON resource.
 * @param {string} path
 * @param {object} [options] See {@link request}.
 * @returns {Promise<any>}
 */
export async function getJSON(path, options = {}) {
  const response = await request(path, options);
  return readJSON(response);
}

/**
 * POST a JSON body and read a JSON answer (204 gives null).
 * @param {string} path
 * @param {*} data
 * @param {object} [options] See {@link request}.
 * @returns {Promise<any>}
 */
export async function postJSON(path, data, options = {}) {
  const response = await request(path, { ...options, method: 'POST', json: data });
  return readJSON(response);
}

/**
 * POST a multipart form (file upload) and read a JSON answer.
 * @param {string} path
 * @param {FormData} form
 * @param {object} [options] See {@link request}.
 * @returns {Promise<any>}
 */
export async function postForm(path, form, options = {}) {
  const response = await request(path, { ...options, method: 'POST', body: form });
  return readJSON(response);
}

async function readJSON(response) {
  if (response.status === 204) return null;
  try {
    return await response.json();
  } catch (_) {
    throw new ApiError({
      status: response.status,
      code: CLIENT_ERROR_CODES.badResponse,
      message: 'Le serveur a renvoyé une réponse illisible.',
    });
  }
}

/**
 * Incremental Server-Sent Events parser. Feed it decoded text as it arrives; it returns the
 * events completed so far and keeps partial lines and events for the next chunk.
 */
export class SSEParser {
  constructor() {
    this.buffer = '';
    this.reset();
    /** Last event id seen (`id:` field). */
    this.lastEventId = '';
  }

  reset() {
    this.eventType = '';
    this.dataLines = [];
  }

  /**
   * @param {string} text Decoded text (any size, any boundary).
   * @returns {{event: string, data: string, id: string}[]} events completed by this chunk.
   */
  push(text) {
    this.buffer += text;
    const events = [];
    let start = 0;
    for (;;) {
      const cr = this.buffer.indexOf('\r', start);
      const lf = this.buffer.indexOf('\n', start);
      if (cr < 0 && lf < 0) break;
      let end;
      let next;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        // A CR at the very end may be the first half of CRLF: wait for the next chunk.
        if (cr === this.buffer.length - 1) break;
        end = cr;
        next = this.buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
      } else {
        end = lf;
        next = lf + 1;
      }
      const event = this.line(this.buffer.slice(start, end));
      if (event) events.push(event);
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /** Ends the stream: a trailing lone CR completes its line; an unterminated event is dropped. */
  finish() {
    const events = [];
    if (this.buffer.endsWith('\r')) {
      const event = this.line(this.buffer.slice(0, -1));
      if (event) events.push(event);
    }
    this.buffer = '';
    this.reset();
    return events;
  }

  line(line) {
    if (line === '') {
      if (this.dataLines.length === 0) {
        this.reset();
        return null;
      }
      const event = { event: this.eventType || 'message', data: this.dataLines.join('\n'), id: this.lastEventId };
      this.reset();
      return event;
    }
    if (line.startsWith(':')) return null; // comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.eventType = value;
    else if (field === 'data') this.dataLines.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    return null;
  }
}

/**
 * Reads a `text/event-stream` response body and yields its events as they complete.
 * `data` is parsed as JSON when it is JSON, kept as a string otherwise.
 * @param {Response} response
 * @returns {AsyncGenerator<{event: string, data: any, id: string}>}
 */
export async function* readEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder('utf-8');
  const parser = new SSEParser();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const event of parser.push(decoder.decode(value, { stream: true }))) {
        yield { ...event, data: parseData(event.data) };
      }
    }
    for (const event of parser.push(decoder.decode())) yield { ...event, data: parseData(event.data) };
    for (const event of parser.finish()) yield { ...event, data: parseData(event.data) };
  } finally {
    // Releasing early (consumer stopped) cancels the body, which closes the connection.
    reader.cancel().catch(() => {});
  }
}

function parseData(data) {
  try {
    return JSON.parse(data);
  } catch (_) {
    return data;
  }
}

/**
 * @typedef {object} StreamResult
 * @property {string} text All `delta` text received.
 * @property {object[]} sources Numbered sources (`sources` event), empty when none.
 * @property {object[]} flags Citation flags (`sources` event), empty when none.
 * @property {object|null} fields Structured fields (`fields` event, mail-summary), or null.
 * @property {object|null} done The `done` payload ({interaction_id, usage, model, demo}), or null.
 * @property {boolean} stopped True when the caller aborted (Stop button).
 */

/**
 * Runs an assistance task and streams its answer.
 *
 * Resolves with the whole result when the stream ends with `done`, or when the caller aborts
 * through `signal` (then `stopped` is true and the text so far is kept). Rejects with an
 * {@link ApiError} for HTTP errors before the stream, an `error` event (`midStream` true, the
 * text so far in `err.partial`), or a stream cut without `done`.
 *
 * @param {string} task `summarize`, `rewrite`, `draft`, `mail-summary`, …
 * @param {object} payload JSON body (`text`, `instructions`, options).
 * @param {object} [handlers]
 * @param {AbortSignal} [handlers.signal]
 * @param {(text: string, all: string) => void} [handlers.onDelta] each text piece, and the text so far.
 * @param {(payload: {sources: object[], flags: object[]}) => void} [handlers.onSources]
 * @param {(fields: object) => void} [handlers.onFields]
 * @param {(progress: {done: number, total: number, message: string}) => void} [handlers.onProgress]
 *   long documents: map-reduce progress, before the text starts.
 * @param {(done: object) => void} [handlers.onDone]
 * @param {(event: {event: string, data: any}) => void} [handlers.onEvent] every event, raw.
 * @returns {Promise<StreamResult>}
 */
export async function streamAssist(task, payload, handlers = {}) {
  return streamEvents(`/assist/${encodeURIComponent(task)}`, payload, handlers);
}

/**
 * Same as {@link streamAssist} for any POST route answering `text/event-stream`.
 * @param {string} path
 * @param {object} payload
 * @param {object} [handlers] See {@link streamAssist}.
 * @returns {Promise<StreamResult>}
 */
export async function streamEvents(path, payload, handlers = {}) {
  const { signal, onDelta, onSources, onFields, onProgress, onDone, onEvent } = handlers;
  /** @type {StreamResult} */
  const result = { text: '', sources: [], flags: [], fields: null, done: null, stopped: false };
  try {
    const response = await request(path, {
      method: 'POST', json: payload, signal, accept: 'text/event-stream',
    });
    for await (const event of readEvents(response)) {
      if (onEvent) onEvent(event);
      const data = event.data && typeof event.data === 'object' ? event.data : {};
      switch (event.event) {
        case 'delta': {
          const piece = typeof data.text === 'string' ? data.text : '';
          if (!piece) break;
          result.text += piece;
          if (onDelta) onDelta(piece, result.text);
          break;
        }
        case 'sources':
          result.sources = Array.isArray(data.sources) ? data.sources : [];
          result.flags = Array.isArray(data.flags) ? data.flags : [];
          if (onSources) onSources({ sources: result.sources, flags: result.flags });
          break;
        case 'progress':
          if (onProgress) onProgress(data);
          break;
        case 'fields':
          result.fields = data;
          if (onFields) onFields(data);
          break;
        case 'done':
          result.done = data;
          if (onDone) onDone(data);
          return result;
        case 'error': {
          const err = new ApiError({
            status: 200,
            code: data.error || 'erreur_flux',
            message: data.message || '',
            midStream: true,
            body: data,
          });
          err.partial = result;
          throw err;
        }
        default:
          break;
      }
    }
  } catch (err) {
    if (isAbort(err, signal)) {
      result.stopped = true;
      return result;
    }
    if (err instanceof ApiError) {
      if (!err.partial) err.partial = result;
      throw err;
    }
    const cut = new ApiError({
      code: CLIENT_ERROR_CODES.interrupted,
      message: 'La connexion au serveur a été coupée pendant la réponse.',
      midStream: result.text.length > 0,
    });
    cut.partial = result;
    throw cut;
  }
  if (signal && signal.aborted) {
    result.stopped = true;
    return result;
  }
  const cut = new ApiError({
    code: CLIENT_ERROR_CODES.interrupted,
    message: "La réponse s'est arrêtée avant la fin.",
    midStream: result.text.length > 0,
  });
  cut.partial = result;
  throw cut;
}

function isAbort(err, signal) {
  return (err && err.name === 'AbortError') || Boolean(signal && signal.aborted);
}

/**
 * Records what the user did with an answer (`POST /api/v1/feedback`). Never throws: feedback
 * must not break the pane; returns false when it could not be sent.
 * @param {object} feedback
 * @param {string} feedback.interaction_id From the `done` event (or a search/transcription answer).
 * @param {boolean|null} [feedback.useful] 👍 true, 👎 false, null when unknown.
 * @param {string|null} [feedback.comment]
 * @param {'inserted'|'edited'|'discarded'|null} [feedback.outcome]
 * @returns {Promise<boolean>}
 */
export async function sendFeedback({ interaction_id, useful = null, comment = null, outcome = null }) {
  if (!interaction_id) return false;
  try {
    await postJSON('/feedback', { interaction_id, useful, comment, outcome });
    return true;
  } catch (err) {
    console.warn('Plume: feedback not sent', err);
    return false;
  }
}

/**
 * Models offered by the server (`GET /api/v1/models`): {models, default, demo, notice}.
 * Returns null when the call fails (the pane still works; the notice is just not shown).
 * @returns {Promise<object|null>}
 */
export async function getModels() {
  // One call per pane: the banners and the tab bar both read it at start-up.
  if (!modelsLoading) modelsLoading = getJSON('/models');
  try {
    return await modelsLoading;
  } catch (err) {
    modelsLoading = null;
    console.warn('Plume: models not available', err);
    return null;
  }
}

let modelsLoading = null;

/**
 * The signed-in user (`GET /api/v1/me`): name, roles, jurisdictions, allowed tasks, budgets.
 * Returns null when the call fails (the pane then shows every tab; the server still decides).
 * @returns {Promise<object|null>}
 */
export async function getMe() {
  try {
    return await getJSON('/me');
  } catch (err) {
    console.warn('Plume: /me not available', err);
    return null;
  }
}
