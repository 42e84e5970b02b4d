/**
 * Fluent-style message bars for failures: an icon, one sentence said once, and one action —
 * « Réessayer » (counting down a quota's Retry-After), « Se reconnecter » or « Copier pour
 * l'administrateur », which copies a report with the technical details. Setting names and
 * API versions never reach the user's eyes, only that report.
 * @module common/messagebar
 */
import { ApiError, CLIENT_ERROR_CODES, signInAgain } from './api.js';
import { copyText } from './clipboard.js';
import { h, setText } from './render.js';

/** What a user should never have to read: setting names, requirement sets, search internals. */
const TECHNICAL = /\bPLUME_[A-Z0-9_]+|\b(?:WordApi(?:Desktop)?|Mailbox|OutlookApi)\s*\d+(?:\.\d+)?|\bvecteurs?\b|\bembeddings?\b|\bllama\.cpp\b/i;

/**
 * True when `text` names a setting, a requirement set or another internal.
 * @param {string} text
 * @returns {boolean}
 */
export function isTechnical(text) {
  return TECHNICAL.test(String(text || ''));
}

/**
 * `text` without the sentences, clauses (« ; ») or brackets that name internals; `fallback`
 * when nothing is left.
 * @param {string} text
 * @param {string} [fallback]
 * @returns {string}
 */
export function userText(text, fallback = '') {
  const source = String(text || '').trim();
  if (!isTechnical(source)) return source || fallback;
  const kept = [];
  for (const sentence of source.split(/(?<=[.!?])\s+/)) {
    if (!isTechnical(sentence)) { kept.push(sentence); continue; }
    const bare = sentence.replace(/\s*\([^()]*\)/g, (inside) => (isTechnical(inside) ? '' : inside));
    if (!isTechnical(bare)) { kept.push(bare); continue; }
    const clauses = bare.split(/\s+;\s+/).filter((clause) => !isTechnical(clause));
    if (clauses.length) kept.push(clauses.join(' ; ').replace(/[\s,:;]*$/, '').replace(/([^.!?])$/, '$1.'));
  }
  return kept.join(' ').trim() || fallback;
}

/** One sentence the user reads, and which single action goes with it. */
const ACTIONS = Object.freeze({ retry: 'retry', signIn: 'sign-in', report: 'report', none: 'none' });

/**
 * @typedef {object} Problem
 * @property {string} code Machine code (for tests and the report).
 * @property {'error'|'warning'} intent
 * @property {string} sentence What happened and, when no button does it, what to do.
 * @property {'retry'|'sign-in'|'report'|'none'} action
 * @property {number|null} wait Seconds before « Réessayer » is worth it (Retry-After).
 * @property {string} details Technical details, for the report only.
 */

function sentences(...parts) {
  return parts.filter(Boolean).map((part) => part.trim()).filter(Boolean)
    .map((part) => (/[.!?]$/.test(part) ? part : `${part}.`)).join(' ');
}

/** Drops « Réessayez dans 30 secondes. »: the button counts down instead. */
function withoutRetryAdvice(text) {
  return String(text || '').split(/(?<=[.!?])\s+/).filter((s) => !/^Réessayez\b/i.test(s)).join(' ');
}

/**
 * The message bar's content for `err`, from the French description `info` of
 * `describeError` (or Outlook's `describeProblem`).
 * @param {*} err
 * @param {{code: string, title: string, message: string, action: string}} info
 * @returns {Problem}
 */
export function problemOf(err, info) {
  const status = err instanceof ApiError ? err.status : 0;
  const details = technicalDetails(err, info);
  const base = { code: info.code, intent: 'error', wait: null, details };
  const said = userText(info.message);
  if (err instanceof ApiError) {
    if (err.code === CLIENT_ERROR_CODES.stopped) return { ...base, intent: 'warning', sentence: said, action: ACTIONS.none };
    if (status === 401 || err.code === CLIENT_ERROR_CODES.authUnavailable) {
      return { ...base, sentence: userText(info.message, 'Votre session a expiré.'), action: ACTIONS.signIn };
    }
    if (status === 403 || err.code === 'non_configure') {
      const sentence = status === 403
        ? sentences(said || "Votre rôle ne permet pas d'utiliser cette fonction", 'Votre administrateur Plume peut vous attribuer le rôle adéquat')
        : sentences(userText(info.message, "Cette fonction n'est pas encore configurée sur ce serveur"), "Votre administrateur Plume doit terminer la configuration");
      return { ...base, sentence, action: ACTIONS.report };
    }
    if (status === 429 || (status === 503 && err.code !== 'non_configure')) {
      return {
        ...base, intent: 'warning', action: ACTIONS.retry, wait: err.retryAfter,
        sentence: withoutRetryAdvice(said) || info.title,
      };
    }
    if (err.midStream || (err.partial && err.partial.text)) {
      // The server usually says the text is kept; say it only when it did not.
      const kept = /conserv|affich/i.test(said) ? '' : 'Le texte reçu, incomplet, reste affiché';
      return { ...base, sentence: sentences(said || info.title, kept), action: ACTIONS.retry };
    }
    if (err.code === CLIENT_ERROR_CODES.network || err.code === CLIENT_ERROR_CODES.interrupted
      || status >= 500) {
      return { ...base, sentence: withoutRetryAdvice(said) || info.title, action: ACTIONS.retry };
    }
    // 400, 413, 415…: the user changes what they sent; the sentence says how.
    return { ...base, intent: 'warning', sentence: sentences(said || info.title, userText(info.action)), action: ACTIONS.none };
  }
  // Word or Outlook refused, or something unexpected: what to try, and the report for support.
  return { ...base, sentence: sentences(said || info.title, userText(info.action)), action: ACTIONS.report };
}

