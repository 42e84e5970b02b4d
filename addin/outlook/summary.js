/**
 * Read mode — « Résumer »: the summary of the message and of the thread it quotes, then
 * the structured fields (parties, case numbers, hearings and deadlines, requested action).
 *
 * The server marks each field found in the mail or not (see fields.js); the count of values
 * « à vérifier » comes first. One line per field, with an icon-only copy button, « Tout
 * copier », one date format (« 12 mars 2026 ») and « Ajouter un rappel d'échéance » (Outlook's
 * appointment form, pre-filled: nothing is created without the clerk). A requested action
 * that looks like fraud (« transférer à tous les contacts ») is flagged as suspicious, not
 * listed as « Action demandée ».
 * @module outlook/summary
 */
import { answerBar, refinePayload } from '../common/answerbar.js';
import { streamAssist } from '../common/api.js';
import { formatWhen, historyList, messageKey, recall, remember } from '../common/history.js';
import { copyText } from '../common/clipboard.js';
import { answerToPlainText, h, renderAnswer } from '../common/render.js';
import { frenchTypography } from '../common/typography.js';
import { feedbackBar, message, oversightNotice, setStatus } from '../common/widgets.js';
import { formatLongDate, isSuspiciousRequest, readFields, toLocalDate } from './fields.js';
import { canPropose, proposeAppointment, readMessage } from './mailbox.js';
import { Run } from './problems.js';

const TASK = 'mail-summary';
/** Lines that open a quoted earlier message in French and English Outlook. */
const QUOTED_HEADER = /^(?:De|From)\s*:.+$|^-{2,}\s*(?:Message d'origine|Original Message)|^Le .{4,80} a écrit\s*:/im;
/** Appointment length proposed for a hearing or a deadline, in minutes. */
const APPOINTMENT_MINUTES = 60;

/**
 * The text the fields are taken from and checked against.
 * @param {{subject: string, from: string, date: string, body: string}} mail
 */
export function mailText(mail) {
  return [`Objet : ${mail.subject}`, mail.from ? `De : ${mail.from}` : '', mail.date ? `Date : ${mail.date}` : '', '', mail.body]
    .filter((line, i) => line || i === 3).join('\n');
}

function badge(found) {
  return found
    ? h('span', { className: 'outlook-badge outlook-badge--found', title: 'Figure tel quel dans le message' },
      h('span', { 'aria-hidden': 'true' }, '✓'), h('span', { className: 'plume-visually-hidden' }, 'dans le message'))
    : h('span', { className: 'outlook-badge outlook-badge--check', title: "N'apparaît pas tel quel dans le message : vérifiez-le" }, 'à vérifier');
}

function copyButton(label, text, status) {
  return h('button', {
    type: 'button', className: 'plume-button plume-button--small plume-button--icon', dataset: { copy: text },
    'aria-label': `Copier ${label}`, title: `Copier ${label}`,
    on: {
      click: async () => {
        const ok = await copyText(text);
        setStatus(status, ok ? `« ${text} » copié dans le presse-papiers.` : `Copie impossible : sélectionnez « ${text} » à la main.`);
      },
    },
  }, h('span', { 'aria-hidden': 'true' }, '📋'));
}

/** French typography on the text nodes of an element (the renderer's rules, once). */
function typeset(element) {
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) node.nodeValue = frenchTypography(node.nodeValue);
  return element;
}

function fieldRow(found, content, buttons) {
  return h('li', { className: `outlook-field${found ? '' : ' outlook-field--check'}`, dataset: { found: String(found) } },
    typeset(h('span', { className: 'outlook-field__value' }, content)), badge(found), h('span', { className: 'outlook-field__buttons' }, buttons));
}

function section(title, rows) {
  if (!rows.length) return null;
  return h('section', { className: 'outlook-fields__section' },
    h('h3', { className: 'outlook-fields__title' }, title),
    h('ul', { className: 'outlook-fields__list' }, rows));
}

/**
 * Renders the checked fields into `container`.
 * @param {HTMLElement} container
 * @param {object} raw the `fields` event payload
 * @param {{subject: string}} mail
 * @param {HTMLElement} status where copy/propose outcomes are announced
 */
