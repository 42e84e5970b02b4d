/**
 * Read mode — « Orientation »: a suggested category and service for the message, chosen
 * from the administrator's list, with the reason and the second-best service. Actions, not a
 * dead end: « Appliquer la catégorie » (the user's Outlook categories) and « Transférer au
 * service » (a new message to the service's configured address with this one attached, left
 * for the clerk to send: Plume never sends).
 * @module outlook/orientation
 */
import { getJSON, postJSON } from '../common/api.js';
import { h } from '../common/render.js';
import { message, setStatus } from '../common/widgets.js';
import { applyCategory, canCategorize, canForward, draftForward, readMessage } from './mailbox.js';
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

  const forwardButton = (service, address, mail, label) => {
    if (!service) return null;
    if (!address || !canForward()) {
      return h('p', { className: 'plume-hint', dataset: { noAddress: service } }, address
        ? 'Cette version d\'Outlook ne permet pas de préparer le transfert : transférez le message vous-même.'
        : `Aucune adresse n'est configurée pour « ${service} » : transférez le message vous-même.`);
    }
    return h('button', {
      type: 'button', className: 'plume-button plume-button--small', dataset: { action: 'forward', service },
      'aria-label': `${label} : ${service}`,
      on: {
        click: () => {
          draftForward({
            to: address, service, subject: mail.subject,
            note: `Message transmis au service « ${service} » pour attribution (orientation proposée par Plume, vérifiée par le greffe).`,
          });
          setStatus(status, `Un brouillon de transfert à « ${service} » est ouvert : relisez-le et envoyez-le vous-même. Plume n'envoie rien.`);
        },
      },
    }, label);
  };

  const categoryButton = (category) => {
    if (!category || !canCategorize()) return null;
    const apply = h('button', { type: 'button', className: 'plume-button plume-button--small', dataset: { action: 'category' } }, 'Appliquer la catégorie');
    apply.addEventListener('click', async () => {
      if (apply.getAttribute('aria-busy') === 'true') return;
      apply.setAttribute('aria-busy', 'true');
      try {
        const { created } = await applyCategory(category);
        setStatus(status, created
          ? `Catégorie « ${category} » ajoutée à vos catégories Outlook et appliquée au message.`
          : `Catégorie « ${category} » appliquée au message.`);
      } catch (err) {
        setStatus(status, '');
        error.replaceChildren(message('warning', err.message, { dataset: { errorCode: err.code || '' } }));
        error.hidden = false;
      } finally {
        apply.removeAttribute('aria-busy');
      }
    });
    return apply;
  };

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
      const actions = [categoryButton(suggestion.category),
        forwardButton(suggestion.service, suggestion.service_address, mail, 'Transférer au service')].filter(Boolean);
      output.replaceChildren(h('div', { className: 'plume-card outlook-routing' },
        h('dl', { className: 'outlook-routing__list' },
          row('Catégorie', suggestion.category, 'category'),
          row('Service', suggestion.service || 'Aucun service ne se dégage', 'service'),
          row('Pourquoi', suggestion.reason, 'reason')),
        actions.length ? h('div', { className: 'plume-actions' }, actions) : null,
        suggestion.alternative ? h('div', { className: 'outlook-routing__alternative', dataset: { routing: 'alternative' } },
          h('p', { className: 'plume-card__meta' }, 'Autre possibilité : ', h('strong', null, suggestion.alternative)),
          forwardButton(suggestion.alternative, suggestion.alternative_address, mail, 'Transférer plutôt à ce service')) : null,
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
