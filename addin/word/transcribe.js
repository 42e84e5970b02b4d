/**
 * Transcrire: upload an audio file (`POST /api/v1/transcribe`, multipart field `file`), show
 * the transcript with timestamps, insert it on a click (tracked, in a tagged content control).
 * @module word/transcribe
 */
import { postForm } from '../common/api.js';
import { showError } from '../common/errors.js';
import { formatTimestamp, h } from '../common/render.js';
import { message, setStatus } from '../common/widgets.js';
import { insertChoices, sourcesComment } from './generation.js';

/** Audio formats the server accepts (checked again server-side). */
export const AUDIO_EXTENSIONS = ['wav', 'mp3', 'm4a', 'ogg', 'webm'];

/**
 * Transcript lines from the server's answer: its segments when the host gave timestamps,
 * otherwise the whole text as one line.
 * @param {{text?: string, segments?: {start: number, end?: number, text: string}[]}} answer
 * @returns {{start: number|null, text: string}[]}
 */
export function transcriptLines(answer) {
  const segments = Array.isArray(answer && answer.segments) ? answer.segments : [];
  if (segments.length) return segments.map((s) => ({ start: Number(s.start) || 0, text: String(s.text || '').trim() }));
  return answer && answer.text ? [{ start: null, text: String(answer.text).trim() }] : [];
}

/**
 * The transcript as plain text for the document (« [00:12] … » per line).
 * @param {{start: number|null, text: string}[]} lines
 * @returns {string}
 */
export function transcriptText(lines) {
  return lines.map((line) => (line.start === null ? line.text : `[${formatTimestamp(line.start)}] ${line.text}`)).join('\n');
}

/** Wires the Transcrire panel. */
export function setupTranscribe() {
  const input = document.getElementById('transcribe-file');
  const runButton = document.getElementById('transcribe-run');
  const stopButton = document.getElementById('transcribe-stop');
  const status = document.getElementById('transcribe-status');
  const errorBox = document.getElementById('transcribe-error');
  const output = document.getElementById('transcribe-output');
  const after = document.getElementById('transcribe-after');
  let controller = null;

  const reset = () => {
    errorBox.hidden = true;
    errorBox.replaceChildren();
    output.replaceChildren();
    output.hidden = true;
    after.replaceChildren();
    setStatus(status, '');
  };

  stopButton.addEventListener('click', () => controller && controller.abort());
  input.addEventListener('change', () => {
    const file = input.files && input.files[0];
    document.getElementById('transcribe-file-name').textContent = file ? file.name : 'Aucun fichier choisi';
  });

  runButton.addEventListener('click', async () => {
    if (controller) return;
    reset();
    const file = input.files && input.files[0];
    if (!file) {
      errorBox.replaceChildren(message('warning', 'Choisissez d\'abord un fichier audio.'));
      errorBox.hidden = false;
      return;
    }
    const extension = file.name.includes('.') ? file.name.split('.').pop().toLowerCase() : '';
    if (!AUDIO_EXTENSIONS.includes(extension)) {
      errorBox.replaceChildren(message('warning', `Le fichier « ${file.name} » n'est pas un format audio accepté (WAV, MP3, M4A, OGG ou WEBM).`));
      errorBox.hidden = false;
      return;
    }
    const form = new FormData();
    form.append('file', file, file.name);
    controller = new AbortController();
    runButton.setAttribute('aria-disabled', 'true');
    stopButton.hidden = false;
    setStatus(status, `Transcription de « ${file.name} » en cours… Cela peut prendre quelques minutes.`);
    let answer;
    try {
      answer = await postForm('/transcribe', form, { signal: controller.signal });
    } catch (err) {
      if (err && err.name === 'AbortError') setStatus(status, 'Transcription annulée.');
      else {
        showError(errorBox, err, { onRetry: () => runButton.click() });
        setStatus(status, ''); // the message bar says it once
      }
      return;
    } finally {
      controller = null;
      runButton.removeAttribute('aria-disabled');
      stopButton.hidden = true;
    }
    const lines = transcriptLines(answer);
    if (!lines.length) {
      setStatus(status, 'Aucune parole n\'a été reconnue dans cet enregistrement.');
      return;
    }
    output.replaceChildren(...lines.map((line) => h('li', null,
      h('span', { className: 'plume-timestamp' }, line.start === null ? '—' : formatTimestamp(line.start)),
      h('span', null, line.text))));
    output.hidden = false;
    setStatus(status, 'Transcription prête. Relisez-la avant de l\'insérer.');
    showChoices(file.name, lines, answer);
  });

  function showChoices(fileName, lines, answer) {
    after.replaceChildren(...insertChoices({
      label: 'Insérer la transcription',
      text: () => transcriptText(lines),
      location: 'after',
      comment: () => sourcesComment({
        what: `Transcription automatique de l'enregistrement « ${fileName} »`,
        model: answer.model || null,
        sources: [`Enregistrement audio « ${fileName} »`],
      }),
      interactionId: answer.interaction_id || null,
      status,
      onRegenerate: () => runButton.click(),
      demo: Boolean(answer.demo),
      onDiscarded: () => {
        reset();
        setStatus(status, 'Transcription écartée : rien n\'a été inséré.');
        runButton.focus();
      },
    }));
  }
}
