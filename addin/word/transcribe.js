/**
 * Transcrire: a hearing of any length, sent in parts that resume after a network cut
 * (`/api/v1/transcriptions/uploads`, `PUT …/{id}/upload?offset=N`, `POST …/{id}/start`), then
 * followed as a background job (`GET …/{id}`: minutes of audio done and time left) until its
 * transcript comes back. The recording stays in the pane (an object URL): a click on a time,
 * or on a word when the server gave word times, plays it from there, never from the server.
 * Search within the transcript (Entrée plays from the first word found), « Changer
 * d'intervenant » from a segment on (sent to the server, `PUT …/{id}/speakers`, so its exports
 * name the speakers too), exports (.docx, .srt, .vtt, .txt) and insertion (tracked, in a
 * labelled content control, « [00:12:31] Intervenant : … » per line, the speakers in bold).
 * @module word/transcribe
 */
import { ApiError, getJSON, postJSON, request } from '../common/api.js';
import { showError } from '../common/errors.js';
import { foldAccents, h } from '../common/render.js';
import { message, setStatus } from '../common/widgets.js';
import { isSetSupported } from '../common/host.js';
import { withTracking } from './document.js';
import { insertChoices, sourcesComment } from './generation.js';

/** Recordings the server accepts (checked again from the file's content server-side). */
export const AUDIO_EXTENSIONS = ['wav', 'mp3', 'm4a', 'ogg', 'opus', 'webm', 'flac', 'mp4', 'mov'];
/** Bytes per upload part (the server takes up to PLUME_HEARING_PART_BYTES, 8 MB by default). */
export const PART_BYTES = 4 * 1024 * 1024;
/** Tries of one part before the pane gives up and offers « Réessayer » (which resumes). */
export const PART_TRIES = 5;
/** First wait before a part is sent again after a cut; doubled at each try. */
export const RETRY_DELAY_MS = 1000;
/** How often the job is looked at while it runs. */
export const POLL_MS = 1000;
/** Where the pane remembers the job of each file, so a closed pane resumes its upload. */
const STORE_PREFIX = 'plume.transcription.';
const BASE = '/transcriptions';
/** Link-like buttons inside the transcript (ui.css has no such class; kept here, inline). */
const LINK_STYLE = 'border: none; background: none; padding: 0; color: inherit; cursor: pointer; text-decoration: underline; font: inherit;';
const SMALL_LINK_STYLE = `${LINK_STYLE} font-size: 11px; opacity: 0.75;`;

/**
 * « 00:12:31 »: hours, minutes and seconds of the recording.
 * @param {number} seconds
 * @returns {string}
 */
export function clock(seconds) {
  const total = Math.max(0, Math.floor(Number(seconds) || 0));
  const pad = (n) => String(n).padStart(2, '0');
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
}

/**
 * « 12 min », « 1 h 05 »: a duration for people.
 * @param {number} seconds
 * @returns {string}
 */
export function duration(seconds) {
  const minutes = Math.max(1, Math.round((Number(seconds) || 0) / 60));
  return minutes >= 60 ? `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')}` : `${minutes} min`;
}

/**
 * The speaker of each segment: the latest manual change at or before its start, else the
 * host's (the server applies the same rule to what it gives and exports).
 * @param {{start: number, speaker?: string}[]} segments
 * @param {Map<number, string>} changes Seconds → name, from « Changer d'intervenant ».
 * @returns {(string|null)[]}
 */
export function speakers(segments, changes) {
  const marks = [...changes.entries()].sort((a, b) => a[0] - b[0]);
  let current = null;
  let at = 0;
  return segments.map((segment) => {
    while (at < marks.length && marks[at][0] <= segment.start + 1e-6) {
      [, current] = marks[at];
      at += 1;
    }
    return current || segment.speaker || null;
  });
}

