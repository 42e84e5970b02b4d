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
import { cancelDossier, createDossier, deleteDossier, exportDocx, exportName, FINISHED, followDossier, getDossier,
  getSynthesis, listDossiers, openReference, saveBlob, startDossier } from './dossier-api.js';
import { inventorySummary, plural, renderEstimate, renderInventory, renderProgress, renderSynthesis, STATE_NAMES,
  stateOf, WHEN } from './dossier-render.js';
import { describeError, renderError } from './errors.js';
import { messageBar, problemOf } from './messagebar.js';
import { h } from './render.js';
import { frenchTypography } from './typography.js';
import { message, setStatus } from './widgets.js';

/** How often « Mes dossiers » is read again while one of them runs (ms). */
export const LIST_REFRESH_MS = 5000;

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
