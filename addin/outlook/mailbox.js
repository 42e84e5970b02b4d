/**
 * Promises over the callback-style Outlook mailbox API, for the one item on screen.
 *
 * Every failure becomes a {@link MailboxError} carrying a French sentence, so the pane
 * shows Outlook's refusals the same way as the server's.
 * @module outlook/mailbox
 */

/** Mailbox requirement set that brings `getAttachmentContentAsync`. */
export const ATTACHMENTS_REQUIREMENT = ['Mailbox', '1.8'];

/** Attachment types Plume can read (the documents room accepts these). */
export const SUPPORTED_EXTENSIONS = ['.docx', '.pdf'];

/** An Outlook call that failed; `message` is French, `officeMessage` what Outlook said. */
export class MailboxError extends Error {
  /**
   * @param {string} message French sentence for the user.
   * @param {string} code Stable code, for tests and support.
   * @param {string} [officeMessage] Outlook's own (English) message, for the console.
   */
  constructor(message, code, officeMessage = '') {
    super(message);
    this.name = 'MailboxError';
    this.code = code;
    this.officeMessage = officeMessage;
  }
}

function office() {
  return globalThis.Office;
}

/** The item on screen (a message in read or compose mode). */
export function currentItem() {
  const mailbox = office() && office().context && office().context.mailbox;
  return mailbox ? mailbox.item : null;
}

/**
 * Read mode shows a received message: its subject is a string. In compose mode every
 * property is an object with `getAsync`.
 * @returns {'read'|'compose'|'none'}
 */
export function itemMode() {
  const item = currentItem();
  if (!item) return 'none';
  return typeof item.subject === 'string' || typeof item.displayReplyForm === 'function' ? 'read' : 'compose';
}

/**
 * Calls an Office async method and resolves with `result.value`.
 * @param {Function} method bound Office method taking a trailing callback
 * @param {any[]} args arguments before the callback
 * @param {string} message French sentence if Outlook refuses
 * @param {string} code error code
 */
function call(method, args, message, code) {
  return new Promise((resolve, reject) => {
    try {
      method(...args, (result) => {
        if (result && result.status === office().AsyncResultStatus.Succeeded) {
          resolve(result.value);
        } else {
          const detail = (result && result.error && result.error.message) || '';
          reject(new MailboxError(message, code, detail));
        }
      });
    } catch (err) {
      reject(new MailboxError(message, code, String(err && err.message)));
    }
  });
}

/** Whether this Outlook can read attachment contents (Mailbox 1.8). */
export function canReadAttachments() {
  const requirements = office().context.requirements;
  return Boolean(requirements && requirements.isSetSupported(...ATTACHMENTS_REQUIREMENT));
}

/**
 * The message as plain text, with what a clerk needs to see it in context.
 * In read mode the body usually carries the earlier messages of the thread, quoted.
 * @returns {Promise<{subject: string, from: string, date: string, body: string, conversationId: string|null}>}
 */
export async function readMessage() {
  const item = currentItem();
  const body = await call(item.body.getAsync.bind(item.body), [office().CoercionType.Text],
    "Outlook n'a pas pu fournir le texte du message.", 'corps_illisible');
  const sender = item.from || item.sender || {};
  const date = item.dateTimeCreated instanceof Date ? item.dateTimeCreated : null;
  return {
    subject: item.subject || '',
    from: [sender.displayName, sender.emailAddress ? `<${sender.emailAddress}>` : ''].filter(Boolean).join(' '),
    date: date ? date.toLocaleDateString('fr-FR', { day: 'numeric', month: 'long', year: 'numeric' }) : '',
    body: body || '',
    conversationId: item.conversationId || null,
  };
}

/**
 * The draft being written (compose mode): subject and body as plain text.
 * @returns {Promise<{subject: string, body: string}>}
 */
export async function readDraft() {
  const item = currentItem();
  const subject = await call(item.subject.getAsync.bind(item.subject), [],
    "Outlook n'a pas pu fournir l'objet du message.", 'objet_illisible');
  const body = await call(item.body.getAsync.bind(item.body), [office().CoercionType.Text],
    "Outlook n'a pas pu fournir le texte du brouillon.", 'corps_illisible');
  return { subject: subject || '', body: body || '' };
}

/**
 * Inserts text at the cursor of the draft (replacing the selection, if any). Never sends.
 * @param {string} text
 */
export async function insertAtCursor(text) {
  const item = currentItem();
  await call(item.body.setSelectedDataAsync.bind(item.body),
    [text, { coercionType: office().CoercionType.Text }],
    "Outlook n'a pas pu insérer le texte dans le message. Cliquez dans le corps du message puis réessayez.",
    'insertion_refusee');
}

/**
 * File attachments of the message, each marked `supported` when Plume can read it.
 * @returns {{id: string, name: string, size: number, supported: boolean}[]}
 */
export function listAttachments() {
  const item = currentItem();
  const fileType = office().MailboxEnums.AttachmentType.File;
  return (item.attachments || [])
    .filter((a) => a.attachmentType === fileType && !a.isInline)
    .map((a) => ({
      id: a.id,
      name: a.name,
      size: a.size || 0,
      supported: SUPPORTED_EXTENSIONS.some((ext) => a.name.toLowerCase().endsWith(ext)),
    }));
}

