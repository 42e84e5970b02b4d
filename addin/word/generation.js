/**
 * One streamed generation in a panel of the Word pane (Synthétiser, Rédiger, Reformuler):
 * the Run/Stop buttons, the answer rendered as it streams, then the oversight notice, the
 * action bar (Copier, Régénérer, Affiner, Insérer, Écarter) and the 👍/👎 bar. Nothing reaches the document before
 * the user clicks « Insérer ».
 * @module word/generation
 */
import { answerBar, refinePayload } from '../common/answerbar.js';
import { sendFeedback, streamAssist } from '../common/api.js';
import { documentKey, formatWhen, historyList, remember } from '../common/history.js';
import { renderError, showError } from '../common/errors.js';
import { userText } from '../common/messagebar.js';
import { answerToPlainText, h, renderAnswer } from '../common/render.js';
import { feedbackBar, message, oversightNotice, setStatus } from '../common/widgets.js';
import { AI_TITLE, insertGenerated } from './document.js';
import { checkEdits, watchEdits } from './edits.js';

/**
 * French comment attached to inserted text: what produced it and its sources.
 * @param {object} options
 * @param {string} options.what e.g. « Synthèse de la sélection ».
 * @param {string|null} [options.model]
 * @param {string[]} [options.sources] One line per source.
 * @param {string[]} [options.warnings] The citation check's warnings, one line each.
 * @returns {string}
 */
export function sourcesComment({ what, model = null, sources = [], warnings = [] }) {
  const lines = [`${AI_TITLE}.`, `${what}, proposée par Plume${model ? ` (modèle ${model})` : ''}.`];
  if (sources.length) {
    lines.push('Sources :', ...sources);
  } else {
    lines.push('Sources : aucune source de jurisprudence ; seul le texte du document a été utilisé.');
  }
  if (warnings.length) lines.push('Citations signalées par la vérification :', ...warnings.map((w) => `– ${w}`));
  return lines.join('\n');
}

/**
 * The user-facing outcome of an insertion, with the degradations that applied.
 * @param {{tracked: boolean, commented: boolean}} result
 * @returns {HTMLElement}
 */
export function insertionMessage(result) {
  const lines = [h('strong', null, 'Texte inséré dans le document.')];
  lines.push(h('p', null, result.tracked
    ? `Il apparaît en suivi des modifications, dans un cadre « ${AI_TITLE} ».`
    : `Il est dans un cadre « ${AI_TITLE} », mais cette version de Word ne permet pas d'activer le suivi des modifications : activez-le vous-même (Révision › Suivi des modifications) si vous voulez tracer ce changement.`));
  if (!result.commented) {
    lines.push(h('p', null, "Cette version de Word ne permet pas d'ajouter le commentaire listant les sources : notez-les si vous en avez besoin."));
  }
  if (result.footnotes) {
    lines.push(h('p', null, result.footnotes > 1
      ? `Les ${result.footnotes} renvois « [n] » sont devenus des notes de bas de page citant leur décision.`
      : 'Le renvoi « [n] » est devenu une note de bas de page citant sa décision.'));
  }
  return message(result.tracked && result.commented ? 'success' : 'warning', lines, { dataset: { outcome: 'inserted' } });
}

/**
 * A panel running one assistance task.
 */
export class GenerationPanel {
  /**
   * @param {string} prefix Element id prefix (`summarize`, `draft`, `rewrite`).
   * @param {object} options
   * @param {string} options.task Gateway task name.
   * @param {'after'|'replace'} options.location Where « Insérer » puts the text.
   * @param {string} options.insertLabel Label of the insert button.
   */
  constructor(prefix, { task, location, insertLabel }) {
    this.task = task;
    this.location = location;
    this.insertLabel = insertLabel;
    const byId = (suffix) => document.getElementById(`${prefix}-${suffix}`);
    this.runButton = byId('run');
    this.stopButton = byId('stop');
    this.status = byId('status');
    this.error = byId('error');
    this.output = byId('output');
    this.after = byId('after');
    this.controller = null;
    /** Optional check before « Insérer » (see {@link insertChoices} `gate`). */
    this.gate = null;
    /** Optional source number → citation, read at « Insérer » (Rédiger's « [n] » become citations). */
    this.citations = null;
    /**
     * The part of the model's text that is the answer (Traduire takes its « Langue d'origine »
     * line out): what is shown, copied and inserted. The history keeps the whole text.
     * @type {(text: string) => string}
     */
    this.visible = (text) => text;
    this.stopButton.addEventListener('click', () => this.stop());
    // The answers already given for this document, kept on this device (common/history.js).
    this.historyKey = documentKey();
    this.history = historyList({ key: this.historyKey, task, onRestore: (entry) => this.restore(entry) });
    this.runButton.parentElement.after(this.history.element);
    // A long document is read part by part: the server says how many are done.
    this.progress = h('progress', { className: 'plume-progress', hidden: true, 'aria-label': 'Avancement de la lecture', max: '1', value: '0' });
    this.status.after(this.progress);
  }

