/**
 * Compose mode — « Rédiger une réponse »: a draft in the chosen tone and length, shown in
 * the pane, then inserted at the cursor of the message on the clerk's click. The pane
 * never sends, never replaces the body: the clerk edits and sends. A reply written in the
 * sender's language comes with its French version beside it (the translate task), to check.
 * @module outlook/compose
 */
import { answerBar, refinePayload } from '../common/answerbar.js';
import { sendFeedback, streamAssist } from '../common/api.js';
import { splitLanguage } from '../common/language.js';
import { answerToPlainText, h, renderAnswer } from '../common/render.js';
import { feedbackBar, message, oversightNotice, setStatus } from '../common/widgets.js';
import { insertAtCursor, readDraft } from './mailbox.js';
import { clearProblem, Run, showProblem } from './problems.js';

const TASK = 'mail-reply';

function checked(doc, name) {
  const input = doc.querySelector(`input[name="${name}"]:checked`);
  return input ? input.value : null;
}

/**
 * Wires the « Rédiger une réponse » panel.
 * @param {Document} doc
 */
export function setupCompose(doc = document) {
  const runButton = doc.getElementById('reply-run');
  const run = new Run(runButton, doc.getElementById('reply-stop'));
  const status = doc.getElementById('reply-status');
  const error = doc.getElementById('reply-error');
  const output = doc.getElementById('reply-output');
  const after = doc.getElementById('reply-after');
  const french = doc.getElementById('reply-french');
  const frenchOutput = doc.getElementById('reply-french-output');
  const frenchStatus = doc.getElementById('reply-french-status');

  let basePayload = null;

  /**
   * The French version of a reply written in another language, shown beside it to check.
   * A reply already in French says so and shows nothing more.
   */
  async function frenchVersion(signal, text) {
    french.hidden = false;
    frenchOutput.replaceChildren();
    setStatus(frenchStatus, 'Traduction en français du projet…');
    try {
      const result = await streamAssist('translate', { text, language: 'fr' }, {
        signal, onDelta: (_piece, all) => renderAnswer(frenchOutput, splitLanguage(all).body),
      });
      const { language, body } = splitLanguage(result.text);
      if (language === 'français') {
        french.hidden = true;
        frenchOutput.replaceChildren();
        return;
      }
      renderAnswer(frenchOutput, body);
      setStatus(frenchStatus, result.stopped ? 'Traduction arrêtée : incomplète.'
        : `Projet rédigé en ${language || 'langue étrangère'} ; sa version française, pour le vérifier.`);
    } catch (err) {
      setStatus(frenchStatus, "La version française n'a pas pu être produite : relisez le projet vous-même.");
    }
  }

  function discardAnswer(interactionId) {
    output.replaceChildren();
    after.replaceChildren();
    french.hidden = true;
    frenchOutput.replaceChildren();
    setStatus(status, 'Projet écarté : rien n\'a été inséré.');
    if (interactionId) sendFeedback({ interaction_id: interactionId, outcome: 'discarded' });
    runButton.focus();
  }

  /** The action bar; a stopped draft is incomplete, so it offers no « Insérer » and no « Affiner ». */
  function offerActions(text, interactionId, complete) {
    let insert = null;
    if (complete) {
      insert = h('button', { type: 'button', className: 'plume-button plume-button--primary', dataset: { action: 'insert' } },
        "Insérer à l'emplacement du curseur");
    }
    const bar = answerBar({
      text: () => answerToPlainText(text),
      status,
      onRegenerate: () => run.launch((signal) => generate(signal, basePayload)),
      onRefine: complete ? (refinement) => run.launch((signal) => generate(signal, refinePayload(basePayload, text, refinement))) : undefined,
      insert,
      onDiscard: () => discardAnswer(interactionId),
    });
    if (insert) {
      insert.addEventListener('click', async () => {
        if (insert.getAttribute('aria-disabled') === 'true') return;
        insert.setAttribute('aria-disabled', 'true');
        clearProblem(error);
        try {
          await insertAtCursor(answerToPlainText(text));
          const done = message('success', "Réponse insérée à l'emplacement du curseur. Relisez-la et modifiez-la avant l'envoi : Plume n'envoie jamais de message.", { dataset: { inserted: 'true' }, tabIndex: -1 });
          bar.element.replaceWith(done);
          done.focus();
          if (interactionId) sendFeedback({ interaction_id: interactionId, outcome: 'inserted' });
        } catch (err) {
          insert.removeAttribute('aria-disabled');
          showProblem(error, err);
        }
      });
    }
    return bar.element;
  }

  async function generate(signal, payload) {
    setStatus(status, 'Rédaction en cours…');
    const result = await streamAssist(TASK, payload, { signal, onDelta: (_piece, all) => renderAnswer(output, all) });
    const interactionId = result.done && result.done.interaction_id;
    if (result.stopped) {
      setStatus(status, 'Rédaction arrêtée à votre demande.');
    } else {
      setStatus(status, 'Projet de réponse prêt.');
    }
    if (result.text && !result.stopped && payload.reply_language === 'auto') await frenchVersion(signal, result.text);
    if (result.text) {
      after.replaceChildren(...[oversightNotice({ demo: Boolean(result.done && result.done.demo) }),
        result.stopped ? message('warning', "Projet incomplet : il ne peut pas être inséré tel quel. Régénérez-le, ou copiez-le pour le compléter vous-même.", { dataset: { incomplete: 'true' } }) : null,
        offerActions(result.text, interactionId, !result.stopped),
        interactionId ? feedbackBar(interactionId) : null].filter(Boolean));
    }
  }

  run.onStart({ status, error, output, clear: [after] }, async (signal) => {
    setStatus(status, 'Lecture du brouillon…');
    const draft = await readDraft();
    const instructions = doc.getElementById('reply-instructions').value.trim();
    basePayload = {
      text: draft.body,
      subject: draft.subject,
      instructions: instructions || undefined,
      tone: checked(doc, 'reply-tone'),
      length: checked(doc, 'reply-length'),
      reply_language: checked(doc, 'reply-language') || 'fr',
    };
    french.hidden = true;
    frenchOutput.replaceChildren();
    await generate(signal, basePayload);
  });
}
