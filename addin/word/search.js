/**
 * Rechercher: precedents from a typed question or the selection (`GET /api/v1/search`).
 * After a search the form folds into a one-line bar; each result is a card: the citation
 * (its date once), the solution as a badge, the zone in French, the ECLI, the passage with
 * the matched words, and one row of small actions: Citer (a footnote, or inline when
 * footnotes are not supported) · Voir le passage · Ouvrir la décision (the whole decision in
 * the pane, at that passage, from `GET /api/v1/decisions/<id>`). « Plus de résultats » pages on.
 * @module word/search
 */
import { getJSON, sendFeedback } from '../common/api.js';
import { showError } from '../common/errors.js';
import { userText } from '../common/messagebar.js';
import { ZONE_LABELS, formatDate, h, highlightSegments, queryTerms, setText, zoneLabel } from '../common/render.js';
import { frenchTypography } from '../common/typography.js';
import { message, setStatus } from '../common/widgets.js';
import { capabilities, insertCitation, readSelection } from './document.js';
import { describeInsertError } from './generation.js';

/** Number of results asked for, and added by each « Plus de résultats ». */
export const SEARCH_RESULTS = 10;
/** The most the search API returns for one query (its `k` maximum). */
export const MAX_RESULTS = 50;
/** Longest question sent (a long selection is cut at a word boundary). */
export const MAX_QUERY_CHARS = 1000;
/** Passages longer than this show an excerpt around the first match, with « Voir tout ». */
export const EXCERPT_CHARS = 240;
/** Context kept before the first match in an excerpt. */
const EXCERPT_LEAD_CHARS = 80;

/**
 * The part of highlighted segments between two offsets of the whole text.
 * @param {{text: string, mark: boolean}[]} segments
 * @param {number} start
 * @param {number} end
 * @returns {{text: string, mark: boolean}[]}
 */
export function sliceSegments(segments, start, end) {
  const out = [];
  let at = 0;
  for (const segment of segments) {
    const from = Math.max(start, at);
    const to = Math.min(end, at + segment.text.length);
    if (to > from) out.push({ text: segment.text.slice(from - at, to - at), mark: segment.mark });
    at += segment.text.length;
  }
  return out;
}

/**
 * An excerpt of a long passage around its first match, cut on spaces.
 * @param {{text: string, mark: boolean}[]} segments
 * @returns {{segments: {text: string, mark: boolean}[], cut: boolean}}
 */
export function excerptAroundMatch(segments) {
  const text = segments.map((s) => s.text).join('');
  if (text.length <= EXCERPT_CHARS) return { segments, cut: false };
  let firstMark = 0;
  let at = 0;
  for (const segment of segments) {
    if (segment.mark) {
      firstMark = at;
      break;
    }
    at += segment.text.length;
  }
  let start = Math.max(0, firstMark - EXCERPT_LEAD_CHARS);
  if (start > 0) start = text.indexOf(' ', start) + 1 || start;
  let end = Math.min(text.length, start + EXCERPT_CHARS);
  if (end < text.length) end = text.lastIndexOf(' ', end) > start ? text.lastIndexOf(' ', end) : end;
  const part = sliceSegments(segments, start, end);
  if (start > 0) part.unshift({ text: '… ', mark: false });
  if (end < text.length) part.push({ text: ' …', mark: false });
  return { segments: part, cut: true };
}

function segmentNodes(segments) {
  return segments.map((s) => (s.mark ? h('mark', null, s.text) : document.createTextNode(frenchTypography(s.text))));
}

const FILTERS = {
  jurisdiction: 'filter-jurisdiction',
  chamber: 'filter-chamber',
  date_from: 'filter-date-from',
  date_to: 'filter-date-to',
  solution: 'filter-solution',
  zone: 'filter-zone',
};

/**
 * The hits of a search answer, whatever its envelope (`results`, `hits` or a bare list).
 * @param {*} answer
 * @returns {object[]}
 */
export function hitsOf(answer) {
  if (Array.isArray(answer)) return answer;
  if (answer && Array.isArray(answer.results)) return answer.results;
  if (answer && Array.isArray(answer.hits)) return answer.hits;
  return [];
}

function cutQuery(text) {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (clean.length <= MAX_QUERY_CHARS) return clean;
  const cut = clean.slice(0, MAX_QUERY_CHARS);
  return cut.slice(0, cut.lastIndexOf(' ') > 0 ? cut.lastIndexOf(' ') : MAX_QUERY_CHARS);
}

function hitCitation(hit) {
  if (hit.citation) return hit.citation;
  const decision = hit.decision || {};
  return [hit.jurisdiction || decision.jurisdiction, formatDate(hit.date || decision.date), hit.number || decision.number]
    .filter(Boolean).join(', ');
}