function technicalDetails(err, info) {
  const lines = [];
  if (err instanceof ApiError) {
    if (err.status) lines.push(`Statut HTTP : ${err.status}`);
    if (err.userMessage) lines.push(`Message du serveur : ${err.userMessage}`);
    if (err.retryAfter != null) lines.push(`Retry-After : ${err.retryAfter} s`);
    if (err.midStream) lines.push('Interrompu pendant la réponse (événement error du flux).');
    if (err.body && typeof err.body === 'object') lines.push(`Réponse : ${JSON.stringify(err.body)}`);
  } else if (err) {
    if (err.name) lines.push(`Type : ${err.name}`);
    if (err.code) lines.push(`Code Office : ${err.code}`);
    if (err.message) lines.push(`Message : ${err.message}`);
    if (err.debugInfo) lines.push(`debugInfo : ${JSON.stringify(err.debugInfo)}`);
    if (err.requirement) lines.push(`Ensemble requis : ${err.requirement}`);
  }
  if (info.message && info.message !== (err && err.userMessage)) lines.push(`Description : ${info.message}`);
  return lines.join('\n');
}

/**
 * The report « Copier pour l'administrateur » puts on the clipboard.
 * @param {Problem} problem
 * @returns {string}
 */
export function adminReport(problem) {
  const where = typeof location !== 'undefined' ? location.pathname : '';
  return [
    'Plume — rapport pour l\'administrateur',
    `Date : ${new Date().toISOString()}`,
    `Volet : ${where}`,
    `Code : ${problem.code}`,
    `Ce que l'utilisateur a lu : ${problem.sentence}`,
    problem.details,
    `Navigateur : ${typeof navigator !== 'undefined' ? navigator.userAgent : ''}`,
  ].filter(Boolean).join('\n');
}

const ICONS = { error: '⛔', warning: '⚠️', info: 'ℹ️', success: '✅' };

/**
 * A Fluent-style message bar: icon, the sentence, one action button.
 * @param {Problem} problem
 * @param {{onRetry?: () => void}} [handlers] Without `onRetry` there is no « Réessayer ».
 * @returns {HTMLElement}
 */
export function messageBar(problem, { onRetry } = {}) {
  const said = h('span', { className: 'plume-bar__status', role: 'status' });
  let button = null;
  if (problem.action === ACTIONS.retry && onRetry) {
    button = h('button', { type: 'button', className: 'plume-button plume-button--small', dataset: { action: 'retry' } }, 'Réessayer');
    button.addEventListener('click', () => {
      if (button.getAttribute('aria-disabled') === 'true') return;
      onRetry();
    });
    if (problem.wait) countDown(button, problem.wait);
  } else if (problem.action === ACTIONS.signIn) {
    button = h('button', { type: 'button', className: 'plume-button plume-button--small', dataset: { action: 'sign-in' } }, 'Se reconnecter');
    button.addEventListener('click', async () => {
      await signInAgain();
      if (onRetry) onRetry();
      else globalThis.location.reload();
    });
  } else if (problem.action === ACTIONS.report || (problem.action === ACTIONS.retry && !onRetry)) {
    button = h('button', { type: 'button', className: 'plume-button plume-button--small', dataset: { action: 'copy-report' } },
      "Copier pour l'administrateur");
    button.addEventListener('click', async () => {
      const ok = await copyText(adminReport(problem));
      setText(said, ok ? 'Rapport copié : collez-le dans votre message au support.' : 'Copie impossible.');
    });
  }
  return h('div', {
    className: `plume-bar plume-bar--${problem.intent}`,
    role: problem.intent === 'error' ? 'alert' : 'status',
    dataset: { errorCode: problem.code, next: problem.action },
  },
  h('span', { className: 'plume-bar__icon', 'aria-hidden': 'true' }, ICONS[problem.intent] || ICONS.info),
  h('p', { className: 'plume-bar__text' }, problem.sentence),
  button ? h('div', { className: 'plume-bar__actions' }, button, said) : null);
}

/**
 * « Réessayer dans 42 s », then « Réessayer » once the quota's wait is over.
 * @param {HTMLButtonElement} button
 * @param {number} seconds
 */
function countDown(button, seconds) {
  const end = Date.now() + seconds * 1000;
  const tick = () => {
    const left = Math.ceil((end - Date.now()) / 1000);
    if (!button.isConnected && left < seconds) return;
    if (left <= 0) {
      setText(button, 'Réessayer');
      button.removeAttribute('aria-disabled');
      return;
    }
    setText(button, `Réessayer dans ${left} s`);
    button.setAttribute('aria-disabled', 'true');
    setTimeout(tick, 1000);
  };
  tick();
}
