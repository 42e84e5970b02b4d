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
 * The calls are in dossier-api.js, what each part looks like in dossier-render.js.
 * @module common/dossier
 */
import { ApiError } from './api.js';
import { cancelDossier, cancelRevision, createDossier, deleteDossier, exportDocx, exportName, FINISHED, followDossier, followRevision,
  getDossier, getSynthesis, listDossiers, openReference, reviseDossier, saveBlob, startDossier } from './dossier-api.js';
import { inventorySummary, plural, renderEstimate, renderInventory, renderProgress, renderSynthesis, renderUpload,
  STATE_NAMES, stateOf, synthesisText, WHEN } from './dossier-render.js';
import { describeError, renderError } from './errors.js';
import { historyList, recall, remember } from './history.js';
import { messageBar, problemOf } from './messagebar.js';
import { h } from './render.js';
import { frenchTypography } from './typography.js';
import { message, setStatus } from './widgets.js';

/** How often « Mes dossiers » is read again while one of them runs (ms). */
export const LIST_REFRESH_MS = 5000;
/** The history task of a dossier's syntheses (common/history.js). */
export const HISTORY_TASK = 'dossier';
/** Characters of a synthesis kept as the history's text (its preview; the synthesis itself is kept beside it). */
const HISTORY_TEXT_CHARS = 2000;

/**
 * The device's history key of a dossier: its syntheses (the first and each one written
 * again) are kept there, so going back to one does not write it again.
 * @param {string} id
 * @returns {string}
 */
export function dossierHistoryKey(id) {
  return `dossier:${id}`;
}

/**
 * What a version of a synthesis is called in the history and the status line.
 * @param {string|null} revisionId
 * @param {string|null} instruction
 * @returns {string}
 */
export function versionLabel(revisionId, instruction) {
  if (!revisionId) return 'Synthèse initiale';
  return instruction ? `Affinée : « ${instruction} »` : 'Nouvelle rédaction';
}