  /**
   * Shows the parts done out of the total (map/reduce of a long document).
   * @param {{done?: number, total?: number}} progress
   */
  showProgress(progress) {
    const total = Number(progress && progress.total);
    if (!total) return;
    const done = Math.min(total, Math.max(0, Number(progress.done) || 0));
    this.progress.setAttribute('max', String(total));
    this.progress.setAttribute('value', String(done));
    this.progress.setAttribute('aria-valuetext', `${done} partie${done > 1 ? 's' : ''} lue${done > 1 ? 's' : ''} sur ${total}`);
    this.progress.hidden = false;
  }

  /**
   * Shows an answer from the history again, as it was when it was given: nothing is
   * generated. It can be copied, inserted or discarded; « Régénérer » runs the task anew.
   * @param {import('../common/history.js').HistoryEntry} entry
   */
  restore(entry) {
    if (this.running) return;
    this.reset();
    this.output.hidden = false;
    renderAnswer(this.output, this.visible(entry.text));
    this.lastText = entry.text;
    setStatus(this.status, `Réponse du ${formatWhen(entry.at)}, reprise de l'historique : rien n'a été régénéré.`);
    const extra = entry.extra || {};
    this.after.replaceChildren(...insertChoices({
      label: this.insertLabel,
      text: () => answerToPlainText(this.visible(entry.text)),
      location: this.location,
      comment: () => extra.comment || sourcesComment({ what: 'Réponse reprise de l\'historique' }),
      interactionId: entry.interactionId || null,
      demo: Boolean(entry.demo),
      status: this.status,
      gate: this.gate,
      citations: this.citations,
      onRegenerate: () => this.runButton.click(),
      onDiscarded: () => {
        this.reset();
        setStatus(this.status, 'Proposition écartée : rien n\'a été inséré.');
        this.runButton.focus();
      },
    }));
    if (this.onRestored) this.onRestored(entry);
  }

  /** True while a stream is open. */
  get running() {
    return this.controller !== null;
  }

  /** Aborts the stream (the server sees the connection close and stops the model). */
  stop() {
    if (this.controller) this.controller.abort();
  }

  /** Clears the previous answer and any message. */
  reset() {
    this.error.hidden = true;
    this.error.replaceChildren();
    this.after.replaceChildren();
    this.output.replaceChildren();
    this.output.hidden = true;
    this.progress.hidden = true;
    setStatus(this.status, '');
  }

  /**
   * Shows a French problem found before calling the server (nothing selected, …).
   * @param {string} text
   */
  complain(text) {
    this.error.replaceChildren(message('warning', text));
    this.error.hidden = false;
  }

  /** Runs the last request again (« Régénérer », « Réessayer »). */
  regenerate() {
    if (this.basePayload) this.start(this.basePayload, this.hooks);
  }

  /**
   * Reruns the last request with the answer on screen as context (« Affiner »).
   * @param {string} refinement e.g. « plus court ».
   */
  refine(refinement) {
    if (this.basePayload && this.lastText) {
      this.start(refinePayload(this.basePayload, this.visible(this.lastText), refinement), this.hooks, { refining: true });
    }
  }