export function renderFields(container, raw, mail, status) {
  const fields = readFields(raw);
  const parties = fields.parties.map((p) => fieldRow(p.found,
    [p.name, p.role ? h('span', { className: 'outlook-field__role' }, ` (${p.role})`) : null],
    [copyButton(p.name, p.name, status)]));
  const numbers = fields.numbers.map((n) => fieldRow(n.found,
    [h('span', { className: 'outlook-field__label' }, `${n.label} : `), n.value],
    [copyButton(n.label, n.value, status)]));
  const lines = [
    ...fields.parties.map((p) => `${p.name}${p.role ? ` (${p.role})` : ''}`),
    ...fields.numbers.map((n) => `${n.label} : ${n.value}`),
  ];
  const dates = fields.dates.map((d) => {
    const label = d.label || (d.kind === 'delai' ? 'Délai' : 'Date');
    const day = formatLongDate(d.date);
    const start = toLocalDate(d.date);
    const line = `${label}${d.kind === 'delai' ? ' (date limite)' : ''} : ${day}`;
    lines.push(line);
    const buttons = [copyButton(label, `${day} – ${label}`, status)];
    if (start && canPropose()) {
      buttons.push(h('button', {
        type: 'button', className: 'plume-button plume-button--small plume-button--icon', dataset: { remind: day },
        'aria-label': `Ajouter un rappel d'échéance le ${day}`, title: "Ajouter un rappel d'échéance",
        on: {
          click: () => {
            const end = new Date(start.getTime() + APPOINTMENT_MINUTES * 60000);
            proposeAppointment({
              subject: `${label} – ${mail.subject}`.slice(0, 255), start, end,
              body: `Rappel d'échéance proposé par Plume à partir du message « ${mail.subject} ». Date à vérifier dans le message.`,
            });
            setStatus(status, "Le formulaire du rappel est ouvert : vérifiez la date, puis enregistrez-le vous-même si elle est juste.");
          },
        },
      }, h('span', { 'aria-hidden': 'true' }, '🔔')));
    }
    return fieldRow(d.found, [h('span', { className: 'outlook-field__label' }, `${label}${d.kind === 'delai' ? ' (date limite)' : ''} : `), day], buttons);
  });
  const suspicious = fields.action && isSuspiciousRequest(fields.action.text) ? fields.action : null;
  const action = fields.action && !suspicious
    ? [fieldRow(fields.action.found, fields.action.text, [copyButton("l'action demandée", fields.action.text, status)])]
    : [];
  if (fields.action && !suspicious) lines.push(`Action demandée : ${fields.action.text}`);
  const sections = [
    section('Parties', parties),
    section('Numéros de dossier', numbers),
    section('Audiences, dates et délais', dates),
    section('Action demandée', action),
  ].filter(Boolean);
  const shownFields = [...fields.parties, ...fields.numbers, ...fields.dates, ...(fields.action && !suspicious ? [fields.action] : [])];
  const unchecked = shownFields.filter((f) => !f.found).length;
  const notice = unchecked
    ? h('p', { className: 'plume-message plume-message--warning', role: 'note', dataset: { unchecked: String(unchecked) } },
      unchecked > 1
        ? frenchTypography(`${unchecked} informations à vérifier : elles n'apparaissent pas telles quelles dans le message.`)
        : frenchTypography("1 information à vérifier : elle n'apparaît pas telle quelle dans le message."))
    : null;
  const warning = suspicious
    ? message('warning', [h('strong', null, 'Message suspect. '),
      frenchTypography(`Il demande : « ${suspicious.text} ». Un service de justice ne demande pas cela par courriel : ne le faites pas, et signalez le message à votre correspondant sécurité.`)],
    { dataset: { suspicious: 'true' } })
    : null;
  const copyAll = lines.length
    ? h('button', {
      type: 'button', className: 'plume-button plume-button--small', dataset: { action: 'copy-all' },
      on: {
        click: async () => {
          const ok = await copyText(lines.join('\n'));
          setStatus(status, ok ? `${lines.length} informations copiées dans le presse-papiers.` : 'Copie impossible.');
        },
      },
    }, 'Tout copier')
    : null;
  const children = [
    h('div', { className: 'outlook-fields__head' }, h('h2', { className: 'outlook-section-title' }, 'Informations relevées'), copyAll),
    warning,
    notice,
    fields.message ? h('p', { className: 'plume-message plume-message--warning', role: 'note' }, fields.message) : null,
    ...(sections.length ? sections : [h('p', { className: 'plume-status' }, 'Aucune partie, aucun numéro ni aucune date relevés.')]),
  ];
  container.replaceChildren(...children.filter(Boolean));
}

/**
 * Wires the « Résumer » panel.
 * @param {Document} doc
 */
