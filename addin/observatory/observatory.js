/**
 * AI Observatory page (administrators): draws the figures of `GET /api/v1/observatory/...`
 * with Chart.js (served by Plume from /addin/vendor/), each chart followed by its table, and
 * downloads the CSV export. The page itself is a static file; the API refuses non-admins
 * (403), and the page then says so and shows nothing else.
 * @module observatory
 */
import { ApiError, getJSON, request, startSession } from '../common/api.js';
import { onSignInStatus } from '../common/signin-status.js';
import { setupBack } from '../common/back.js';
import { followOfficeTheme } from '../common/host.js';
import { h, setText, typesetPage } from '../common/render.js';

/** Fluent-like colours with enough contrast between neighbours. */
const COLOURS = ['#0f6cbd', '#c50f1f', '#107c10', '#8764b8', '#ca5010', '#038387', '#5c2e91', '#986f0b'];

export const TASK_LABELS = Object.freeze({
  summarize: 'Synthèse',
  rewrite: 'Reformulation',
  draft: 'Rédaction',
  'mail-summary': 'Résumé de courriel',
  'mail-reply': 'Réponse à un courriel',
  'attachment-summary': 'Résumé de pièce jointe',
  transcribe: 'Transcription',
  search: 'Recherche',
  translate: 'Traduction',
  toutes: 'Toutes les tâches',
});
const ROLE_LABELS = Object.freeze({
  'Plume.Magistrat': 'Magistrat',
  'Plume.Greffier': 'Greffier',
  'Plume.Admin': 'Administrateur',
});

/** Error codes of the records, in French words for the « Erreurs par cause » chart. */
export const CAUSE_LABELS = Object.freeze({
  amont_indisponible: 'Hébergeur du modèle indisponible',
  amont_injoignable: 'Hébergeur du modèle injoignable',
  amont_sature: 'Hébergeur du modèle saturé',
  amont_refuse: "Demande refusée par l'hébergeur du modèle",
  modele_introuvable: "Modèle introuvable chez l'hébergeur",
  delai_depasse: 'Délai de réponse dépassé',
  quota_depasse: "Quota d'utilisation atteint",
  non_configure: 'Aucun modèle configuré',
  texte_trop_long: 'Texte trop long',
  trop_volumineux: 'Fichier trop volumineux',
  document_chiffre: 'Document protégé par un mot de passe',
  document_illisible: 'Document illisible',
  document_vide: 'Document vide',
  format_non_pris_en_charge: 'Format non pris en charge',
  embeddings_indisponibles: 'Recherche par le sens indisponible',
  base_indisponible: 'Base de données indisponible',
  demande_refusee: 'Demande refusée',
  annule: 'Annulé',
  erreur_interne: 'Erreur interne de Plume',
  erreur_inconnue: 'Cause inconnue',
});

/**
 * « Hébergeur du modèle indisponible » for `amont_indisponible`; a code not listed is said in
 * words all the same (« Graph indisponible »), never as an identifier.
 * @param {string} code
 * @returns {string}
 */
export function causeLabel(code) {
  if (CAUSE_LABELS[code]) return CAUSE_LABELS[code];
  const words = String(code || '').replace(/_/g, ' ').trim();
  return words ? words[0].toUpperCase() + words.slice(1) : CAUSE_LABELS.erreur_inconnue;
}

/**
 * `23/11/2026` → `2026-11-23`; null when it is not a real day written jj/mm/aaaa.
 * @param {string} text
 * @returns {string|null}
 */
export function isoFromFrench(text) {
  const m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$/.exec(String(text || ''));
  if (!m) return null;
  const [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return `${m[3]}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

const charts = new Map();
/** The one sentence every empty chart or table says. */
export const EMPTY = 'Aucune donnée sur la période.';

// Opened in a browser, outside Office: the page follows the system's light or dark theme.
followOfficeTheme();

if (window.Chart) {
  // Counts and milliseconds: axes start at zero and show whole numbers.
  const style = getComputedStyle(document.documentElement);
  window.Chart.defaults.scales.linear.beginAtZero = true;
  window.Chart.defaults.scales.linear.ticks.precision = 0;
  window.Chart.defaults.font.family = style.getPropertyValue('--plume-font') || undefined;
  // Axis labels and grid lines in the page's colours, readable in the dark theme too.
  window.Chart.defaults.color = style.getPropertyValue('--plume-fg').trim() || undefined;
  window.Chart.defaults.borderColor = style.getPropertyValue('--plume-border').trim() || undefined;
}

const number = (value) => (value === null || value === undefined ? '—' : Number(value).toLocaleString('fr-FR'));
const percent = (share) => (share === null || share === undefined ? '—' : `${(share * 100).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} %`);
const taskLabel = (task) => TASK_LABELS[task] || task;
/** `2026-11-23` → `23/11/2026` (no Date: a day is a day in every time zone). */
const frenchDay = (iso) => String(iso).slice(0, 10).split('-').reverse().join('/');

/** Thrown for a date the user typed that is not jj/mm/aaaa. */
class PeriodError extends Error {
  constructor(message, field) {
    super(message);
    this.field = field;
  }
}

/** The period typed in jj/mm/aaaa, as the API's ISO days (empty: the server's default). */
function period() {
  const out = {};
  for (const [name, label] of [['from', 'début'], ['to', 'fin']]) {
    const input = document.getElementById(`period-${name}`);
    const text = input.value.trim();
    if (!text) continue;
    const iso = isoFromFrench(text);
    if (!iso) throw new PeriodError(`La date de ${label} « ${text} » n'est pas une date au format jj/mm/aaaa.`, input);
    out[name] = iso;
  }
  return out;
}