/**
 * One result card (all text through text nodes; highlights as `<mark>` elements).
 * @param {object} hit
 * @param {string[]} terms
 * @param {(hit: object, button: HTMLButtonElement, status: HTMLElement) => void} onCite
 * @param {(hit: object) => void} [onOpen] « Ouvrir la décision ».
 * @returns {HTMLElement}
 */
export function renderHit(hit, terms, onCite, onOpen = null) {
  const decision = hit.decision || {};
  const citation = hitCitation(hit);
  const passage = hit.highlight || hit.passage || hit.text || '';
  const ranges = hit.marks || hit.highlights || null;
  const solution = hit.solution || decision.solution;
  const ecli = hit.ecli || decision.ecli;
  const date = hit.date || decision.date;
  const footnotes = capabilities().footnotes;
  const cite = h('button', {
    type: 'button', className: 'plume-link-button', dataset: { action: 'cite' },
    title: footnotes ? 'Insère la citation en note de bas de page' : 'Insère la citation entre parenthèses dans le texte',
  }, footnotes ? 'Citer' : 'Citer dans le texte');
  const status = h('div', { className: 'plume-stack' });
  cite.addEventListener('click', () => onCite(hit, cite, status));
  const segments = highlightSegments(passage, { ranges: Array.isArray(ranges) ? ranges : null, terms });
  const excerpt = excerptAroundMatch(segments);
  const text = h('p', { className: 'plume-card__text' }, segmentNodes(excerpt.segments));
  let more = null;
  if (excerpt.cut) {
    more = h('button', { type: 'button', className: 'plume-link-button', 'aria-expanded': 'false', dataset: { action: 'passage' } }, 'Voir le passage');
    more.addEventListener('click', () => {
      const open = more.getAttribute('aria-expanded') !== 'true';
      text.replaceChildren(...segmentNodes(open ? segments : excerpt.segments));
      more.setAttribute('aria-expanded', String(open));
      setText(more, open ? 'Réduire le passage' : 'Voir le passage');
    });
  }
  const open = onOpen && hit.decision_id
    ? h('button', { type: 'button', className: 'plume-link-button', dataset: { action: 'open' }, on: { click: () => onOpen(hit) } }, 'Ouvrir la décision')
    : null;
  // The citation carries the date: the card does not repeat it unless the citation lacks it.
  const lonelyDate = date && !citation.includes(formatDate(date)) ? formatDate(date) : null;
  const actions = [cite, more, open].filter(Boolean);
  return h('li', { className: 'plume-card', dataset: { citation, decision: hit.decision_id || '' } },
    h('p', { className: 'plume-card__title' }, citation),
    h('p', { className: 'plume-card__badges' },
      solution ? h('span', { className: 'plume-badge', dataset: { solution } }, solution) : null,
      hit.zone ? h('span', { className: 'plume-zone', dataset: { zone: hit.zone } }, zoneLabel(hit.zone)) : null,
      lonelyDate ? h('span', { className: 'plume-card__meta' }, lonelyDate) : null),
    ecli ? h('p', { className: 'plume-card__meta plume-card__ecli' }, ecli) : null,
    text,
    h('p', { className: 'plume-card__actions' }, actions.flatMap((button, i) => (i ? [h('span', { 'aria-hidden': 'true' }, ' · '), button] : [button]))),
    status);
}

/**
 * The whole decision in the pane, the hit's passage marked and scrolled to.
 * @param {object} decision `GET /api/v1/decisions/<id>`.
 * @param {object} hit The hit it was opened from (`start`, `end` in the decision text).
 * @param {{onBack: () => void, onCite: Function}} handlers
 * @returns {HTMLElement}
 */
export function renderDecision(decision, hit, { onBack, onCite }) {
  const text = String(decision.text || '');
  const start = Number.isInteger(hit.start) && hit.start >= 0 && hit.start < text.length ? hit.start : null;
  const end = start !== null && Number.isInteger(hit.end) && hit.end > start ? Math.min(hit.end, text.length) : null;
  const body = h('div', { className: 'plume-decision__text' });
  let passage = null;
  if (start !== null && end !== null) {
    passage = h('mark', { className: 'plume-decision__passage', id: 'search-reader-passage', tabIndex: -1 }, text.slice(start, end));
    body.append(frenchTypography(text.slice(0, start)), passage, frenchTypography(text.slice(end)));
  } else {
    body.append(frenchTypography(text));
  }
  const status = h('div', { className: 'plume-stack' });
  const cite = h('button', { type: 'button', className: 'plume-button plume-button--small', dataset: { action: 'cite' } }, 'Citer cette décision');
  cite.addEventListener('click', () => onCite(hit, cite, status));
  const back = h('button', { type: 'button', className: 'plume-button plume-button--small', dataset: { action: 'back' }, on: { click: onBack } }, '← Retour aux résultats');
  return h('article', { className: 'plume-decision', 'aria-labelledby': 'search-reader-title' },
    h('div', { className: 'plume-actions' }, back, cite),
    h('h2', { className: 'plume-card__title', id: 'search-reader-title' }, decision.citation || hitCitation(hit)),
    h('p', { className: 'plume-card__badges' },
      decision.solution ? h('span', { className: 'plume-badge' }, decision.solution) : null,
      hit.zone ? h('span', { className: 'plume-zone' }, `Passage : ${zoneLabel(hit.zone)}`) : null),
    decision.ecli ? h('p', { className: 'plume-card__meta' }, decision.ecli) : null,
    status,
    body);
}