export function setupSummary(doc = document) {
  const run = new Run(doc.getElementById('summary-run'), doc.getElementById('summary-stop'));
  const status = doc.getElementById('summary-status');
  const error = doc.getElementById('summary-error');
  const thread = doc.getElementById('summary-thread');
  const output = doc.getElementById('summary-output');
  const fieldsBox = doc.getElementById('summary-fields');
  const after = doc.getElementById('summary-after');

  let basePayload = null;
  let mail = null;
  let lastFields = null; // the fields checked against the mail, kept with refined summaries too
  const key = messageKey();

  /** The oversight notice, the action bar and the 👍/👎 bar under a summary. */
  function showActions(text, { complete, demo, interactionId, refine }) {
    const bar = answerBar({
      text: () => answerToPlainText(text),
      status,
      onRegenerate: basePayload ? () => run.launch((again) => summarize(again, basePayload)) : () => run.startButton.click(),
      onRefine: complete && basePayload ? refine : undefined,
      onDiscard: () => {
        for (const element of [output, fieldsBox, after, thread]) element.replaceChildren();
        setStatus(status, 'Résumé écarté.');
        run.startButton.focus();
      },
    }).element;
    after.replaceChildren(...[oversightNotice({ demo }), bar, interactionId ? feedbackBar(interactionId) : null].filter(Boolean));
  }

  /** A summary kept on this device for this mail, shown again without asking the model. */
  function restore(entry) {
    if (run.running) return;
    renderAnswer(output, entry.text);
    const extra = entry.extra || {};
    lastFields = extra.fields || null;
    if (extra.fields) renderFields(fieldsBox, extra.fields, { subject: extra.subject || '' }, status);
    else fieldsBox.replaceChildren();
    setStatus(status, `Résumé du ${formatWhen(entry.at)}, repris de l'historique : rien n'a été régénéré.`);
    showActions(entry.text, { complete: true, demo: Boolean(entry.demo), interactionId: null });
  }

  const history = historyList({ key, task: TASK, onRestore: restore });
  run.startButton.parentElement.after(history.element);

  /**
   * Streams a summary. A refined summary keeps the fields of the first one: they were
   * checked against the mail, and the refined text also holds the previous answer.
   */
  async function summarize(signal, payload, { refining = false } = {}) {
    setStatus(status, 'Résumé en cours…');
    const result = await streamAssist(TASK, payload, {
      signal,
      onDelta: (_piece, all) => renderAnswer(output, all),
      onFields: refining ? undefined : (fields) => {
        lastFields = fields;
        renderFields(fieldsBox, fields, mail, status);
      },
    });
    const complete = !result.stopped;
    setStatus(status, complete ? 'Résumé terminé.' : 'Résumé arrêté : le texte affiché est incomplet.');
    const done = result.done || {};
    const id = complete ? done.interaction_id : null;
    if (complete && result.text) {
      remember(key, {
        task: TASK, text: result.text, interactionId: id || null, demo: Boolean(done.demo),
        extra: { fields: lastFields, subject: mail ? mail.subject : '' },
      });
      history.refresh();
    }
    if (!result.text) {
      after.replaceChildren(oversightNotice({ demo: Boolean(done.demo) }));
      return;
    }
    showActions(result.text, {
      complete, demo: Boolean(done.demo), interactionId: id,
      refine: (refinement) => run.launch((again) => summarize(again,
        refinePayload(basePayload, result.text, refinement), { refining: true })),
    });
  }

  // Back on a mail already summarised: its last summary, at once.
  const kept = recall(key, TASK);
  if (kept.length) restore(kept[0]);

  run.onStart({ status, error, output, clear: [after] }, async (signal) => {
    fieldsBox.replaceChildren();
    lastFields = null;
    thread.hidden = true;
    setStatus(status, 'Lecture du message…');
    mail = await readMessage();
    const text = mailText(mail);
    if (QUOTED_HEADER.test(mail.body)) {
      thread.replaceChildren(h('p', { className: 'plume-message', role: 'note' },
        'Le message cite des échanges précédents : le résumé couvre aussi ce fil de discussion.'));
      thread.hidden = false;
    }
    // The conversation id lets the server read the whole thread through Microsoft Graph where
    // it can; the quoted text in the body stays the fallback.
    basePayload = { text, subject: mail.subject };
    if (mail.conversationId) basePayload.conversation_id = mail.conversationId;
    await summarize(signal, basePayload);
  });
}
