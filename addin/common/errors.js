/**
 * French error descriptions: every failure a pane can meet becomes a short title, the server's
 * own French sentence when it sent one, and what the user can do about it; shown as a
 * message bar by {@link module:common/messagebar}.
 * @module common/errors
 */
import { ApiError, CLIENT_ERROR_CODES } from './api.js';
import { messageBar, problemOf } from './messagebar.js';

/**
 * @typedef {object} ErrorDescription
 * @property {string} title Short French title.
 * @property {string} message What happened (French).
 * @property {string} action What to do (French).
 * @property {string} code Machine code, for tests and support.
 */

/**
 * Formats a delay in seconds as French words (« 45 secondes », « 2 minutes »).
 * @param {number} seconds
 * @returns {string}
 */
export function formatDelay(seconds) {
  if (seconds < 60) return `${seconds} seconde${seconds > 1 ? 's' : ''}`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} minute${minutes > 1 ? 's' : ''}`;
  const hours = Math.ceil(minutes / 60);
  return `${hours} heure${hours > 1 ? 's' : ''}`;
}

/**
 * Turns any error (ApiError, Office.js error, anything thrown) into French words.
 * @param {*} err
 * @returns {ErrorDescription}
 */
export function describeError(err) {
  if (err instanceof ApiError) return describeApiError(err);
  if (err && err.name === 'AbortError') {
    return { code: CLIENT_ERROR_CODES.stopped, title: 'Génération arrêtée', message: 'Vous avez arrêté la génération.', action: '' };
  }
  if (isOfficeError(err)) {
    return {
      code: `office_${err.code || 'erreur'}`,
      title: "Word n'a pas pu faire l'opération",
      message: officeMessage(err),
      action: "Vérifiez que le document n'est pas en lecture seule ou protégé, puis réessayez.",
    };
  }
  return {
    code: 'erreur_inattendue',
    title: 'Erreur inattendue',
    message: "Une erreur inattendue s'est produite dans le volet Plume.",
    action: 'Fermez puis rouvrez le volet ; si cela se reproduit, prévenez le support.',
  };
}

function describeApiError(err) {
  const server = err.userMessage;
  const base = { code: err.code };
  if (err.midStream) {
    return {
      ...base,
      title: 'La génération a été interrompue',
      message: server || 'Le service d\'IA a interrompu sa réponse.',
      action: 'Relancez la demande pour obtenir une réponse complète.',
    };
  }
  switch (err.code) {
    case CLIENT_ERROR_CODES.network:
      return {
        ...base,
        title: 'Serveur injoignable',
        message: 'Impossible de joindre le serveur Plume : vérifiez votre connexion au réseau de la Justice (ou au VPN).',
        action: 'Vérifiez votre connexion au réseau de la Justice (ou au VPN), puis réessayez.',
      };
    case CLIENT_ERROR_CODES.interrupted:
      return {
        ...base,
        title: 'Réponse interrompue',
        message: server || 'La connexion a été coupée pendant la réponse.',
        action: 'Vérifiez votre connexion réseau puis relancez la demande.',
      };
    case CLIENT_ERROR_CODES.authUnavailable:
      return {
        ...base,
        title: 'Connexion impossible',
        message: server,
        action: 'Fermez puis rouvrez le volet ; si cela se reproduit, prévenez le support informatique.',
      };
    default:
      break;
  }
  switch (err.status) {
    case 401:
      return {
        ...base,
        title: 'Connexion requise',
        message: server || 'Votre session a expiré ou vous n\'êtes pas connecté.',
        action: 'Reconnectez-vous : fermez puis rouvrez le volet Plume, et identifiez-vous avec votre compte Justice.',
      };
    case 403:
      return {
        ...base,
        title: 'Accès refusé',
        message: server || 'Votre rôle ne permet pas d\'utiliser cette fonction.',
        action: 'Si vous devez y accéder, demandez à votre administrateur Plume de vous attribuer le rôle adéquat.',
      };
    case 413:
      return {
        ...base,
        title: 'Contenu trop volumineux',
        message: server || 'Le contenu envoyé est trop volumineux.',
        action: 'Sélectionnez une partie plus courte du document, ou un fichier plus petit.',
      };
    case 415:
      return {
        ...base,
        title: 'Format non pris en charge',
        message: server || 'Ce format de fichier n\'est pas pris en charge.',
        action: 'Utilisez un fichier audio WAV, MP3, M4A, OGG ou WEBM.',
      };
    case 429: {
      const wait = err.retryAfter != null ? formatDelay(err.retryAfter) : null;
      return {
        ...base,
        title: 'Quota atteint',
        message: server || 'Vous avez atteint votre quota d\'utilisation.',
        action: wait ? `Réessayez dans ${wait}.` : 'Réessayez un peu plus tard.',
      };
    }
    case 502:
      return {
        ...base,
        title: 'Service d\'IA indisponible',
        message: server || 'Le service d\'IA ne répond pas correctement.',
        action: 'Réessayez dans quelques instants ; si le problème persiste, prévenez le support informatique.',
      };
    case 503:
      if (err.code === 'non_configure') {
        return {
          ...base,
          title: 'Fonction non configurée',
          message: server || 'Cette fonction n\'est pas configurée sur ce serveur.',
          action: 'Transmettez ce message à l\'administrateur de Plume : un réglage du serveur doit être renseigné.',
        };
      }
      return {
        ...base,
        title: 'Service momentanément indisponible',
        message: server || 'Le service est momentanément indisponible.',
        action: err.retryAfter != null ? `Réessayez dans ${formatDelay(err.retryAfter)}.` : 'Réessayez dans quelques instants.',
      };
    default:
      break;
  }
  if (err.status >= 400 && err.status < 500) {
    return {
      ...base,
      title: 'Demande refusée',
      message: server || 'Le serveur a refusé la demande.',
      action: 'Vérifiez les informations saisies puis réessayez.',
    };
  }
  return {
    ...base,
    title: 'Erreur du serveur',
    message: server || 'Le serveur Plume a rencontré une erreur.',
    action: 'Réessayez ; si l\'erreur persiste, prévenez le support informatique.',
  };
}

function isOfficeError(err) {
  return Boolean(err && (err.name === 'OfficeExtension.Error' || err.debugInfo || (typeof OfficeExtension !== 'undefined' && err instanceof OfficeExtension.Error)));
}

function officeMessage(err) {
  switch (err.code) {
    case 'AccessDenied':
      return 'Le document refuse la modification (il est peut-être protégé ou en lecture seule).';
    case 'ItemNotFound':
      return 'L\'élément visé n\'existe plus dans le document.';
    case 'ApiNotFound':
    case 'NotImplemented':
      return 'Votre version de Word ne prend pas en charge cette opération.';
    default:
      return 'Word a refusé l\'opération demandée.';
  }
}

/**
 * The message bar for `err` (see {@link module:common/messagebar}): icon, one sentence, one action.
 * @param {*} err
 * @param {{onRetry?: () => void}} [handlers] What « Réessayer » (or « Se reconnecter ») runs again.
 * @returns {HTMLElement}
 */
export function renderError(err, handlers = {}) {
  return messageBar(problemOf(err, describeError(err)), handlers);
}

/**
 * Replaces the content of `container` with the message bar for `err`.
 * @param {HTMLElement} container
 * @param {*} err
 * @param {{onRetry?: () => void}} [handlers]
 * @returns {ErrorDescription}
 */
export function showError(container, err, handlers = {}) {
  container.replaceChildren(renderError(err, handlers));
  container.hidden = false;
  return describeError(err);
}