  /**
   * Streams the task's answer into the panel.
   * @param {object} payload Request body (`text`, `instructions`, …).
   * @param {object} hooks
   * @param {object} [hooks.renderOptions] {@link renderAnswer} options (reference handlers).
   * @param {(payload: {sources: object[], flags: object[]}) => void} [hooks.onSources]
   * @param {(result: object) => string} hooks.comment Builds the sources comment for insertion.
   * @param {() => object} [hooks.renderOptionsAtEnd] Options for the final render (flags known).
   * @param {() => void} [hooks.onStart] Called once the panel is cleared, before the request.
   * @param {() => object} [hooks.keep] What the history must keep to show the answer again.
   * @returns {Promise<object|null>} the stream result, or null when it failed.
   */
  async start(payload, hooks, { refining = false } = {}) {
    if (this.running) return null;
    if (!refining) this.basePayload = payload; // Affiner always builds on what the user asked
    this.hooks = hooks;
    this.lastText = '';
    this.streamed = '';
    checkEdits(); // the previous answer's text may have been edited meanwhile
    this.reset();
    if (hooks.onStart) hooks.onStart();
    this.controller = new AbortController();
    this.output.hidden = false;
    this.output.setAttribute('aria-busy', 'true');
    // aria-disabled rather than disabled: a disabled button would drop the keyboard focus.
    this.runButton.setAttribute('aria-disabled', 'true');
    this.stopButton.hidden = false;
    this.stopButton.disabled = false;
    setStatus(this.status, 'Génération en cours… Vous pouvez l\'arrêter à tout moment.');
    const renderOptions = hooks.renderOptions || {};
    let result = null;
    try {
      result = await streamAssist(this.task, payload, {
        signal: this.controller.signal,
        onDelta: (piece, all) => {
          this.streamed = all;
          this.progress.hidden = true; // the final answer is being written
          if (piece === all) setStatus(this.status, 'Génération en cours… Vous pouvez l\'arrêter à tout moment.');
          renderAnswer(this.output, this.visible(all), renderOptions);
        },
        onSources: hooks.onSources,
        onProgress: (progress) => {
          if (progress && progress.message) setStatus(this.status, progress.message);
          this.showProgress(progress);
        },
      });
    } catch (err) {
      showError(this.error, err, { onRetry: () => this.regenerate() });
      const partial = err && err.partial;
      // The message bar says what happened: the status line does not repeat it.
      setStatus(this.status, '');
      if (partial && partial.text) {
        renderAnswer(this.output, this.visible(partial.text), hooks.renderOptionsAtEnd ? hooks.renderOptionsAtEnd() : renderOptions);
        this.lastText = partial.text;
        this.after.replaceChildren(oversightNotice(), this.partialBar());
      } else {
        this.output.hidden = true;
      }
      return null;
    } finally {
      this.output.removeAttribute('aria-busy');
      this.runButton.removeAttribute('aria-disabled');
      this.stopButton.hidden = true;
      this.controller = null;
    }
    if (hooks.renderOptionsAtEnd) renderAnswer(this.output, this.visible(result.text), hooks.renderOptionsAtEnd());
    if (result.stopped) {
      setStatus(this.status, 'Génération arrêtée à votre demande.');
      if (!result.text) this.output.hidden = true;
      this.lastText = result.text;
      if (result.text) this.after.replaceChildren(oversightNotice(), this.partialBar(true));
      return result;
    }
    this.lastText = result.text;
    const done = result.done || {};
    setStatus(this.status, 'Proposition prête. Relisez-la avant de l\'insérer.');
    remember(this.historyKey, {
      task: this.task, text: result.text, interactionId: done.interaction_id || null, demo: Boolean(done.demo),
      extra: { comment: hooks.comment(result), ...(hooks.keep ? hooks.keep() : {}) },
    });
    this.history.refresh();
    this.showChoices(result, done, hooks.comment);
    return result;
  }

  /**
   * Under a stopped or cut answer: no « Insérer » (it is incomplete), no « Affiner ».
   * @param {boolean} [say] Say it is incomplete (a stopped answer; a cut one has its message bar).
   */
  partialBar(say = false) {
    const bar = answerBar({
      text: () => answerToPlainText(this.visible(this.lastText)),
      status: this.status,
      onRegenerate: () => this.regenerate(),
      onDiscard: () => {
        this.reset();
        setStatus(this.status, 'Proposition écartée : rien n\'a été inséré.');
        this.runButton.focus();
      },
    }).element;
    if (!say) return bar;
    return h('div', { className: 'plume-stack' },
      message('warning', "Texte incomplet : il ne peut pas être inséré tel quel. Régénérez-le, ou copiez-le pour le compléter vous-même.", { dataset: { incomplete: 'true' } }),
      bar);
  }