/**
 * Fills the jurisdiction filter's suggestions with the courts of the corpus this user may
 * see (`GET /api/v1/facets/jurisdictions`). The field stays free text: the filter is a
 * prefix (« Cour d'appel » finds every court of appeal), and without the list (an older
 * server, a network failure) it simply has no suggestions.
 * @param {HTMLDataListElement} list
 * @returns {Promise<number>} how many courts are offered.
 */
export async function loadJurisdictions(list) {
  let answer = null;
  try {
    answer = await getJSON('/facets/jurisdictions');
  } catch (err) {
    console.warn('Plume: jurisdictions not available', err);
  }
  const names = answer && Array.isArray(answer.jurisdictions) ? answer.jurisdictions.filter((n) => typeof n === 'string') : [];
  list.replaceChildren(...names.map((name) => h('option', { value: name })));
  list.dataset.loaded = 'true';
  return names.length;
}

/**
 * The one-line summary of a search shown once the form folds: the question, and how many
 * filters apply.
 * @param {string} q
 * @param {object} params
 * @returns {string}
 */
export function searchSummary(q, params) {
  const filters = Object.keys(FILTERS).filter((name) => params[name]).length;
  const short = q.length > 60 ? `${q.slice(0, 60).replace(/\s+\S*$/, '')}…` : q;
  return `« ${short} »${filters ? ` · ${filters} filtre${filters > 1 ? 's' : ''}` : ''}`;
}

const hitKey = (hit) => (hit.passage_id != null ? `p${hit.passage_id}` : `${hit.decision_id}:${hit.start}`);

