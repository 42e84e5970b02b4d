/**
 * Read mode — « Pièces jointes »: each .docx / .pdf attachment summarised with references
 * to its pages (« [p. 3] ») or paragraphs (« § 4 »).
 *
 * Files are summarised one after the other; a file Outlook or the server cannot read
 * gets its own French message (the card itself says it, no box inside the box) and the
 * others still go through. One AI notice and one 👍/👎 bar stand under the whole list; the
 * counts add up (files in a format Plume does not read count as not summarised).
 * @module outlook/attachments
 */
import { answerBar } from '../common/answerbar.js';
import { streamEvents } from '../common/api.js';
import { answerToPlainText, h, renderAnswer } from '../common/render.js';
import { feedbackBar, message, oversightNotice, setStatus } from '../common/widgets.js';
import { attachmentBase64, canReadAttachments, listAttachments } from './mailbox.js';
import { problemBox, Run } from './problems.js';

const ENDPOINT = '/attachments/summarize';
const KIB = 1024;

function formatSize(bytes) {
  if (!bytes) return '';
  if (bytes < KIB * KIB) return `${Math.max(1, Math.round(bytes / KIB))} Ko`;
  return `${(bytes / (KIB * KIB)).toFixed(1).replace('.', ',')} Mo`;
}

const plural = (n, word) => `${n} ${word}${n > 1 ? 's' : ''}`;

/**
 * The outcome of a run, with counts that add up: summarised + not summarised = files asked,
 * and the not summarised split into errors and formats Plume does not read.
 * @param {number} done
 * @param {number} failed
 * @param {number} unsupported
 * @returns {string}
 */
export function countsSentence(done, failed, unsupported) {
  const summarised = `${done} pièce${done > 1 ? 's' : ''} jointe${done > 1 ? 's' : ''} résumée${done > 1 ? 's' : ''}`;
  const missed = failed + unsupported;
  if (!missed) return `${summarised}.`;
  const why = [failed ? `${plural(failed, 'erreur')} (voir le message sur la pièce)` : null,
    unsupported ? `${unsupported} dans un format que Plume ne lit pas` : null].filter(Boolean).join(', ');
  return `${summarised}, ${missed} non résumée${missed > 1 ? 's' : ''} : ${why}.`;
}

/**
 * Wires the « Pièces jointes » panel.
 * @param {Document} doc
 */
