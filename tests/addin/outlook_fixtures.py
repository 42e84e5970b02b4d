"""Outlook pieces of the browser tests: the mail on screen and a fake model that answers
each mail task the way a real one would.

Helpers and data only: the ``outlook`` fixture lives in ``tests/addin/conftest.py``, beside
``plume``, ``open_pane`` and ``screenshot``. The mailbox mock is ``outlook_mock.js``;
the scenario (subject, body, attachments, mode) is passed as ``window.__outlookScenario``.
"""
from __future__ import annotations

import base64
import json
from typing import Any, Callable

from tests.api.attachment_files import make_docx, make_encrypted_pdf, make_pdf

PANE = "/addin/outlook/"
MOCK = "outlook_mock.js"

# What tells each prompt apart (the gateway's prompt files).
FIELDS_PROMPT = "relever dans un courriel les informations structurées"
SUMMARY_PROMPT = "résumer un courriel reçu"
ATTACHMENT_PROMPT = "résumer une pièce jointe"
REPLY_PROMPT = "Tu es Plume"
ROUTING_PROMPT = "proposer l'orientation d'un courriel"

POSTPONEMENT_MAIL = {
    "mode": "read",
    "subject": "Demande de renvoi – RG n° 24/01234",
    "from": {"displayName": "Maître Claire Martin", "emailAddress": "c.martin@avocats.example.fr"},
    "dateTimeCreated": "2026-02-02T08:15:00Z",
    "conversationId": "AAQkADemande-renvoi",
    "body": (
        "Madame, Monsieur le greffier,\n\n"
        "Dans l'affaire opposant M. Jean Dupont à la société Immobilière du Rhône (RG n° 24/01234), "
        "je sollicite le renvoi de l'audience du 12 mars 2026, mon client étant hospitalisé.\n"
        "Mes conclusions seront déposées avant le 15/02/2026.\n\n"
        "Je vous prie d'agréer, Madame, Monsieur, l'expression de ma considération distinguée.\n"
        "Maître Claire Martin\n\n"
        "-----Message d'origine-----\n"
        "De : Greffe civil <greffe.civil@justice.fr>\n"
        "Objet : Avis d'audience\n"
        "L'affaire est appelée à l'audience du 12 mars 2026 à 9 h 30."
    ),
}

SUMMARY_TEXT = ("Maître Claire Martin, avocate de M. Jean Dupont, demande le **renvoi** de l'audience "
                "du 12 mars 2026 (RG n° 24/01234) : son client est hospitalisé.\n"
                "- Conclusions annoncées avant le 15/02/2026.\n"
                "- Le fil cite l'avis d'audience du greffe civil.")

FIELDS = {
    "parties": [{"nom": "M. Jean Dupont", "qualite": "demandeur"},
                {"nom": "société Immobilière du Rhône", "qualite": "défenderesse"}],
    "numeros": [{"type": "rg", "valeur": "24/01234"},
                # Not in the mail: a model's invention the pane must not show as certain.
                {"type": "pourvoi", "valeur": "22-19.876"}],
    "dates": [{"texte": "12 mars 2026", "iso": "2026-03-12", "objet": "Audience", "delai": False},
              {"texte": "15/02/2026", "iso": "2026-02-15", "objet": "Dépôt des conclusions", "delai": True},
              {"texte": "20 avril 2026", "iso": "2026-04-20", "objet": "Nouvelle audience", "delai": False}],
    "action_demandee": "Renvoi de l'audience du 12 mars 2026",
}


def system_prompt(request: dict[str, Any]) -> str:
    return next((m["content"] for m in request.get("messages", []) if m.get("role") == "system"), "")


def user_prompt(request: dict[str, Any]) -> str:
    return next((m["content"] for m in request.get("messages", []) if m.get("role") == "user"), "")


def mail_model(*, summary: str = SUMMARY_TEXT, fields: Any = None, reply: str = "",
               attachment: Callable[[str], str] | None = None,
               routing: dict[str, str] | None = None) -> Callable[[dict], str]:
    """A reply function for ``fake_llm.reply`` that answers each mail task in its own way."""

    def answer(request: dict[str, Any]) -> str:
        system = system_prompt(request)
        if FIELDS_PROMPT in system:
            return json.dumps(FIELDS if fields is None else fields, ensure_ascii=False)
        if ROUTING_PROMPT in system:
            return json.dumps(routing or {}, ensure_ascii=False)
        if ATTACHMENT_PROMPT in system:
            return attachment(user_prompt(request)) if attachment else "Pièce jointe résumée (p. 1)."
        if SUMMARY_PROMPT in system:
            return summary
        return reply or "Réponse générique."

    return answer


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def attachments_scenario() -> list[dict[str, Any]]:
    """A .docx and a .pdf Plume reads, a password-protected PDF, a photo it does not read,
    and a PDF Outlook itself fails to hand over."""
    return [
        {"id": "att-docx", "name": "conclusions.docx", "content": b64(make_docx()),
         "contentType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
        {"id": "att-pdf", "name": "ordonnance.pdf", "content": b64(make_pdf()), "contentType": "application/pdf"},
        {"id": "att-locked", "name": "protege.pdf", "content": b64(make_encrypted_pdf()),
         "contentType": "application/pdf"},
        {"id": "att-photo", "name": "photo.jpg", "content": b64(b"\xff\xd8\xff\xe0 jpeg"), "contentType": "image/jpeg"},
        {"id": "att-broken", "name": "bordereau.pdf", "error": "Internal Error", "size": 2048,
         "contentType": "application/pdf"},
    ]


def outlook_calls(page: Any, name: str | None = None) -> list[dict[str, Any]]:
    """The mailbox calls the pane made (all, or those named ``name``)."""
    calls = page.evaluate("window.__outlookCalls")
    return [c for c in calls if name is None or c["name"] == name]


def chat_requests(fake_llm: Any) -> list[dict[str, Any]]:
    return [r.json for r in fake_llm.requests if r.path.endswith("/chat/completions")]