/** Wires the Rechercher panel. */
export function setupSearch() {
  const form = document.getElementById('search-form');
  const query = document.getElementById('search-query');
  const runButton = document.getElementById('search-run');
  const fromSelection = document.getElementById('search-selection');
  const status = document.getElementById('search-status');
  const errorBox = document.getElementById('search-error');
  const bar = document.getElementById('search-bar');
  const barText = document.getElementById('search-bar-text');
  const editButton = document.getElementById('search-edit');
  const moreButton = document.getElementById('search-more');
  const reader = document.getElementById('search-reader');
  const notice = h('div', { className: 'plume-stack', id: 'search-notice' });
  status.after(notice);
  const results = document.getElementById('search-results');
  let interactionId = null;
  loadJurisdictions(document.getElementById('jurisdictions'));
  const zoneSelect = document.getElementById('filter-zone');
  zoneSelect.append(...Object.entries(ZONE_LABELS).filter(([key]) => key !== 'texte' && key !== 'annexes')
    .map(([value, label]) => h('option', { value }, label)));

  const onCite = async (hit, button, box) => {
    // Not disabled while inserting: a disabled button would drop the keyboard focus.
    if (button.getAttribute('aria-busy') === 'true') return;
    button.setAttribute('aria-busy', 'true');
    try {
      const citation = hitCitation(hit);
      const done = await insertCitation(citation);
      box.replaceChildren(message(done.footnote ? 'success' : 'info', done.footnote
        ? `Citation insérée en note de bas de page${done.tracked ? ', en suivi des modifications' : ''}.`
        : `Citation insérée entre parenthèses dans le texte${done.tracked ? ', en suivi des modifications' : ''} : cette version de Word ne permet pas d'insérer des notes de bas de page.`,
      { dataset: { outcome: done.footnote ? 'footnote' : 'inline' } }));
      if (interactionId) sendFeedback({ interaction_id: interactionId, outcome: 'inserted' });
    } catch (err) {
      box.replaceChildren(describeInsertError(err));
    } finally {
      button.removeAttribute('aria-busy');
    }
  };

  const fold = (folded) => {
    form.hidden = folded;
    bar.hidden = !folded;
  };
  editButton.addEventListener('click', () => {
    fold(false);
    query.focus();
  });

  const closeReader = (focusHit = null) => {
    reader.hidden = true;
    reader.replaceChildren();
    results.hidden = false;
    moreButton.hidden = !moreButton.dataset.available;
    if (focusHit) results.querySelector(`[data-key="${CSS.escape(focusHit)}"] [data-action=open]`)?.focus();
  };
  const onOpen = async (hit) => {
    setStatus(status, 'Ouverture de la décision…');
    let decision;
    try {
      decision = await getJSON(`/decisions/${encodeURIComponent(hit.decision_id)}`);
    } catch (err) {
      showError(errorBox, err, { onRetry: () => onOpen(hit) });
      setStatus(status, '');
      return;
    }
    errorBox.hidden = true;
    results.hidden = true;
    moreButton.hidden = true;
    reader.replaceChildren(renderDecision(decision, hit, { onBack: () => closeReader(hitKey(hit)), onCite }));
    reader.hidden = false;
    setStatus(status, 'Décision ouverte au passage trouvé.');
    const passage = document.getElementById('search-reader-passage');
    const target = passage || reader.querySelector('[data-action=back]');
    target.scrollIntoView({ block: 'center' });
    target.focus({ preventScroll: true });
  };

  let busy = false;
  let lastQuery = '';
  let lastParams = null;
  let shown = new Set();
  let terms = [];

  const showCount = () => {
    const n = results.children.length;
    setStatus(status, n
      ? `${n} décision${n > 1 ? 's' : ''} trouvée${n > 1 ? 's' : ''}.`
      : 'Aucune décision ne correspond. Essayez d\'autres mots ou retirez des filtres.');
  };

  /** Asks the server for `params` and shows the hits not on screen yet. */
  const fetchHits = async (params, { append }) => {
    busy = true;
    runButton.setAttribute('aria-disabled', 'true');
    moreButton.setAttribute('aria-disabled', 'true');
    results.setAttribute('aria-busy', 'true');
    setStatus(status, append ? 'Recherche de résultats supplémentaires…' : 'Recherche en cours…');
    try {
      const answer = await getJSON('/search', { query: params });
      interactionId = (answer && answer.interaction_id) || null;
      const hits = hitsOf(answer);
      if (answer && answer.notice && !append) {
        notice.replaceChildren(message('info', userText(answer.notice,
          "La recherche par le sens n'est pas disponible pour l'instant : résultats par mots seulement.")));
      }
      const fresh = hits.filter((hit) => !shown.has(hitKey(hit)));
      for (const hit of fresh) shown.add(hitKey(hit));
      const cards = fresh.map((hit) => {
        const card = renderHit(hit, terms, onCite, onOpen);
        card.dataset.key = hitKey(hit);
        return card;
      });
      results.append(...cards);
      const more = hits.length >= params.k && params.k < MAX_RESULTS && fresh.length > 0;
      moreButton.hidden = !more;
      moreButton.dataset.available = more ? 'true' : '';
      showCount();
      if (!append && hits.length) fold(true);
      if (append) {
        if (cards.length) cards[0].querySelector('button')?.focus();
        else setStatus(status, `${results.children.length} décisions trouvées : il n'y en a pas d'autre.`);
      }
    } catch (err) {
      showError(errorBox, err, { onRetry: () => (append ? more() : run(lastQuery)) });
      setStatus(status, ''); // the message bar says it once
    } finally {
      busy = false;
      runButton.removeAttribute('aria-disabled');
      moreButton.removeAttribute('aria-disabled');
      results.removeAttribute('aria-busy');
    }
  };

  const run = async (text) => {
    if (busy) return;
    errorBox.hidden = true;
    const q = cutQuery(text);
    lastQuery = text;
    if (!q) {
      errorBox.replaceChildren(message('warning', 'Saisissez une question, ou sélectionnez un passage dans le document.'));
      errorBox.hidden = false;
      return;
    }
    const params = { q, k: SEARCH_RESULTS };
    for (const [name, id] of Object.entries(FILTERS)) params[name] = document.getElementById(id).value.trim();
    lastParams = params;
    shown = new Set();
    terms = queryTerms(q);
    closeReader();
    results.replaceChildren();
    notice.replaceChildren();
    moreButton.hidden = true;
    setText(barText, searchSummary(q, params));
    await fetchHits(params, { append: false });
  };

  const more = async () => {
    if (busy || !lastParams || moreButton.getAttribute('aria-disabled') === 'true') return;
    errorBox.hidden = true;
    lastParams = { ...lastParams, k: Math.min(MAX_RESULTS, results.children.length + SEARCH_RESULTS) };
    await fetchHits(lastParams, { append: true });
  };
  moreButton.addEventListener('click', more);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run(query.value);
  });
  fromSelection.addEventListener('click', async () => {
    let selection;
    try {
      selection = await readSelection();
    } catch (err) {
      errorBox.replaceChildren(describeInsertError(err));
      errorBox.hidden = false;
      return;
    }
    if (!selection.text.trim()) {
      errorBox.replaceChildren(message('warning', 'Aucun texte n\'est sélectionné dans le document.'));
      errorBox.hidden = false;
      return;
    }
    query.value = cutQuery(selection.text);
    run(query.value);
  });
}