/**
 * The first word of `segment` matching the search (accents and case ignored), for a jump to
 * its time; null without word times or without a match.
 * @param {{words?: {start: number, word: string}[]}} segment
 * @param {string} terms The search, already folded and lower-cased.
 * @returns {{start: number, word: string}|null}
 */
export function wordFound(segment, terms) {
  const first = terms.split(/\s+/)[0];
  if (!first || !Array.isArray(segment.words)) return null;
  return segment.words.find((w) => foldAccents(String(w.word).toLowerCase()).includes(first)) || null;
}

/**
 * Puts the speakers' names in bold in an inserted transcript: each « Nom : » found in the
 * content control, tracked like the insertion. Needs WordApi 1.3 (a control found by id);
 * without it the transcript stays as inserted, names in plain text.
 * @param {number} controlId The content control {@link insertChoices} inserted.
 * @param {(string|null)[]} names The speaker of each line.
 * @returns {Promise<number>} How many names were put in bold.
 */
export async function boldSpeakers(controlId, names) {
  // « ^ » introduces Word's special search codes: such a name is left as it is.
  const distinct = [...new Set(names.filter((n) => n && !n.includes('^')))];
  if (!distinct.length || !isSetSupported('WordApi', '1.3')) return 0;
  let count = 0;
  await withTracking(async (context) => {
    const range = context.document.contentControls.getByIdOrNullObject(controlId).getRange();
    const searches = distinct.map((name) => {
      const found = range.search(`${name} :`, { matchCase: true, matchWildcards: false });
      found.load('items');
      return found;
    });
    await context.sync();
    for (const found of searches) {
      for (const item of found.items) {
        item.font.bold = true;
        count += 1;
      }
    }
  });
  return count;
}

/**
 * The transcript as plain text for the document: « [00:12:31] Intervenant : texte » per line.
 * @param {{start: number, text: string}[]} segments
 * @param {(string|null)[]} names
 * @returns {string}
 */
