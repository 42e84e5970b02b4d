/**
 * French error boxes for the Outlook pane: the shared descriptions of `common/errors.js`,
 * plus Outlook's own refusals and what a clerk can do about an attachment Plume cannot read.
 * @module outlook/problems
 */
import { describeError } from '../common/errors.js';
import { messageBar, problemOf } from '../common/messagebar.js';
import { renderAnswer } from '../common/render.js';
import { setStatus } from '../common/widgets.js';
import { MailboxError } from './mailbox.js';

/** What to do about an attachment refused by the server, by error code or status. */
const ATTACHMENT_ACTIONS = {
  document_chiffre: "Demandez à l'expéditeur une version sans mot de passe, ou ouvrez le fichier vous-même.",
  document_illisible: "Le fichier est peut-être endommagé : ouvrez-le dans Word ou dans un lecteur PDF pour vérifier.",
  document_vide: "Un document numérisé doit d'abord passer par la reconnaissance de caractères (OCR).",
  trop_volumineux: "Ouvrez le fichier et résumez-en les pages utiles, ou demandez une version plus courte.",
  format_non_pris_en_charge: 'Plume résume les fichiers Word (.docx) et PDF uniquement.',
};

/**
 * Like `describeError`, with Outlook's refusals in French and, for an attachment, advice
 * that fits a file rather than a selection.
 * @param {*} err
 * @param {{attachment?: boolean}} [context]
 * @returns {{code: string, title: string, message: string, action: string}}
 */
export function describeProblem(err, context = {}) {
  if (err instanceof MailboxError) {
    return {
      code: err.code,
      title: "Outlook n'a pas pu faire l'opération",
      message: err.message,
      action: 'Réessayez ; si cela se reproduit, fermez puis rouvrez le message.',
    };
  }
  const info = describeError(err);
  if (context.attachment && !err.midStream) {
    const action = ATTACHMENT_ACTIONS[err.code] || (err.status === 413 ? ATTACHMENT_ACTIONS.trop_volumineux
      : err.status === 415 ? ATTACHMENT_ACTIONS.format_non_pris_en_charge : null);
    if (action) return { ...info, title: 'Pièce jointe non résumée', action };
  }
  return info;
}

/**
 * The message bar for `err`: icon, one sentence, one action.
 * @param {*} err
 * @param {{attachment?: boolean}} [context]
 * @param {{onRetry?: () => void}} [handlers] What « Réessayer » runs again.
 * @returns {HTMLElement}
 */
export function problemBox(err, context = {}, handlers = {}) {
  return messageBar(problemOf(err, describeProblem(err, context)), handlers);
}

/**
 * Shows the bar for `err` in `container` (replacing its content).
 * @param {HTMLElement} container
 * @param {*} err
 * @param {{attachment?: boolean}} [context]
 * @param {{onRetry?: () => void}} [handlers]
 */
export function showProblem(container, err, context = {}, handlers = {}) {
  container.replaceChildren(problemBox(err, context, handlers));
  container.hidden = false;
}

/**
 * Empties and hides an error container.
 * @param {HTMLElement} container
 */
export function clearProblem(container) {
  container.replaceChildren();
  container.hidden = true;
}

/**
 * One running generation at a time per panel: its AbortController and Stop button.
 */
export class Run {
  /**
   * @param {HTMLButtonElement} startButton marked aria-disabled while running (keeps the focus)
   * @param {HTMLButtonElement} stopButton shown only while running; aborts the stream
   */
  constructor(startButton, stopButton) {
    this.startButton = startButton;
    this.stopButton = stopButton;
    this.controller = null;
    stopButton.addEventListener('click', () => this.stop());
  }

  /** Starts a run and returns its abort signal. */
  begin() {
    this.controller = new AbortController();
    // aria-disabled rather than disabled: a disabled button would drop the keyboard focus.
    this.startButton.setAttribute('aria-disabled', 'true');
    this.stopButton.hidden = false;
    return this.controller.signal;
  }

  /** Ends the current run (success, error or stop); focus on Stop goes back to the action. */
  end() {
    this.controller = null;
    this.startButton.removeAttribute('aria-disabled');
    if (document.activeElement === this.stopButton) this.startButton.focus();
    this.stopButton.hidden = true;
  }

  /** Closes the stream: the server sees the disconnect and stops generating. */
  stop() {
    if (this.controller) this.controller.abort();
  }

  get running() {
    return this.controller !== null;
  }

  /**
   * Runs `body` on each click of the start button, one run at a time: the panel is cleared
   * first, and a failure is shown in French with the text already streamed kept in view.
   * @param {{status: HTMLElement, error: HTMLElement, output: HTMLElement, clear?: HTMLElement[]}} panel
   * @param {(signal: AbortSignal) => Promise<void>} body
   */
  onStart(panel, body) {
    this.panel = panel;
    this.startButton.addEventListener('click', () => this.launch(body));
  }

  /**
   * Runs `body` now, as a click on the start button would (« Régénérer », « Affiner »,
   * « Réessayer » call it with their own body). The last body is what « Réessayer » runs.
   * @param {(signal: AbortSignal) => Promise<void>} body
   */
  async launch(body) {
    const { status, error, output, clear = [] } = this.panel;
    if (this.running) return;
    const signal = this.begin();
    clearProblem(error);
    for (const element of [output, ...clear]) element.replaceChildren();
    try {
      await body(signal);
    } catch (err) {
      setStatus(status, '');
      showProblem(error, err, {}, { onRetry: () => this.launch(body) });
      if (err && err.partial && err.partial.text) renderAnswer(output, err.partial.text);
    } finally {
      this.end();
    }
  }
}