/**
 * The content of one attachment, as base64 (Mailbox 1.8).
 * @param {string} id
 * @returns {Promise<string>}
 */
export async function attachmentBase64(id) {
  const item = currentItem();
  const content = await call(item.getAttachmentContentAsync.bind(item), [id],
    "Outlook n'a pas pu fournir le contenu de cette pièce jointe.", 'piece_jointe_inaccessible');
  if (!content || content.format !== office().MailboxEnums.AttachmentContentFormat.Base64) {
    throw new MailboxError("Cette pièce jointe n'est pas un fichier que Plume peut lire.",
      'piece_jointe_format');
  }
  return content.content;
}

/** Whether Outlook can open a pre-filled appointment form (read mode). */
export function canPropose() {
  const mailbox = office().context.mailbox;
  return Boolean(mailbox && typeof mailbox.displayNewAppointmentForm === 'function');
}

/**
 * Opens Outlook's new-appointment form, pre-filled. The clerk saves it or not: nothing is
 * created by this call.
 * @param {{subject: string, start: Date, end: Date, body: string}} appointment
 */
export function proposeAppointment(appointment) {
  office().context.mailbox.displayNewAppointmentForm({
    requiredAttendees: [],
    start: appointment.start,
    end: appointment.end,
    subject: appointment.subject,
    body: appointment.body,
  });
}

/** Mailbox requirement set that brings `item.categories`. */
export const CATEGORIES_REQUIREMENT = ['Mailbox', '1.8'];

/** Whether Outlook lets the pane set the message's categories (Mailbox 1.8). */
export function canCategorize() {
  const item = currentItem();
  const requirements = office().context.requirements;
  return Boolean(item && item.categories && typeof item.categories.addAsync === 'function'
    && requirements && requirements.isSetSupported(...CATEGORIES_REQUIREMENT));
}

/** Colour of a category Plume adds to the user's list: blue (Preset7), not the red users read as urgent. */
const NEW_CATEGORY_COLOR = 'Preset7';

/**
 * The user's list of Outlook categories, or null when Outlook does not let the add-in read it
 * (the manifest asked for ReadWriteItem only, or Outlook is older than Mailbox 1.8).
 * @returns {Promise<string[]|null>}
 */
async function masterCategoryNames() {
  const master = office().context.mailbox && office().context.mailbox.masterCategories;
  if (!master || typeof master.getAsync !== 'function') return null;
  try {
    const list = await call(master.getAsync.bind(master), [], '', 'categories_illisibles');
    return (list || []).map((category) => category.displayName);
  } catch (err) {
    return null; // PermissionDenied: the user's list is theirs alone.
  }
}

/**
 * Puts one of the user's Outlook categories on the message on screen. Outlook only applies a
 * category that exists in the user's list: where the manifest lets Plume manage that list
 * (ReadWriteMailbox), a missing category is added to it first; otherwise a refusal says where
 * the user creates it.
 * @param {string} name
 * @returns {Promise<{created: boolean}>} whether the category was added to the user's list.
 */
export async function applyCategory(name) {
  const item = currentItem();
  let created = false;
  const known = await masterCategoryNames();
  if (known && !known.some((existing) => existing.toLocaleLowerCase('fr') === name.toLocaleLowerCase('fr'))) {
    const master = office().context.mailbox.masterCategories;
    const color = (office().MailboxEnums.CategoryColor || {})[NEW_CATEGORY_COLOR] || NEW_CATEGORY_COLOR;
    try {
      await call(master.addAsync.bind(master), [[{ displayName: name, color }]], '', 'categorie_non_creee');
      created = true;
    } catch (err) {
      // Another pane or the user added it meanwhile (DuplicateCategory), or Outlook refused:
      // applying it below says which.
    }
  }
  await call(item.categories.addAsync.bind(item.categories), [[name]],
    `Outlook n'a pas appliqué la catégorie « ${name} » : elle n'existe sans doute pas encore dans votre liste. Créez-la (Catégoriser › Toutes les catégories), puis réessayez.`,
    'categorie_refusee');
  return { created };
}

/** Whether Outlook can open a pre-filled new message (Mailbox 1.6). */
export function canForward() {
  const mailbox = office().context.mailbox;
  const item = currentItem();
  return Boolean(mailbox && typeof mailbox.displayNewMessageForm === 'function' && item && item.itemId);
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

/**
 * Opens a new message to a service with the message on screen attached: a forward draft the
 * clerk reads and sends herself. Nothing is sent by this call.
 * @param {{to: string, service: string, subject: string, note: string}} forward
 */
export function draftForward({ to, service, subject, note }) {
  const item = currentItem();
  office().context.mailbox.displayNewMessageForm({
    toRecipients: [{ displayName: service, emailAddress: to }],
    subject: `TR : ${subject}`.slice(0, 255),
    htmlBody: `<p>${escapeHtml(note)}</p>`,
    attachments: [{ type: 'item', itemId: item.itemId, name: subject || 'Message transféré' }],
  });
}
