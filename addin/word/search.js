/**
 * Rechercher: precedents from a typed question or the selection (`GET /api/v1/search`),
 * results with citation, zone, date and the passage with matched terms highlighted, and a
 * one-click citation (footnote, or inline when footnotes are not supported).
 * @module word/search
 */
import { getJSON, sendFeedback } from '../common/api.js';
import { showError } from '../common/errors.js';
import { userText } from '../common/messagebar.js';
import { formatDate, h, highlightSegments, queryTerms } from '../common/render.js';
import { message, setStatus } from '../common/widgets.js';
import { capabilities, insertCitation, readSelection } from './document.js';
import { describeInsertError } from './generation.js';

/** Number of results asked for. */
export const SEARCH_RESULTS = 10;
/** Longest question sent (a long selection is cut at a word boundary). */
export const MAX_QUERY_CHARS = 1000;
/** Passages longer than this show an excerpt around the first match, with « Voir tout ». */
export const EXCERPT_CHARS = 360;
/** Context kept before the first match in an excerpt. */
const EXCERPT_LEAD_CHARS = 120;

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
  return segments.map((s) => (s.mark ? h('mark', null, s.text) : document.createTextNode(s.text)));
}

const FILTERS = {
  jurisdiction: 'filter-jurisdiction',
  chamber: 'filter-chamber',
  date_from: 'filter-date-from',
  date_to: 'filter-date-to',
  solution: 'filter-solution',
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
 * @returns {HTMLElement}
 */
export function renderHit(hit, terms, onCite) {
  const decision = hit.decision || {};
  const citation = hitCitation(hit);
  const passage = hit.highlight || hit.passage || hit.text || '';
  const ranges = hit.marks || hit.highlights || null;
  const meta = [hit.jurisdiction || decision.jurisdiction, hit.chamber || decision.chamber, hit.solution || decision.solution]
    .filter(Boolean).join(' · ');
  const cite = h('button', { type: 'button', className: 'plume-button plume-button--small', dataset: { action: 'cite' } },
    capabilities().footnotes ? 'Citer en note de bas de page' : 'Citer dans le texte');
  const status = h('div', { className: 'plume-stack' });
  cite.addEventListener('click', () => onCite(hit, cite, status));
  const segments = highlightSegments(passage, { ranges: Array.isArray(ranges) ? ranges : null, terms });
  const excerpt = excerptAroundMatch(segments);
  const text = h('p', { className: 'plume-card__text' }, segmentNodes(excerpt.segments));
  let more = null;
  if (excerpt.cut) {
    more = h('button', { type: 'button', className: 'plume-button plume-button--small', 'aria-expanded': 'false' }, 'Voir tout le passage');
    more.addEventListener('click', () => {
      const open = more.getAttribute('aria-expanded') !== 'true';
      text.replaceChildren(...segmentNodes(open ? segments : excerpt.segments));
      more.setAttribute('aria-expanded', String(open));
      more.textContent = open ? 'Réduire' : 'Voir tout le passage';
    });
  }
  return h('li', { className: 'plume-card', dataset: { citation } },
    h('p', { className: 'plume-card__title' }, citation),
    h('p', { className: 'plume-card__meta' },
      hit.zone ? h('span', { className: 'plume-zone' }, hit.zone) : null,
      (hit.date || decision.date) ? ` ${formatDate(hit.date || decision.date)}` : null,
      meta ? ` — ${meta}` : null),
    text,
    h('div', { className: 'plume-actions' }, cite, more),
    status);
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

/** Wires the Rechercher panel. */
export function setupSearch() {
  const form = document.getElementById('search-form');
  const query = document.getElementById('search-query');
  const runButton = document.getElementById('search-run');
  const fromSelection = document.getElementById('search-selection');
  const status = document.getElementById('search-status');
  const errorBox = document.getElementById('search-error');
  const notice = h('div', { className: 'plume-stack', id: 'search-notice' });
  status.after(notice);
  const results = document.getElementById('search-results');
  let interactionId = null;
  loadJurisdictions(document.getElementById('jurisdictions'));

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

  let busy = false;
  let lastQuery = '';
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
    busy = true;
    runButton.setAttribute('aria-disabled', 'true');
    results.replaceChildren();
    notice.replaceChildren();
    results.setAttribute('aria-busy', 'true');
    setStatus(status, 'Recherche en cours…');
    try {
      const answer = await getJSON('/search', { query: params });
      interactionId = (answer && answer.interaction_id) || null;
      const hits = hitsOf(answer);
      if (answer && answer.notice) {
        notice.replaceChildren(message('info', userText(answer.notice,
          "La recherche par le sens n'est pas disponible pour l'instant : résultats par mots seulement.")));
      }
      const terms = queryTerms(q);
      results.replaceChildren(...hits.map((hit) => renderHit(hit, terms, onCite)));
      setStatus(status, hits.length
        ? `${hits.length} décision${hits.length > 1 ? 's' : ''} trouvée${hits.length > 1 ? 's' : ''}.`
        : 'Aucune décision ne correspond. Essayez d\'autres mots ou retirez des filtres.');
    } catch (err) {
      showError(errorBox, err, { onRetry: () => run(lastQuery) });
      setStatus(status, ''); // the message bar says it once
    } finally {
      busy = false;
      runButton.removeAttribute('aria-disabled');
      results.removeAttribute('aria-busy');
    }
  };

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
