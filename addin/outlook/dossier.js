/**
 * Outlook read mode — « Dossier »: « Synthétiser le dossier » turns the message on screen
 * (its text, with who sent it and when) and all its file attachments into one dossier, with
 * the same inventory, estimate, progress and synthesis as in Word (common/dossier.js). The
 * clerk can then attach the .docx to a reply draft; Plume never sends it.
 * @module outlook/dossier
 */
import { answerBar } from '../common/answerbar.js';
import { DossierPanel } from '../common/dossier.js';
import { exportDocx, exportName } from '../common/dossier-api.js';
import { synthesisText } from '../common/dossier-render.js';
import { h } from '../common/render.js';
import { sendFeedback } from '../common/api.js';
import { feedbackBar, message, oversightNotice, setStatus } from '../common/widgets.js';
import { attachmentBase64, canReadAttachments, currentItem, listAttachments, MailboxError, readMessage } from './mailbox.js';
import { problemBox } from './problems.js';

/** Name of the message's own text in the dossier. */
export const MAIL_FILE = 'courriel.txt';
/** The body of the reply draft that carries the synthesis. */
export const REPLY_BODY = '<p>Veuillez trouver ci-joint la synthèse du dossier.</p>'
  + '<p><em>Synthèse générée par IA — à vérifier avant tout usage.</em></p>';

/**
 * The message as a text file of the dossier: its headers (De, Date, Objet) then its body.
 * @param {{subject: string, from: string, date: string, body: string}} mail
 * @returns {File}
 */
export function mailFile(mail) {
  const head = [`De : ${mail.from}`, mail.date ? `Date : ${mail.date}` : null, `Objet : ${mail.subject}`].filter(Boolean);
  return new File([`${head.join('\n')}\n\n${mail.body}`], MAIL_FILE, { type: 'text/plain' });
}