export function transcriptText(segments, names) {
  return segments.map((s, i) => `[${clock(s.start)}] ${names[i] ? `${names[i]} : ` : ''}${String(s.text).trim()}`).join('\n');
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

function fileKey(file) {
  return `${STORE_PREFIX}${file.name}:${file.size}:${file.lastModified}`;
}

function remember(file, id) {
  try {
    if (id) localStorage.setItem(fileKey(file), id);
    else localStorage.removeItem(fileKey(file));
  } catch (_) { /* private mode: no resuming after the pane closes, the rest works */ }
}

function recalled(file) {
  try { return localStorage.getItem(fileKey(file)); } catch (_) { return null; }
}

/** Wires the Transcrire panel. */
export function setupTranscribe() {
  const panel = document.getElementById('panel-transcribe');
  const input = document.getElementById('transcribe-file');
  const runButton = document.getElementById('transcribe-run');
  const stopButton = document.getElementById('transcribe-stop');
  const status = document.getElementById('transcribe-status');
  const errorBox = document.getElementById('transcribe-error');
  const output = document.getElementById('transcribe-output');
  const after = document.getElementById('transcribe-after');
  input.setAttribute('accept', `${AUDIO_EXTENSIONS.map((e) => `.${e}`).join(',')},audio/*,video/mp4`);

  const bar = h('progress', { id: 'transcribe-progress', max: 1, value: 0, hidden: true, style: 'width: 100%' });
  const player = h('audio', { id: 'transcribe-player', controls: true, preload: 'metadata', hidden: true, style: 'width: 100%' });
  const search = h('input', { id: 'transcribe-search', type: 'search', className: 'plume-input', placeholder: 'Rechercher dans la transcription', 'aria-label': 'Rechercher dans la transcription' });
  const found = h('span', { id: 'transcribe-found', className: 'plume-status', role: 'status' });
  const speakerName = h('input', { id: 'transcribe-speaker', type: 'text', className: 'plume-input', value: 'Intervenant 2', 'aria-label': "Nom de l'intervenant" });
  const tools = h('div', { id: 'transcribe-tools', className: 'plume-stack', hidden: true },
    search, found,
    h('label', { className: 'plume-label', for: 'transcribe-speaker' }, 'Intervenant pour « Changer d\'intervenant »'),
    speakerName);
  const exports = h('div', { id: 'transcribe-exports', className: 'plume-actions', hidden: true });
  status.before(bar);
  output.before(player, tools);
  output.after(exports);

  let objectUrl = null;
  let running = null; // {file, id, abort: AbortController, cancelled: boolean}

  const reset = () => {
    errorBox.hidden = true;
    errorBox.replaceChildren();
    output.replaceChildren();
    output.hidden = true;
    tools.hidden = true;
    exports.hidden = true;
    exports.replaceChildren();
    after.replaceChildren();
    bar.hidden = true;
    setStatus(status, '');
  };

  input.addEventListener('change', () => {
    const file = input.files && input.files[0];
    document.getElementById('transcribe-file-name').textContent = file ? file.name : 'Aucun fichier choisi';
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = file ? URL.createObjectURL(file) : null;
    player.src = objectUrl || '';
    player.hidden = !file;
  });

  stopButton.addEventListener('click', async () => {
    if (!running) return;
    running.cancelled = true;
    running.abort.abort();
    if (running.id) {
      try { await postJSON(`${BASE}/${running.id}/cancel`, {}); } catch (_) { /* shown by the poll */ }
    }
  });

  runButton.addEventListener('click', async () => {
    if (running) return;
    reset();
    const file = input.files && input.files[0];
    if (!file) return warn('Choisissez d\'abord un fichier audio.');
    const extension = file.name.includes('.') ? file.name.split('.').pop().toLowerCase() : '';
    if (!AUDIO_EXTENSIONS.includes(extension)) {
      return warn(`Le fichier « ${file.name} » n'est pas un format accepté (WAV, MP3, M4A, OGG, OPUS, WEBM, FLAC, MP4 ou MOV).`);
    }
    running = { file, id: null, abort: new AbortController(), cancelled: false };
    runButton.setAttribute('aria-disabled', 'true');
    stopButton.hidden = false;
    try {
      const job = await follow(await upload(running));
      if (job) show(file, job);
    } catch (err) {
      if (running.cancelled || (err && err.name === 'AbortError')) setStatus(status, 'Transcription annulée.');
      else {
        showError(errorBox, err, { onRetry: () => runButton.click() });
        setStatus(status, '');
      }
    } finally {
      running = null;
      bar.hidden = true;
      runButton.removeAttribute('aria-disabled');
      stopButton.hidden = true;
    }
  });

  function warn(text) {
    errorBox.replaceChildren(message('warning', text));
    errorBox.hidden = false;
  }

  /** Sends what the server does not have yet; returns the job id, started. */
  async function upload(run) {
    const { file, abort } = run;
    let job = null;
    const known = recalled(file);
    if (known) {
      try {
        job = await getJSON(`${BASE}/${known}`, { signal: abort.signal });
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
      }
    }
    if (!job || ['failed', 'cancelled'].includes(job.state)) {
      job = await postJSON(`${BASE}/uploads`, { filename: file.name, size: file.size, language: 'fr' }, { signal: abort.signal });
      remember(file, job.id);
    }
    run.id = job.id;
    if (job.state !== 'queued') return job.id;
    let offset = job.upload ? job.upload.received : 0;
    if (offset > 0) setStatus(status, `Reprise de l'envoi à ${Math.round((offset / file.size) * 100)} %…`);
    bar.hidden = false;
    while (offset < file.size) {
      bar.value = offset / file.size;
      if (offset > 0) setStatus(status, `Envoi de l'enregistrement : ${Math.round((offset / file.size) * 100)} %`);
      offset = await sendPart(run, offset);
    }
    bar.value = 1;
    await postJSON(`${BASE}/${job.id}/start`, {}, { signal: abort.signal });
    return job.id;
  }

  /** One part, tried again after a cut; returns the offset the server now holds. */
  async function sendPart(run, offset) {
    const { file, id, abort } = run;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const answer = await (await request(`${BASE}/${id}/upload`, {
          method: 'PUT', query: { offset }, body: file.slice(offset, offset + PART_BYTES), signal: abort.signal,
        })).json();
        return answer.upload.received;
      } catch (err) {
        if (err && err.name === 'AbortError') throw err;
        // The server holds another size (a part arrived although its answer was lost): go on from there.
        if (err instanceof ApiError && err.code === 'envoi_decale' && err.body && Number.isInteger(err.body.size)) return err.body.size;
        if (!(err instanceof ApiError) || err.status !== 0 || attempt >= PART_TRIES) throw err;
        setStatus(status, 'Connexion interrompue : reprise de l\'envoi…');
        await sleep(RETRY_DELAY_MS * (2 ** (attempt - 1)));
      }
    }
  }

  /** Polls the job until it ends; the finished job, or null when it was cancelled. */
  async function follow(id) {
    bar.hidden = false;
    bar.value = 0;
    setStatus(status, 'Transcription en attente…');
    for (;;) {
      const job = await getJSON(`${BASE}/${id}`);
      const { done_seconds: done, total_seconds: total, message: text } = job.progress || {};
      if (total) bar.value = done / total;
      if (job.state === 'done') return job;
      if (job.state === 'failed') {
        remember(running.file, null);
        throw new ApiError({ status: 422, code: job.error ? job.error.error : 'traitement_echoue', message: job.error ? job.error.message : 'La transcription a échoué.' });
      }
      if (job.state === 'cancelled') {
        remember(running.file, null);
        setStatus(status, 'Transcription annulée.');
        return null;
      }
      if (text) setStatus(status, text);
      await sleep(POLL_MS);
    }
  }

  function show(file, job) {
    const segments = (job.segments || []).filter((s) => String(s.text || '').trim());
    if (!segments.length) {
      setStatus(status, 'Aucune parole n\'a été reconnue dans cet enregistrement.');
      return;
    }
    // The changes already stored on the server (a pane opened again shows them).
    const changes = new Map((job.speaker_changes || []).map((c) => [c.from, c.speaker]));
    const words = (segment) => (Array.isArray(segment.words) && segment.words.length
      ? segment.words.flatMap((w, i) => [i ? ' ' : null, h('span', { className: 'plume-word', dataset: { start: String(w.start) }, style: 'cursor: pointer;' }, w.word)]).filter(Boolean)
      : [String(segment.text).trim()]);
    const render = () => {
      const names = speakers(segments, changes);
      output.replaceChildren(...segments.map((segment, index) => h('li', { dataset: { index: String(index) } },
        h('button', { type: 'button', className: 'plume-timestamp', style: LINK_STYLE, dataset: { start: String(segment.start) }, 'aria-label': `Écouter à partir de ${clock(segment.start)}` }, clock(segment.start)),
        h('span', null,
          names[index] ? h('strong', { className: 'plume-speaker' }, `${names[index]} : `) : null,
          h('span', { className: 'plume-segment-text' }, ...words(segment)),
          ' ',
          h('button', { type: 'button', style: SMALL_LINK_STYLE, dataset: { action: 'speaker' }, title: 'Changer d\'intervenant à partir d\'ici' }, 'changer d\'intervenant')))));
      filter();
    };
    let firstWord = null; // the first word found by the search, where Entrée plays from
    const filter = () => {
      const terms = foldAccents(search.value.trim().toLowerCase());
      let count = 0;
      firstWord = null;
      for (const li of output.children) {
        const hit = !terms || foldAccents(li.textContent.toLowerCase()).includes(terms);
        li.hidden = !hit;
        for (const mark of li.querySelectorAll('[data-hit]')) {
          delete mark.dataset.hit;
          mark.style.background = '';
        }
        if (!hit || !terms) continue;
        count += 1;
        const word = wordFound(segments[Number(li.dataset.index)], terms);
        const span = word && [...li.querySelectorAll('.plume-word')].find((s) => Number(s.dataset.start) === word.start);
        if (span) {
          span.dataset.hit = 'true';
          span.style.background = 'Highlight';
          firstWord = firstWord || word;
        }
      }
      found.textContent = terms ? `${count} passage${count > 1 ? 's' : ''} trouvé${count > 1 ? 's' : ''}${firstWord ? ` — Entrée : écouter à partir de « ${firstWord.word} » (${clock(firstWord.start)})` : ''}` : '';
    };
    const play = (seconds) => {
      player.currentTime = Number(seconds);
      player.play().catch(() => {});
    };
    output.onclick = (event) => {
      const target = event.target.closest('button, .plume-word');
      if (!target) return;
      const li = target.closest('li');
      if (target.dataset.start !== undefined) play(target.dataset.start);
      else if (target.dataset.action === 'speaker') {
        changes.set(segments[Number(li.dataset.index)].start, speakerName.value.trim() || 'Intervenant');
        render();
        saveSpeakers();
      }
    };
    /** The whole set of changes to the server, so that its exports name the same speakers. */
    const saveSpeakers = async () => {
      try {
        await request(`${BASE}/${job.id}/speakers`, {
          method: 'PUT', json: { speaker_changes: [...changes].map(([from, speaker]) => ({ from, speaker })) },
        });
        setStatus(status, 'Intervenants enregistrés : les exports les reprennent.');
      } catch (err) {
        showError(errorBox, err, { onRetry: saveSpeakers });
      }
    };
    search.oninput = filter;
    search.onkeydown = (event) => {
      if (event.key === 'Enter' && firstWord) {
        event.preventDefault();
        play(firstWord.start);
      }
    };
    render();
    output.hidden = false;
    tools.hidden = false;
    bar.hidden = true;
    setStatus(status, `Transcription prête (${duration(job.duration)} d'enregistrement). Relisez-la avant de l'insérer.`);
    exports.replaceChildren(...['docx', 'srt', 'vtt', 'txt'].map((fmt) => h('button', {
      type: 'button', className: 'plume-button', dataset: { export: fmt },
      on: { click: () => download(job.id, fmt, file.name) },
    }, `.${fmt}`)));
    exports.hidden = false;
    after.replaceChildren(...insertChoices({
      label: 'Insérer la transcription',
      text: () => transcriptText(segments, speakers(segments, changes)),
      location: 'after',
      comment: () => sourcesComment({
        what: `Transcription automatique de l'enregistrement « ${file.name} »`,
        model: job.model || null,
        sources: [`Enregistrement audio « ${file.name} » (${clock(job.duration)})`],
      }),
      interactionId: job.interaction_id || null,
      status,
      onInserted: (inserted) => {
        if (inserted && inserted.control) {
          boldSpeakers(inserted.control.id, speakers(segments, changes)).catch(() => { /* the text is in; only the bold is missing */ });
        }
      },
      onRegenerate: () => { remember(file, null); runButton.click(); },
      demo: Boolean(job.demo),
      onDiscarded: () => {
        reset();
        setStatus(status, 'Transcription écartée : rien n\'a été inséré.');
        runButton.focus();
      },
    }));
  }

  async function download(id, fmt, name) {
    try {
      const response = await request(`${BASE}/${id}/export.${fmt}`, { accept: '*/*' });
      const url = URL.createObjectURL(await response.blob());
      const link = h('a', { href: url, download: `${name.replace(/\.[^.]+$/, '')}.${fmt}`, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      showError(errorBox, err, { onRetry: () => download(id, fmt, name) });
    }
  }
}
