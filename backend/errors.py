"""One JSON error shape for every 4xx/5xx: ``{"error": code, "message": "…en français…"}``.

Rooms raise subclasses of :class:`AppError`; one handler turns them (and Werkzeug's own
HTTP errors, and unexpected exceptions) into that shape. The message is for the user, in
French; ``detail`` is for the logs, in English, and never leaves the server.

Error tree::

    AppError (500 erreur_interne)
    ├── BadRequest (400 requete_invalide)
    │   └── ValidationError (400 requete_invalide, names the field)
    ├── Unauthorized (401 non_authentifie, WWW-Authenticate)
    ├── Forbidden (403 acces_refuse)
    ├── NotFound (404 introuvable)
    ├── PayloadTooLarge (413 trop_volumineux)
    ├── UnsupportedMediaType (415 format_non_pris_en_charge)
    ├── RateLimited (429 quota_depasse, Retry-After)
    ├── NotConfigured (503 non_configure, names the setting to fill)
    ├── ServiceUnavailable (503 indisponible)
    └── UpstreamError (502 amont_indisponible)
"""
from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, g, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class AppError(Exception):
    """Base of every error a user may see."""

    status = 500
    code = "erreur_interne"
    message = "Une erreur interne est survenue. Réessayez ; si elle persiste, contactez le support."

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 detail: str | None = None, status: int | None = None,
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None):
        self.message = message or self.message
        self.code = code or self.code
        self.status = status or self.status
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(detail or self.message)

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extra}


class BadRequest(AppError):
    status, code = 400, "requete_invalide"
    message = "La requête est invalide."


class ValidationError(BadRequest):
    """A body or query field is missing or malformed; ``field`` names it."""

    def __init__(self, field: str, message: str, **kwargs: Any):
        super().__init__(message, extra={"field": field}, **kwargs)


class Unauthorized(AppError):
    status, code = 401, "non_authentifie"
    message = "Vous devez être connecté pour utiliser Plume. Reconnectez-vous."


class Forbidden(AppError):
    status, code = 403, "acces_refuse"
    message = "Votre rôle ne permet pas d'accéder à cette fonction."


class NotFound(AppError):
    status, code = 404, "introuvable"
    message = "La ressource demandée n'existe pas."


class PayloadTooLarge(AppError):
    status, code = 413, "trop_volumineux"
    message = "Le contenu envoyé est trop volumineux."


class UnsupportedMediaType(AppError):
    status, code = 415, "format_non_pris_en_charge"
    message = "Ce format de fichier n'est pas pris en charge."


class RateLimited(AppError):
    status, code = 429, "quota_depasse"
    message = "Vous avez atteint votre quota. Réessayez plus tard."


class NotConfigured(AppError):
    status, code = 503, "non_configure"
    message = "Cette fonction n'est pas configurée sur ce serveur."


class ServiceUnavailable(AppError):
    status, code = 503, "indisponible"
    message = "Le service est momentanément indisponible. Réessayez dans quelques instants."


class UpstreamError(AppError):
    status, code = 502, "amont_indisponible"
    message = "Le service d'IA ne répond pas correctement. Réessayez dans quelques instants."


# French messages for the errors Werkzeug raises itself (routing, limits, methods).
HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("requete_invalide", "La requête est invalide."),
    401: ("non_authentifie", "Vous devez être connecté pour utiliser Plume."),
    403: ("acces_refuse", "Accès refusé."),
    404: ("introuvable", "La ressource demandée n'existe pas."),
    405: ("methode_non_autorisee", "Cette méthode n'est pas autorisée pour cette adresse."),
    406: ("non_acceptable", "Le format de réponse demandé n'est pas disponible."),
    408: ("delai_depasse", "La requête a pris trop de temps."),
    409: ("conflit", "La requête est en conflit avec l'état actuel de la ressource."),
    411: ("longueur_requise", "La longueur du contenu envoyé doit être indiquée."),
    413: ("trop_volumineux", "Le contenu envoyé est trop volumineux."),
    414: ("adresse_trop_longue", "L'adresse de la requête est trop longue."),
    415: ("format_non_pris_en_charge", "Ce format n'est pas pris en charge."),
    416: ("plage_invalide", "La plage demandée n'est pas disponible."),
    417: ("attente_impossible", "L'en-tête Expect de la requête n'est pas pris en charge."),
    422: ("requete_invalide", "La requête est invalide."),
    429: ("quota_depasse", "Trop de requêtes. Réessayez plus tard."),
    431: ("entetes_trop_volumineux", "Les en-têtes de la requête sont trop volumineux."),
    501: ("non_implemente", "Cette fonction n'est pas prise en charge par le serveur."),
    503: ("indisponible", "Le service est momentanément indisponible."),
}


def error_response(err: AppError) -> Response:
    response = jsonify(err.to_dict())
    response.status_code = err.status
    for name, value in err.headers.items():
        response.headers[name] = value
    return response


def server_error_bytes(status: int, reason: str) -> bytes:
    """A whole HTTP response in the JSON error shape, for errors the server answers before
    the application sees the request."""
    fallback = ((AppError.code, AppError.message) if status >= 500
                else ("requete_invalide", "La requête est invalide."))
    code, message = HTTP_MESSAGES.get(status, fallback)
    body = json.dumps({"error": code, "message": message}, ensure_ascii=False).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


def use_json_for_server_errors() -> None:
    """Make gunicorn answer the requests it refuses itself in the JSON error shape.

    gunicorn refuses a request line over ``limit_request_line`` (a 100 KB query: 414),
    headers over its limits (431) or a malformed request (400) before Plume sees it, with an
    HTML page; the panes and API clients read ``{"error", "message"}``. Called once in each
    worker (``post_worker_init`` in deploy/gunicorn.conf.py).
    """
    from gunicorn import util

    def write_error(sock, status_int, reason, mesg):  # noqa: ANN001 - gunicorn's signature
        log.info("request refused by the server: %s %s", status_int, mesg)
        util.write_nonblock(sock, server_error_bytes(int(status_int), str(reason)))

    util.write_error = write_error


def init_app(app: Flask) -> None:
    """Register the one handler for AppError, Werkzeug errors and unexpected exceptions,
    and the input guards every request meets (:mod:`backend.api.guards`)."""
    from .api import guards

    guards.init_app(app)

    @app.errorhandler(AppError)
    def _app_error(err: AppError) -> Response:
        level = logging.ERROR if err.status >= 500 else logging.INFO
        log.log(level, "request failed: %s", err.detail or err.code,
                extra={"request_id": g.get("request_id"), "error": err.code, "status": err.status})
        return error_response(err)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Response:
        status = err.code or 500
        code, message = HTTP_MESSAGES.get(status, ("erreur_http", "La requête n'a pas pu aboutir."))
        app_error = AppError(message, code=code, status=status, detail=err.description)
        response = error_response(app_error)
        if status == 405 and hasattr(err, "valid_methods") and err.valid_methods:
            response.headers["Allow"] = ", ".join(err.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Response:
        log.exception("unexpected error", extra={"request_id": g.get("request_id")})
        return error_response(AppError(extra={"request_id": g.get("request_id")}))