/**
 * A table of figures (the accessible, exact counterpart of each chart).
 * @param {Array<[string, boolean]>} columns [header, numeric?]
 * @param {Array<Array<string|number>>} rows
 */
function table(columns, rows) {
  if (!rows.length) return h('p', { className: 'obs-empty' }, EMPTY);
  return h('table', { className: 'obs-table' },
    h('thead', null, h('tr', null, columns.map(([name, numeric]) => h('th', { className: numeric ? 'num' : null, scope: 'col' }, name)))),
    h('tbody', null, rows.map((row) => h('tr', null, row.map((cell, i) => h('td', { className: columns[i][1] ? 'num' : null }, cell))))));
}

/**
 * Fills one `<figure data-figure=name>`: a chart when Chart.js is there and there is data,
 * then the table (open when there is no chart).
 */
function figure(name, { chart, columns, rows }) {
  const container = document.querySelector(`[data-figure="${name}"]`);
  const caption = container.querySelector('figcaption');
  container.replaceChildren(caption);
  if (charts.has(name)) {
    charts.get(name).destroy();
    charts.delete(name);
  }
  if (!rows.length || (chart && !chart.data.labels.length)) {
    container.appendChild(h('p', { className: 'obs-empty' }, EMPTY));
    return;
  }
  const canDraw = Boolean(window.Chart) && chart;
  if (canDraw) {
    const canvas = h('canvas', { role: 'img', 'aria-label': caption.textContent });
    container.appendChild(h('div', { className: 'obs-chart' }, canvas));
    const options = { responsive: true, maintainAspectRatio: false, animation: false, locale: 'fr-FR', ...chart.options };
    charts.set(name, new window.Chart(canvas, { type: chart.type, data: chart.data, options }));
  }
  container.appendChild(canDraw
    ? h('details', null, h('summary', null, 'Voir les chiffres'), table(columns, rows))
    : table(columns, rows));
}

const dataset = (label, data, index, extra = {}) => ({ label, data, backgroundColor: COLOURS[index % COLOURS.length], borderColor: COLOURS[index % COLOURS.length], ...extra });

/**
 * Diagonal stripes over a colour: what tells « écartées » and « pas utile » apart without
 * relying on colour alone (the legend shows the same pattern).
 * @param {string} colour
 * @returns {CanvasPattern|string}
 */
function stripes(colour) {
  const tile = document.createElement('canvas');
  tile.width = 8;
  tile.height = 8;
  const ctx = tile.getContext('2d');
  if (!ctx) return colour;
  ctx.fillStyle = colour;
  ctx.fillRect(0, 0, 8, 8);
  ctx.strokeStyle = '#ffffff';
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(0, 8);
  ctx.lineTo(8, 0);
  ctx.moveTo(-2, 2);
  ctx.lineTo(2, -2);
  ctx.moveTo(6, 10);
  ctx.lineTo(10, 6);
  ctx.stroke();
  return ctx.createPattern(tile, 'repeat') || colour;
}
const striped = (label, data, index) => {
  const colour = COLOURS[index % COLOURS.length];
  return dataset(label, data, index, { backgroundColor: stripes(colour), borderColor: colour, borderWidth: 1 });
};
const stacked = { scales: { x: { stacked: true }, y: { stacked: true } } };

function renderUsage(by, rows) {
  const label = { task: taskLabel, role: (r) => ROLE_LABELS[r] || r, jurisdiction: (j) => j, week: (w) => `sem. du ${frenchDay(w)}` }[by];
  const labels = rows.map((r) => label(r.key));
  figure(`usage-${by}`, {
    chart: {
      type: by === 'week' ? 'line' : 'bar',
      data: { labels, datasets: [dataset('Interactions', rows.map((r) => r.interactions), 0), dataset('Utilisateurs', rows.map((r) => r.users), 2)] },
      options: by === 'jurisdiction' ? { indexAxis: 'y' } : {},
    },
    columns: [[{ task: 'Tâche', role: 'Rôle', jurisdiction: 'Juridiction', week: 'Semaine' }[by], false], ['Interactions', true], ['Utilisateurs', true]],
    rows: rows.map((r, i) => [labels[i], number(r.interactions), number(r.users)]),
  });
}