/** What to do when the server refuses the files as a whole (none readable, too many, too big). */
const UPLOAD_ACTIONS = Object.freeze({
  413: 'Retirez des fichiers ou répartissez-les en plusieurs dossiers.',
  422: 'Ajoutez des fichiers lisibles, ou remplacez ceux qui sont signalés.',
});

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
   *   under a synthesis (the oversight notice and the action bar); the context also carries
   *   `regenerate()`, `refine(words)` (the synthesis written again), `revisionId` (the version
   *   on screen, null for the first) and `interactionId` (its record).
   */
  constructor(panel, { intro, home, resultActions }) {
    this.resultActions = resultActions;
    this.current = null;
    this.follower = null;
    this.status = h('p', { id: 'dossier-status', className: 'plume-status', role: 'status', 'aria-live': 'polite' });
    this.error = h('div', { id: 'dossier-error', hidden: true });
    // Not a live region: the status line says the upload once; the bar moves without speaking.
    this.upload = h('div', { id: 'dossier-upload', hidden: true });
    this.list = h('ul', { id: 'dossier-list', className: 'plume-results', 'aria-labelledby': 'dossier-list-title' });
    const refresh = h('button', { type: 'button', className: 'plume-button plume-button--small', dataset: { action: 'refresh' },
      on: { click: () => this.refreshList() } }, 'Actualiser');
    this.home = h('div', { id: 'dossier-home', className: 'dossier-view' }, home,
      h('section', { className: 'dossier-view', 'aria-labelledby': 'dossier-list-title' },
        h('div', { className: 'dossier-heading' }, h('h2', { id: 'dossier-list-title', className: 'dossier-heading__title' }, 'Mes dossiers'), refresh),
        this.list));
    this.back = h('button', { type: 'button', id: 'dossier-back', className: 'dossier-back', on: { click: () => this.showHome() } }, '← Mes dossiers');
    this.view = h('div', { id: 'dossier-view', className: 'dossier-view', hidden: true });
    panel.replaceChildren(h('p', { className: 'plume-panel__intro' }, intro), this.status, this.upload, this.error, this.home, this.back, this.view);
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
    const running = (state === 'running' || state === 'queued') && p.message
      ? h('p', { className: 'plume-card__meta', dataset: { progress: 'row' } }, p.message) : null;
    row.append(
      h('p', { className: 'plume-card__title' }, frenchTypography(title)),
      h('p', { className: 'plume-card__meta' }, h('span', { className: 'plume-zone dossier-badge', dataset: { state } }, STATE_NAMES[state] || state), meta ? ` ${meta}` : ''),
      running,
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
    const total = files.reduce((sum, file) => sum + (file.size || 0), 0);
    this.upload.replaceChildren(renderUpload({ sent: 0, total }));
    this.upload.hidden = false;
    const onProgress = (progress) => this.upload.replaceChildren(renderUpload(progress));
    try {
      dossier = await createDossier(files, { title, start: false, onProgress });
    } catch (err) {
      this.upload.hidden = true;
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
    this.upload.hidden = true;
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
    const list = historyList({
      key: dossierHistoryKey(dossier.id), task: HISTORY_TASK,
      onRestore: (entry) => {
        const kept = entry.extra || {};
        this.showVersion(dossier, kept.synthesis, kept.revision || null);
        setStatus(this.status, `${versionLabel(kept.revision || null, kept.instruction || null)} reprise de l’historique de cet appareil.`);
      },
    });
    // One version is the one on screen: the list shows once there are two to choose from.
    this.history = {
      element: list.element,
      refresh: () => {
        list.refresh();
        list.element.hidden = recall(dossierHistoryKey(dossier.id), HISTORY_TASK).length < 2;
      },
    };
    this.history.refresh();
    const latest = this.latestKept(dossier);
    if (latest) this.showVersion(dossier, latest.synthesis, latest.revision);
    else {
      this.keep(dossier, synthesis, null, null);
      this.showVersion(dossier, synthesis, null);
    }
  }

  /** The newest version of this dossier kept on the device, if it is not the first one. */
  latestKept(dossier) {
    const entries = recall(dossierHistoryKey(dossier.id), HISTORY_TASK);
    const newest = entries[0] && entries[0].extra;
    return newest && newest.revision && newest.synthesis && newest.dossier === dossier.id ? newest : null;
  }

  /** Keeps a version in the device's history (the pane's storage, never the server). */
  keep(dossier, synthesis, revisionId, instruction) {
    const label = versionLabel(revisionId, instruction);
    remember(dossierHistoryKey(dossier.id), {
      task: HISTORY_TASK,
      text: `${label} — ${synthesisText(synthesis)}`.slice(0, HISTORY_TEXT_CHARS),
      interactionId: revisionId || dossier.id,
      demo: Boolean(synthesis.model && synthesis.model.demonstration),
      extra: { dossier: dossier.id, revision: revisionId, instruction, synthesis },
    });
    if (this.history) this.history.refresh();
  }

  /**
   * Shows one version of the synthesis (the first, or one written again) with the host's
   * actions, the download of that version and the history of the versions.
   * @param {object} dossier
   * @param {object} synthesis
   * @param {string|null} revisionId
   */
  showVersion(dossier, synthesis, revisionId) {
    const box = this.view.querySelector('#dossier-result');
    if (!box || !synthesis) return;
    this.version = { synthesis, revisionId };
    const onOpen = (ref) => {
      openReference(dossier.id, ref.file, ref.page).catch((err) => this.showError(err));
    };
    const download = h('button', { type: 'button', id: 'dossier-download', className: 'plume-button', dataset: { action: 'download' } }, 'Télécharger (.docx)');
    download.addEventListener('click', async () => {
      if (download.getAttribute('aria-disabled') === 'true') return;
      download.setAttribute('aria-disabled', 'true');
      try {
        saveBlob(await exportDocx(dossier.id, revisionId), exportName(dossier));
        setStatus(this.status, 'Synthèse téléchargée au format Word (.docx).');
      } catch (err) {
        this.showError(err);
      } finally {
        download.removeAttribute('aria-disabled');
      }
    });
    const label = h('p', { className: 'plume-card__meta', dataset: { version: revisionId || 'initiale' } },
      versionLabel(revisionId, (synthesis.revision && synthesis.revision.instruction) || null));
    box.replaceChildren(
      ...(this.history ? [this.history.element] : []),
      label,
      renderSynthesis(synthesis, onOpen),
      ...this.resultActions({
        dossier, synthesis, status: this.status, close: () => this.showHome(),
        interactionId: revisionId || dossier.id, revisionId,
        regenerate: () => this.revise(dossier, null),
        refine: (words) => this.revise(dossier, words),
      }),
      h('div', { className: 'plume-actions' }, download, this.deleteButton(dossier, () => this.showHome())));
    box.removeAttribute('aria-busy');
  }

  /**
   * Writes the synthesis on screen again on the server (« Régénérer »: `instruction` null;
   * « Affiner »: her words), without reading the files again; shows and keeps the new
   * version. « Arrêter » stops it on the server (the previous version comes back).
   * @param {object} dossier
   * @param {string|null} instruction
   */
  async revise(dossier, instruction) {
    const box = this.view.querySelector('#dossier-result');
    if (!box || !this.version) return;
    const previous = this.version;
    this.clearError();
    const said = instruction ? `Affinage de la synthèse (« ${instruction} »)…` : 'Nouvelle rédaction de la synthèse…';
    const controller = new AbortController();
    this.follower = controller;
    const stop = h('button', { type: 'button', id: 'dossier-revision-stop', className: 'plume-button plume-button--stop',
      dataset: { shortcut: 'stop' }, 'aria-keyshortcuts': 'Escape' }, 'Arrêter');
    const progress = h('progress', { className: 'dossier-progress__bar', 'aria-label': 'Nouvelle rédaction' });
    let queuedId = null;
    stop.addEventListener('click', () => {
      controller.abort();
      // The server stops writing it too (a version that was just written stays in its records).
      if (queuedId) cancelRevision(dossier.id, queuedId).catch(() => {});
      this.showVersion(dossier, previous.synthesis, previous.revisionId);
      setStatus(this.status, 'Nouvelle rédaction arrêtée : la version précédente reste affichée.');
    });
    box.setAttribute('aria-busy', 'true');
    // Said once, in the panel's status line; the box shows the bar and what is redone.
    box.replaceChildren(h('div', { className: 'dossier-progress', dataset: { revision: 'running' } },
      progress,
      h('p', { className: 'plume-hint' }, 'Seule la rédaction est refaite : les pièces ne sont pas relues, et chaque référence est de nouveau vérifiée.'),
      h('div', { className: 'plume-actions' }, stop)));
    setStatus(this.status, said);
    stop.focus();
    try {
      const queued = await reviseDossier(dossier.id, { instruction, base: previous.revisionId });
      queuedId = queued.id;
      if (controller.signal.aborted) {
        cancelRevision(dossier.id, queued.id).catch(() => {});
        return;
      }
      const revision = await followRevision(dossier.id, queued.id, (r) => {
        if (r.progress && r.progress.total) {
          progress.max = r.progress.total;
          progress.value = r.progress.done || 0;
        }
      }, controller.signal);
      this.follower = null;
      if (revision.state !== 'done') {
        this.showVersion(dossier, previous.synthesis, previous.revisionId);
        this.showError(revision.error
          ? new ApiError({ status: 409, code: revision.error.error, message: revision.error.message })
          : new ApiError({ status: 409, code: 'annule', message: 'La nouvelle rédaction a été annulée.' }));
        return;
      }
      this.keep(dossier, revision.synthesis, revision.id, instruction);
      this.showVersion(dossier, revision.synthesis, revision.id);
      setStatus(this.status, `${versionLabel(revision.id, instruction)} prête. Relisez-la et vérifiez les références avant tout usage.`);
      box.querySelector('.dossier-synthesis')?.setAttribute('tabindex', '-1');
      box.querySelector('.dossier-synthesis')?.focus();
    } catch (err) {
      if (controller.signal.aborted || (err && err.name === 'AbortError')) return;
      this.follower = null;
      this.showVersion(dossier, previous.synthesis, previous.revisionId);
      this.showError(err, () => this.revise(dossier, instruction));
    }
  }
}
