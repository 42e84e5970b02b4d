/**
 * Read mode — « Traduire en français »: a mail written in another language, translated into
 * French (`translate` task, metered like the others) with the language the model recognised,
 * beside the summary. Legal terms stay as written (the server's glossary).
 * @module outlook/translation
 */
import { answerBar } from '../common/answerbar.js';
import { streamAssist } from '../common/api.js';
import { answerToPlainText, renderAnswer, setText } from '../common/render.js';
import { feedbackBar, oversightNotice, setStatus } from '../common/widgets.js';
import { splitLanguage } from '../common/language.js';
import { readMessage } from './mailbox.js';
import { Run } from './problems.js';
import { mailText } from './summary.js';

/**
 * Wires « Traduire en français » in the Résumer panel.
 * @param {Document} doc
 */
export function setupMailTranslation(doc = document) {
  const button = doc.getElementById('translate-mail-run');
  const run = new Run(button, doc.getElementById('translate-mail-stop'));
  const box = doc.getElementById('translate-mail');
  const detected = doc.getElementById('translate-mail-detected');
  const output = doc.getElementById('translate-mail-output');
  const after = doc.getElementById('translate-mail-after');
  const status = doc.getElementById('translate-mail-status');
  const error = doc.getElementById('translate-mail-error');

  const show = (text) => {
    const { language, body } = splitLanguage(text);
    setText(detected, language ? `Langue reconnue : ${language}` : '');
    detected.hidden = !language;
    renderAnswer(output, body);
    return body;
  };

  async function translate(signal) {
    box.hidden = false;
    setStatus(status, 'Lecture du message…');
    const mail = await readMessage();
    setStatus(status, 'Traduction en cours…');
    const result = await streamAssist('translate', { text: mailText(mail), language: 'fr' }, {
      signal, onDelta: (_piece, all) => show(all),
    });
    const body = show(result.text);
    setStatus(status, result.stopped ? 'Traduction arrêtée : le texte affiché est incomplet.' : 'Traduction terminée.');
    const done = result.done || {};
    const bar = answerBar({
      text: () => answerToPlainText(body),
      status,
      onRegenerate: () => run.launch(translate),
      onDiscard: () => {
        box.hidden = true;
        for (const element of [output, after]) element.replaceChildren();
        detected.hidden = true;
        setStatus(status, 'Traduction écartée.');
        button.focus();
      },
    }).element;
    after.replaceChildren(...[oversightNotice({ demo: Boolean(done.demo) }), bar,
      !result.stopped && done.interaction_id ? feedbackBar(done.interaction_id) : null].filter(Boolean));
  }

  run.onStart({ status, error, output, clear: [after] }, translate);
}