export function setupAttachments(doc = document) {
  const list = doc.getElementById('attachments-list');
  const status = doc.getElementById('attachments-status');
  const runAll = doc.getElementById('attachments-run-all');
  const run = new Run(runAll, doc.getElementById('attachments-stop'));
  const rows = new Map();
  // Under the whole list: one AI notice and one 👍/👎 bar for the summaries on screen.
  const footer = h('div', { className: 'plume-stack', id: 'attachments-after' });
  list.after(footer);
  const answered = new Map(); // attachment id → interaction id of the summary on screen
  let demo = false;
  const showFooter = () => {
    const shown = [...rows.values()].some((entry) => entry.after.childNodes.length);
    const ids = [...answered.values()].filter(Boolean);
    footer.replaceChildren(...[shown ? oversightNotice({ demo }) : null,
      ids.length ? feedbackBar(ids, { question: ids.length > 1 ? 'Ces résumés vous ont-ils aidé ?' : 'Ce résumé vous a-t-il aidé ?' }) : null]
      .filter(Boolean));
  };

  const attachments = listAttachments();
  const readable = canReadAttachments();
  const supported = attachments.filter((a) => a.supported);

  for (const attachment of attachments) {
    const output = h('div', { className: 'plume-answer outlook-attachment__output', 'aria-live': 'polite' });
    const after = h('div', { className: 'outlook-attachment__after' });
    const button = h('button', {
      type: 'button', className: 'plume-button plume-button--small', disabled: !attachment.supported || !readable,
      'aria-label': `Résumer ${attachment.name}`,
    }, 'Résumer');
    const note = attachment.supported ? null
      : h('p', { className: 'plume-card__meta' }, 'Format non pris en charge : Plume résume les fichiers .docx et .pdf.');
    const row = h('li', { className: 'plume-card outlook-attachment', dataset: { attachment: attachment.name } },
      h('div', { className: 'outlook-attachment__head' },
        h('p', { className: 'plume-card__title' }, attachment.name),
        h('span', { className: 'plume-card__meta' }, formatSize(attachment.size)),
        attachment.supported ? button : null),
      note, output, after);
    rows.set(attachment.id, { attachment, output, after, button, row });
    button.addEventListener('click', () => summarizeAll([attachment.id]));
    list.appendChild(row);
  }

  if (!attachments.length) {
    list.replaceChildren(h('li', null, message('info', "Ce message n'a pas de pièce jointe.")));
    runAll.disabled = true;
  } else if (!readable) {
    list.before(message('warning', "Votre version d'Outlook ne permet pas à Plume de lire les pièces jointes. Ouvrez-les et utilisez Plume dans Word.", { dataset: { requirement: 'Mailbox 1.8' } }));
    runAll.disabled = true;
  } else if (!supported.length) {
    runAll.disabled = true;
  }

  /**
   * One attachment's summary. The file itself is the context of « Affiner »: the endpoint
   * builds the fenced text from the file, so the request goes alone in `instructions`.
   */
  async function summarizeOne(entry, signal, refinement = null) {
    const { attachment, output, after } = entry;
    output.replaceChildren(h('p', { className: 'plume-status' }, 'Lecture de la pièce jointe…'));
    after.replaceChildren();
    entry.row.classList.remove('outlook-attachment--error');
    answered.delete(attachment.id);
    const content = await attachmentBase64(attachment.id);
    output.replaceChildren(h('p', { className: 'plume-status' }, 'Résumé en cours…'));
    const body = { filename: attachment.name, content };
    if (refinement) body.instructions = `Un résumé ${refinement}.`;
    const result = await streamEvents(ENDPOINT, body, {
      signal,
      onDelta: (_piece, all) => renderAnswer(output, all),
    });
    if (!result.text) output.replaceChildren();
    const bar = result.text ? answerBar({
      text: () => answerToPlainText(result.text),
      status,
      onRegenerate: () => summarizeAll([attachment.id]),
      onRefine: result.stopped ? undefined : (words) => summarizeAll([attachment.id], words),
      onDiscard: () => {
        output.replaceChildren();
        after.replaceChildren();
        answered.delete(attachment.id);
        showFooter();
        setStatus(status, `Résumé de « ${attachment.name} » écarté.`);
        entry.button.focus();
      },
    }).element : null;
    after.replaceChildren(...[bar].filter(Boolean));
    if (!result.stopped && result.done && result.done.interaction_id) answered.set(attachment.id, result.done.interaction_id);
    if (result.done && result.done.demo) demo = true;
    return result;
  }

  async function summarizeAll(ids, refinement = null) {
    if (run.running) return;
    const signal = run.begin();
    for (const { button } of rows.values()) button.setAttribute('aria-disabled', 'true');
    let done = 0;
    let failed = 0;
    try {
      for (const id of ids) {
        const entry = rows.get(id);
        setStatus(status, `Pièce jointe « ${entry.attachment.name} »…`);
        try {
          const result = await summarizeOne(entry, signal, refinement);
          if (result.stopped) break;
          done += 1;
        } catch (err) {
          failed += 1;
          const partial = err && err.partial && err.partial.text;
          entry.output.replaceChildren();
          if (partial) renderAnswer(entry.output, partial);
          entry.row.classList.add('outlook-attachment--error');
          entry.output.prepend(problemBox(err, { attachment: true }, { onRetry: () => summarizeAll([id]) }));
        }
        if (signal.aborted) break;
      }
      // « Résumer toutes »: the files Plume does not read count among those not summarised.
      const unsupported = ids.length === supported.length ? attachments.length - supported.length : 0;
      if (signal.aborted) setStatus(status, 'Résumé des pièces jointes arrêté.');
      else setStatus(status, countsSentence(done, failed, unsupported));
    } finally {
      showFooter();
      run.end();
      for (const { button } of rows.values()) button.removeAttribute('aria-disabled');
    }
  }

  runAll.addEventListener('click', () => summarizeAll(supported.map((a) => a.id)));
}
