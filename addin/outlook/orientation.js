/**
 * Read mode — « Orientation »: a suggested category and service for the message, chosen
 * from the administrator's list, with the reason. Advice only: nothing is forwarded.
 * @module outlook/orientation
 */
import { getJSON, postJSON } from '../common/api.js';
import { h } from '../common/render.js';
import { setStatus } from '../common/widgets.js';
import { readMessage } from './mailbox.js';
import { clearProblem, showProblem } from './problems.js';

const METHOD_LABELS = {
  modele: 'Choisi par le modèle parmi les services configurés.',
  'mots-cles': 'Établi à partir des mots-clés configurés pour chaque service.',
};

function row(label, value, key) {
  return h('div', { className: 'outlook-routing__row', dataset: { routing: key } },
    h('dt', null, label), h('dd', null, value || '—'));
}

/**
 * Wires the « Orientation » panel.
 * @param {Document} doc
 */
export function setupOrientation(doc = document) {
  const button = doc.getElementById('routing-run');
  const status = doc.getElementById('routing-status');
  const error = doc.getElementById('routing-error');
  const output = doc.getElementById('routing-output');
  const servicesList = doc.getElementById('routing-services-list');
  let servicesLoaded = false;

  doc.getElementById('routing-services').addEventListener('toggle', async (event) => {
    if (!event.target.open || servicesLoaded) return;
    try {
      const data = await getJSON('/routing/services');
      servicesList.replaceChildren(...data.services.map((s) => h('li', null,
        h('strong', null, s.service), s.description ? ` — ${s.description}` : '')));
      servicesLoaded = true;
    } catch (err) {
      servicesList.replaceChildren(h('li', null, 'Liste des services indisponible.'));
    }
  });

  let busy = false;
  button.addEventListener('click', async () => {
    if (busy) return;
    busy = true;
    button.setAttribute('aria-disabled', 'true');
    clearProblem(error);
    output.replaceChildren();
    setStatus(status, 'Analyse du message…');
    try {
      const mail = await readMessage();
      const suggestion = await postJSON('/routing/suggest', { subject: mail.subject, text: mail.body });
      const keywords = suggestion.matched_keywords || [];
      output.replaceChildren(h('div', { className: 'plume-card outlook-routing' },
        h('dl', { className: 'outlook-routing__list' },
          row('Catégorie', suggestion.category, 'category'),
          row('Service', suggestion.service || 'Aucun service ne se dégage', 'service'),
          row('Pourquoi', suggestion.reason, 'reason')),
        keywords.length ? h('p', { className: 'plume-card__meta' }, `Mots-clés relevés : ${keywords.join(', ')}`) : null,
        h('p', { className: 'plume-card__meta', dataset: { method: suggestion.method } }, METHOD_LABELS[suggestion.method] || ''),
        suggestion.notice ? h('p', { className: 'plume-message plume-message--warning', role: 'note' }, suggestion.notice) : null,
        h('p', { className: 'plume-oversight', role: 'note' }, "Suggestion à vérifier : c'est vous qui décidez du service destinataire.")));
      setStatus(status, 'Orientation proposée.');
    } catch (err) {
      setStatus(status, '');
      showProblem(error, err);
    } finally {
      busy = false;
      button.removeAttribute('aria-disabled');
    }
  });
}