function renderLatency(rows) {
  const perTask = rows.filter((r) => r.task !== 'toutes');
  figure('latency', {
    chart: {
      type: 'bar',
      data: {
        labels: perTask.map((r) => taskLabel(r.task)),
        datasets: [dataset('Médiane', perTask.map((r) => r.ttft_p50), 0), dataset('95ᵉ centile', perTask.map((r) => r.ttft_p95), 1)],
      },
    },
    columns: [['Tâche', false], ['Réponses', true], ['1er mot p50 (ms)', true], ['1er mot p95 (ms)', true], ['Durée p50 (ms)', true], ['Durée p95 (ms)', true]],
    rows: rows.map((r) => [taskLabel(r.task), number(r.interactions), number(r.ttft_p50), number(r.ttft_p95), number(r.duration_p50), number(r.duration_p95)]),
  });
}

function renderErrors(data) {
  figure('errors-task', {
    chart: {
      type: 'bar',
      data: {
        labels: data.by_task.map((r) => taskLabel(r.task)),
        datasets: [dataset('Erreurs', data.by_task.map((r) => r.error_rate * 100), 1), dataset('Arrêts', data.by_task.map((r) => r.stop_rate * 100), 4)],
      },
      options: stacked,
    },
    columns: [['Tâche', false], ['Interactions', true], ['Erreurs', true], ['Taux d\'erreur', true], ['Arrêts', true], ['Taux d\'arrêt', true]],
    rows: data.by_task.map((r) => [taskLabel(r.task), number(r.interactions), number(r.errors), percent(r.error_rate), number(r.stopped), percent(r.stop_rate)]),
  });
  figure('errors-cause', {
    chart: {
      type: 'bar',
      data: { labels: data.by_cause.map((r) => causeLabel(r.cause)), datasets: [dataset('Erreurs', data.by_cause.map((r) => r.errors), 1)] },
      options: { indexAxis: 'y' },
    },
    columns: [['Cause', false], ['Erreurs', true], ['Part des interactions', true]],
    rows: data.by_cause.map((r) => [causeLabel(r.cause), number(r.errors), percent(r.rate)]),
  });
}

function renderTextOutcomes(rows) {
  const kinds = [['inserted', 'Insérées'], ['edited', 'Modifiées'], ['discarded', 'Écartées'], ['no_action', 'Sans suite']];
  figure('text-outcomes', {
    chart: {
      type: 'bar',
      data: {
        labels: rows.map((r) => taskLabel(r.task)),
        // « Écartées » and « Sans suite » are striped: colour is never the only difference.
        datasets: kinds.map(([key, label], i) => (key === 'discarded' || key === 'no_action' ? striped : dataset)(
          label, rows.map((r) => r[`${key}_share`] * 100), [2, 0, 1, 7][i])),
      },
      options: { indexAxis: 'y', ...stacked, scales: { x: { stacked: true, max: 100 }, y: { stacked: true } } },
    },
    columns: [['Tâche', false], ['Réponses', true], ...kinds.map(([, label]) => [label, true])],
    rows: rows.map((r) => [taskLabel(r.task), number(r.answers), ...kinds.map(([key]) => `${number(r[key])} (${percent(r[`${key}_share`])})`)]),
  });
}

function renderFeedback(data) {
  figure('feedback', {
    chart: {
      type: 'bar',
      data: {
        labels: data.by_task.map((r) => taskLabel(r.task)),
        datasets: [dataset('👍 Utile', data.by_task.map((r) => r.useful), 2), striped('👎 Pas utile', data.by_task.map((r) => r.not_useful), 1)],
      },
      options: stacked,
    },
    columns: [['Tâche', false], ['👍', true], ['👎', true], ['Part utile', true], ['Commentaires', true]],
    rows: data.by_task.map((r) => [taskLabel(r.task), number(r.useful), number(r.not_useful), percent(r.useful_share), number(r.comments)]),
  });
  const list = document.getElementById('comments');
  list.replaceChildren(...(data.recent_comments.length
    ? data.recent_comments.map((c) => h('li', null,
      h('span', { className: 'obs-meta' }, `${frenchDay(c.date)} · ${taskLabel(c.task)}${c.useful === true ? ' · 👍' : c.useful === false ? ' · 👎' : ''}`),
      c.comment))
    : [h('li', { className: 'obs-empty' }, 'Aucun commentaire sur la période.')]));
}