function bytesOf(base64) {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Base64 of a blob (what Outlook takes for an attachment).
 * @param {Blob} blob
 * @returns {Promise<string>}
 */
export function blobBase64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

/**
 * Opens a reply to the message on screen with the export attached (`displayReplyFormAsync`
 * when this Outlook has it, `displayReplyForm` otherwise). Outlook shows the draft; nothing
 * is sent.
 * @param {string} name File name of the attachment.
 * @param {string} base64
 * @returns {Promise<void>}
 */
export function replyWithAttachment(name, base64) {
  const item = currentItem();
  const form = { htmlBody: REPLY_BODY, attachments: [{ type: 'base64', name, base64file: base64 }] };
  const refused = (detail) => new MailboxError("Outlook n'a pas pu ouvrir la réponse avec la synthèse en pièce jointe.", 'reponse_refusee', detail);
  return new Promise((resolve, reject) => {
    try {
      if (typeof item.displayReplyFormAsync === 'function') {
        item.displayReplyFormAsync(form, (result) => {
          if (result && result.status === Office.AsyncResultStatus.Succeeded) resolve();
          else reject(refused((result && result.error && result.error.message) || ''));
        });
      } else {
        item.displayReplyForm(form);
        resolve();
      }
    } catch (err) {
      reject(refused(String(err && err.message)));
    }
  });
}

/**
 * A message without file attachments is no dossier (« Résumer » serves it): its « Dossier »
 * tab is left out, like a tab the user's role refuses.
 * @param {Set<string>|null} refused The panels refused so far (null: none).
 * @returns {Set<string>|null}
 */
export function refuseDossierWithoutFiles(refused) {
  if (listAttachments().length) return refused;
  return new Set([...(refused || []), 'panel-dossier']);
}

/**
 * Wires the « Dossier » panel of read mode.
 * @param {Document} doc
 */
export function setupDossier(doc = document) {
  const panel = doc.getElementById('panel-dossier');
  const attachments = listAttachments();
  if (!panel || !attachments.length) return;
  const readable = canReadAttachments();
  const run = h('button', { id: 'dossier-mail-run', type: 'button', className: 'plume-button plume-button--primary',
    dataset: { shortcut: 'run' }, 'aria-keyshortcuts': 'Control+Enter' }, 'Synthétiser le dossier');
  const contents = h('ul', { id: 'dossier-mail-files', className: 'dossier-chosen', 'aria-label': 'Ce qui sera envoyé' },
    h('li', null, h('span', { className: 'dossier-chosen__name' }, 'Le texte du message')),
    ...(readable ? attachments : []).map((a) => h('li', { dataset: { file: a.name } }, h('span', { className: 'dossier-chosen__name' }, a.name))));
  const home = [h('section', { className: 'dossier-view', 'aria-labelledby': 'dossier-mail-title' },
    h('h2', { id: 'dossier-mail-title', className: 'dossier-heading__title' }, 'Ce message'),
    contents,
    !readable && attachments.length
      ? message('warning', "Votre version d'Outlook ne permet pas à Plume de lire les pièces jointes : seul le texte du message sera synthétisé.")
      : null,
    h('div', { className: 'plume-actions' }, run))];

  const dossier = new DossierPanel(panel, {
    intro: 'Le message et toutes ses pièces jointes deviennent un dossier : inventaire, estimation, puis une synthèse dont chaque point renvoie à sa page.',
    home,
    resultActions: ({ dossier: current, synthesis, status, close, interactionId, revisionId, regenerate, refine }) => {
      const attach = h('button', { type: 'button', className: 'plume-button plume-button--primary', dataset: { action: 'reply-attach' } },
        'Joindre à une réponse');
      const outcome = h('div', { className: 'plume-stack' });
      attach.addEventListener('click', async () => {
        if (attach.getAttribute('aria-disabled') === 'true') return;
        attach.setAttribute('aria-disabled', 'true');
        try {
          const name = exportName(current);
          await replyWithAttachment(name, await blobBase64(await exportDocx(current.id, revisionId)));
          outcome.replaceChildren(message('success', `Un brouillon de réponse s'ouvre avec « ${name} » en pièce jointe. Relisez-le : Plume n'envoie jamais de message.`,
            { dataset: { outcome: 'reply' }, tabIndex: -1 }));
          outcome.firstChild.focus();
          // The dossier is its own record in the observatory (one interaction, same id).
          sendFeedback({ interaction_id: interactionId, outcome: 'inserted' });
        } catch (err) {
          outcome.replaceChildren(problemBox(err));
        } finally {
          attach.removeAttribute('aria-disabled');
        }
      });
      const bar = answerBar({ text: () => synthesisText(synthesis), status, insert: attach, onRegenerate: regenerate, onRefine: refine, onDiscard: () => {
        sendFeedback({ interaction_id: interactionId, outcome: 'discarded' });
        close();
        setStatus(status, 'Synthèse écartée. Le dossier reste dans « Mes dossiers ».');
      } });
      return [oversightNotice({ demo: Boolean(synthesis.model && synthesis.model.demonstration) }), bar.element, outcome,
        feedbackBar(interactionId)];
    },
  });

  run.addEventListener('click', async () => {
    if (run.getAttribute('aria-disabled') === 'true') return;
    run.setAttribute('aria-disabled', 'true');
    dossier.clearError();
    setStatus(dossier.status, 'Lecture du message et de ses pièces jointes…');
    try {
      const mail = await readMessage();
      const files = [mailFile(mail)];
      const refused = [];
      for (const attachment of readable ? attachments : []) {
        try {
          files.push(new File([bytesOf(await attachmentBase64(attachment.id))], attachment.name));
        } catch (err) {
          // Outlook would not hand it over: said once for all of them, the others still go.
          refused.push(h('li', { dataset: { attachment: attachment.name } }, `${attachment.name} : ${err.message}`));
        }
      }
      const notes = refused.length ? [message('warning', [
        h('strong', null, `${refused.length} pièce${refused.length > 1 ? 's' : ''} jointe${refused.length > 1 ? 's' : ''} non transmise${refused.length > 1 ? 's' : ''} par Outlook, donc absente${refused.length > 1 ? 's' : ''} du dossier :`),
        h('ul', { className: 'dossier-estimate__list' }, refused)], { dataset: { refused: String(refused.length) } })] : [];
      await dossier.prepare(files, { title: mail.subject || 'Message sans objet', notes });
      doc.getElementById('dossier-start')?.focus();
    } catch (err) {
      dossier.error.replaceChildren(problemBox(err, {}, { onRetry: () => run.click() }));
      dossier.error.hidden = false;
      setStatus(dossier.status, '');
    } finally {
      run.removeAttribute('aria-disabled');
    }
  });
}
