/**
 * Traduire: the selection into French or a chosen language (`translate` task), the language
 * the model recognised shown above the translation, and « Remplacer la sélection » as tracked
 * changes in the AI content control, like every other insertion.
 * @module word/translate
 */
import { splitLanguage } from '../common/language.js';
import { h, setText } from '../common/render.js';
import { setStatus } from '../common/widgets.js';
import { readSelection } from './document.js';
import { GenerationPanel, describeInsertError, sourcesComment } from './generation.js';

export { splitLanguage };

/** The languages the server translates into (backend/usecases/tasks.py LANGUAGE_WORDS). */
export const LANGUAGES = [
  ['fr', 'français'], ['en', 'anglais'], ['de', 'allemand'], ['es', 'espagnol'], ['it', 'italien'],
  ['pt', 'portugais'], ['nl', 'néerlandais'], ['pl', 'polonais'], ['ro', 'roumain'], ['ar', 'arabe'],
  ['tr', 'turc'], ['ru', 'russe'], ['uk', 'ukrainien'], ['zh', 'chinois'],
];

/** Wires the Traduire panel. */
export function setupTranslate() {
  const panel = new GenerationPanel('translate', { task: 'translate', location: 'replace', insertLabel: 'Remplacer la sélection' });
  const select = document.getElementById('translate-language');
  select.replaceChildren(...LANGUAGES.map(([code, name]) => h('option', { value: code }, name)));
  const detected = document.getElementById('translate-detected');
  panel.visible = (text) => {
    const { language, body } = splitLanguage(text);
    setText(detected, language ? `Langue reconnue : ${language}` : '');
    detected.hidden = !language;
    return body;
  };
  const baseReset = panel.reset.bind(panel);
  panel.reset = () => {
    baseReset();
    detected.textContent = '';
    detected.hidden = true;
  };
  panel.runButton.addEventListener('click', async () => {
    if (panel.running) return;
    panel.reset();
    let selection;
    try {
      selection = await readSelection();
    } catch (err) {
      panel.error.replaceChildren(describeInsertError(err));
      panel.error.hidden = false;
      return;
    }
    if (!selection.text.trim()) {
      panel.complain('Sélectionnez dans le document le passage à traduire.');
      return;
    }
    const language = select.value;
    const name = (LANGUAGES.find(([code]) => code === language) || [language, language])[1];
    const result = await panel.start({ text: selection.text, language }, {
      comment: (result) => sourcesComment({
        what: `Traduction en ${name} de la sélection${splitLanguage(result.text).language ? ` (texte d'origine en ${splitLanguage(result.text).language})` : ''}`,
        model: result.done && result.done.model,
      }),
    });
    // Only a finished translation is « prête »: a stopped one keeps its « arrêtée » status.
    if (result && !result.stopped && result.text && detected.hidden) {
      setStatus(panel.status, 'Traduction prête. Le modèle n\'a pas indiqué la langue d\'origine : vérifiez-la.');
    }
  });
  return panel;
}