function renderSummary(data) {
  const t = data.totals;
  const cards = [
    ['Interactions', number(t.interactions)],
    ['Utilisateurs (pseudonymes)', number(t.users)],
    ['Réussies', number(t.ok)],
    ['Erreurs', number(t.errors)],
    ['Arrêtées', number(t.stopped)],
    ['Jetons (entrée / sortie)', `${number(t.prompt_tokens)} / ${number(t.completion_tokens)}`],
  ];
  document.getElementById('summary').replaceChildren(...cards.map(([label, value]) => h('div', { className: 'obs-card' }, h('dt', null, label), h('dd', null, value))));
  const r = data.records;
  setText(document.getElementById('records-note'), `Enregistrements conservés ${r.retention_days} jours ; journalisation du contenu ${r.content_logging ? `activée (${r.content_retention_days} jours)` : 'désactivée'}.`);
  const spool = r.spool || { pending: 0, dead: 0 };
  if (spool.pending || spool.dead) {
    const note = document.getElementById('records-note');
    setText(note, `${note.textContent} Attention : ${spool.pending} enregistrement(s) en attente d'écriture en base et ${spool.dead} refusé(s) par la base (voir « audit verify »).`);
  }
}

function showProblem(err) {
  const problem = document.getElementById('problem');
  const forbidden = err instanceof ApiError && err.status === 403;
  const text = err instanceof PeriodError ? err.message : forbidden
    ? 'L\'Observatoire de l\'IA est réservé aux administrateurs de Plume.'
    : (err && err.userMessage) || 'Les chiffres n\'ont pas pu être chargés. Réessayez.';
  problem.replaceChildren(h('div', { className: 'plume-message plume-message--error' }, h('strong', { className: 'plume-message__title' }, text),
    forbidden ? h('p', { dataset: { ask: 'true' } }, 'Pour y accéder, demandez à l\'administrateur de Plume de votre juridiction (ou à votre service informatique) de vous attribuer le rôle d\'administrateur de Plume.') : null));
  if (err instanceof PeriodError) err.field.focus();
  if (forbidden) {
    document.getElementById('figures').hidden = true;
    document.getElementById('period').hidden = true;
  }
}

async function load() {
  const status = document.getElementById('status');
  status.textContent = 'Chargement…';
  document.getElementById('problem').replaceChildren();
  try {
    const query = period();
    const get = (path, extra = {}) => getJSON(`/observatory/${path}`, { query: { ...query, ...extra } });
    const [summary, task, role, jurisdiction, week, latency, errors, outcomes, feedback] = await Promise.all([
      get('summary'), get('usage', { by: 'task' }), get('usage', { by: 'role' }), get('usage', { by: 'jurisdiction' }),
      get('usage', { by: 'week' }), get('latency'), get('errors'), get('text-outcomes'), get('feedback'),
    ]);
    document.getElementById('figures').hidden = false;
    renderSummary(summary);
    for (const [by, data] of [['task', task], ['role', role], ['jurisdiction', jurisdiction], ['week', week]]) renderUsage(by, data.rows);
    renderLatency(latency.rows);
    renderErrors(errors);
    renderTextOutcomes(outcomes.rows);
    renderFeedback(feedback);
    const p = summary.period;
    document.getElementById('period-from').value = frenchDay(p.from);
    document.getElementById('period-to').value = frenchDay(p.to);
    setText(status, `Période du ${frenchDay(p.from)} au ${frenchDay(p.to)}.`
      + (window.Chart ? '' : ' Graphiques indisponibles (bibliothèque non installée : lancez « make vendor ») ; les tableaux restent complets.'));
  } catch (err) {
    status.textContent = '';
    showProblem(err);
  }
}

async function exportCsv() {
  try {
    const response = await request('/observatory/export.csv', { query: period(), accept: 'text/csv' });
    const blob = await response.blob();
    const match = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '');
    const link = h('a', { href: URL.createObjectURL(blob), download: match ? match[1] : 'plume-observatoire.csv' });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  } catch (err) {
    showProblem(err);
  }
}

async function main() {
  typesetPage(); // the page as written, in French typography; what comes later goes through h()
  setupBack();
  // The first load asks for the server's default period (Paris time) and shows it.
  document.getElementById('period').addEventListener('submit', (event) => { event.preventDefault(); load(); });
  document.getElementById('export').addEventListener('click', exportCsv);
  // Opened in a plain browser, sign-in may leave for the organisation's sign-in page: say so.
  onSignInStatus((message) => { setText(document.getElementById('status'), message); });
  try {
    await startSession();
  } catch (err) {
    console.warn('Plume: sign-in not available on this page', err);
  }
  await load();
  document.body.dataset.ready = 'true';
}

main();
