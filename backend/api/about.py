"""``GET /api/v1/about``: what the « À propos de Plume » page tells users.

Which model and host answer, what the sources are, what the assistant must not be used
for, and how records are kept: read from the configuration, so the page says what this
server really does. The host is given by name only (never a key or a path).
"""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify

from .. import retrieval
from ..version import __version__

log = logging.getLogger(__name__)

bp = Blueprint("about", __name__)

NOT_FOR = [
    "Prendre une décision à la place d'un magistrat ou d'un greffier : Plume propose, "
    "la personne décide et relit tout texte avant de l'utiliser.",
    "Établir des faits, évaluer la crédibilité d'une personne ou prédire l'issue d'une affaire.",
    "Profiler ou noter des justiciables, des avocats ou des magistrats.",
    "Citer une décision sans l'avoir vérifiée : seules les sources affichées comptent, "
    "une référence non retrouvée est signalée.",
    "Traiter des informations classifiées ou des données que le service n'a pas le droit "
    "de transmettre à l'hébergeur du modèle.",
]

SOURCES = (
    "Les réponses « ancrées » (rédaction, recherche) s'appuient sur des décisions de justice "
    "publiques indexées par Plume ; chaque passage cité est affiché avec sa référence. "
    "Les autres tâches ne travaillent que sur le texte que vous fournissez (document, courriel)."
)

RECORDS = (
    "Chaque utilisation de l'IA est journalisée (règlement européen sur l'IA, art. 12) : date, "
    "identifiant pseudonymisé, rôle, juridiction, tâche, modèle, sources citées, durée, "
    "résultat et vos avis. Le contenu (questions, documents, réponses) n'est pas conservé, "
    "sauf si l'administrateur active explicitement sa journalisation, avec sa propre durée. "
    "Les enregistrements sont chaînés par empreintes, ce qui rend toute modification détectable."
)


def _host(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return parts.hostname


def _decisions() -> int | None:
    try:
        return retrieval.count_decisions()
    except Exception as exc:  # the page must load even when the index is not reachable
        log.warning("decision count unavailable (%s)", type(exc).__name__)
        return None


def about_data() -> dict[str, Any]:
    config = current_app.config
    host = _host(config.get("LLM_BASE_URL"))
    return {
        "product": "Plume",
        "version": __version__,
        "model": {
            "name": config.get("LLM_MODEL"),
            "host": host,
            "configured": bool(host),
            "notice": None if host else (
                "Aucun hébergeur de modèle n'est configuré : les fonctions de rédaction "
                "sont indisponibles ou servies par le modèle local de démonstration."),
        },
        "sources": {"description": SOURCES, "decisions": _decisions()},
        "not_for": NOT_FOR,
        "records": {
            "description": RECORDS,
            "retention_days": config["AUDIT_RETENTION_DAYS"],
            "content_logging": bool(config["AUDIT_CONTENT_LOGGING"]),
            "content_retention_days": (config["AUDIT_CONTENT_RETENTION_DAYS"]
                                       if config["AUDIT_CONTENT_LOGGING"] else None),
        },
    }


@bp.get("/api/v1/about")
def about():
    """Transparency data for the « À propos de Plume » page."""
    return jsonify(about_data())


OPENAPI = {
    "/api/v1/about": {"get": {
        "summary": "Transparency: model and host, sources, limits of use, record-keeping",
        "tags": ["audit"],
        "responses": {"200": {"description": "Transparency data (French texts)"}},
    }},
}