  showChoices(result, done, comment) {
    this.after.replaceChildren(...insertChoices({
      label: this.insertLabel,
      text: () => answerToPlainText(this.visible(result.text)),
      location: this.location,
      comment: () => comment(result),
      interactionId: done.interaction_id || null,
      demo: Boolean(done.demo),
      status: this.status,
      gate: this.gate,
      citations: this.citations,
      onRegenerate: () => this.regenerate(),
      onRefine: (refinement) => this.refine(refinement),
      onInserted: () => setStatus(this.status, 'Texte inséré.'),
      onDiscarded: () => {
        this.reset();
        setStatus(this.status, 'Proposition écartée : rien n\'a été inséré.');
        this.runButton.focus();
      },
    }));
  }
}

/**
 * The choice under an AI proposal: the oversight notice, the action bar (Copier, Régénérer,
 * Affiner, « Insérer », « Écarter »), the outcome of the insertion and the 👍/👎 bar. Nothing reaches the document before
 * « Insérer »; both choices are reported to the observatory (`outcome`).
 * @param {object} options
 * @param {string} options.label Text of the insert button.
 * @param {() => string} options.text The plain text to insert, read at the click.
 * @param {string} options.location Where it goes (see `insertGenerated`).
 * @param {() => string} options.comment The comment listing what produced it and its sources.
 * @param {string|null} options.interactionId
 * @param {boolean} [options.demo] Answered by the demonstration model: the notice says so first.
 * @param {HTMLElement} options.status Status line (Copier says what it did there).
 * @param {(() => ({message: string, focus: HTMLElement}|null))|null} [options.gate] Asked at
 *   each « Insérer »: null lets the text in; otherwise nothing is inserted, the message says
 *   what to do first and the focus goes where to do it (Rédiger: « J'ai vérifié »).
 * @param {(() => Map<number, string>|null)|null} [options.citations] Source numbers and their
 *   citations, turned into footnotes (or parenthesised citations) on insertion.
 * @param {() => void} [options.onRegenerate]
 * @param {(refinement: string) => void} [options.onRefine]
 * @param {(inserted: object) => void} [options.onInserted] Given what {@link insertGenerated} returned.
 * @param {() => void} options.onDiscarded Clear the panel (the choice is gone with it).
 * @returns {HTMLElement[]}
 */
export function insertChoices({
  label, text, location, comment, interactionId, demo = false, status, gate = null, citations = null, onRegenerate, onRefine,
  onInserted = () => {}, onDiscarded,
}) {
  const insert = h('button', { type: 'button', className: 'plume-button plume-button--primary', dataset: { action: 'insert' } }, label);
  const bar = answerBar({
    text, status, onRegenerate, onRefine, insert,
    onDiscard: () => {
      if (interactionId) sendFeedback({ interaction_id: interactionId, outcome: 'discarded' });
      onDiscarded();
    },
  });
  const { discard } = bar;
  const outcome = h('div', { className: 'plume-stack' });
  insert.addEventListener('click', async () => {
    const blocked = gate ? gate() : null;
    if (blocked) {
      outcome.replaceChildren(message('warning', blocked.message, { dataset: { outcome: 'blocked' } }));
      blocked.focus.focus();
      return;
    }
    insert.disabled = true;
    discard.disabled = true;
    try {
      const inserted = await insertGenerated(text(), { location, comment: comment(), citations: citations ? citations() : null });
      outcome.replaceChildren(focusable(insertionMessage(inserted)));
      outcome.firstChild.focus();
      onInserted(inserted);
      if (interactionId) {
        const recorded = sendFeedback({ interaction_id: interactionId, outcome: 'inserted' });
        watchEdits(interactionId, inserted.control, recorded);
      }
    } catch (err) {
      insert.disabled = false;
      discard.disabled = false;
      outcome.replaceChildren(describeInsertError(err));
      insert.focus();
    }
  });
  const parts = [oversightNotice({ demo }), bar.element, outcome];
  if (interactionId) parts.push(feedbackBar(interactionId));
  return parts;
}

/**
 * Makes a message focusable by script (not by Tab), so focus can land on an outcome when the
 * button that was focused gets disabled.
 * @param {HTMLElement} element
 * @returns {HTMLElement}
 */
export function focusable(element) {
  element.tabIndex = -1;
  return element;
}

/**
 * An insertion failure as a French message bar (unsupported host or a Word refusal).
 * @param {*} err
 * @returns {HTMLElement}
 */
export function describeInsertError(err) {
  if (err && err.name === 'UnsupportedError') {
    return message('warning', userText(err.message, "Cette version de Word ne permet pas cette opération."), { dataset: { errorCode: 'non_pris_en_charge' } });
  }
  return renderError(err);
}
