"""The whole conversation of a mail, read from Microsoft Graph on behalf of the clerk.

The Outlook summary promises « the thread »; the body of a mail only quotes what its
sender chose to keep. When the server may call Graph (``PLUME_AUTH_CLIENT_SECRET``) and the
pane sends the mail's ``conversation_id``, each message of the conversation is read
(its ``uniqueBody``: what that message added, without the quotes), oldest first. Anything
short of that (no secret, dev sign-in, no consent, Graph down) leaves the quoted text the
pane sent: the summary is still made, and the reason is logged.
"""
from __future__ import annotations

import logging
from typing import Any

from .. import auth
from ..errors import AppError

log = logging.getLogger(__name__)

MAIL_READ = ["https://graph.microsoft.com/Mail.Read"]
MAX_MESSAGES = 50
# The conversation goes to the model like the mail would (map-reduce when it is long).
MAX_THREAD_CHARS = 400_000


def _line(message: dict[str, Any], number: int) -> str:
    sender = (message.get("from") or {}).get("emailAddress") or {}
    who = " ".join(part for part in (sender.get("name"), f"<{sender['address']}>"
                                     if sender.get("address") else None) if part)
    body = ((message.get("uniqueBody") or {}).get("content") or "").strip()
    header = f"Message {number} — de {who or 'expéditeur inconnu'}, le {message.get('receivedDateTime', '?')}"
    subject = message.get("subject")
    return "\n".join(part for part in (header, f"Objet : {subject}" if subject else "", body) if part)


def conversation_text(conversation_id: str) -> str | None:
    """The conversation as text, oldest message first; None to keep the quoted text."""
    if not conversation_id or not auth.graph_configured():
        return None
    quoted_id = conversation_id.replace("'", "''")
    try:
        answer = auth.graph_get("/v1.0/me/messages", scopes=MAIL_READ, params={
            "$filter": f"conversationId eq '{quoted_id}'",
            "$select": "subject,from,receivedDateTime,uniqueBody", "$top": str(MAX_MESSAGES),
        }, headers={"Prefer": 'outlook.body-content-type="text"'})
    except AppError as err:
        log.warning("conversation not read from Graph; quoted text used",
                    extra={"error": err.code, "detail": err.detail})
        return None
    messages = [m for m in answer.get("value") or [] if isinstance(m, dict)]
    if not messages:
        log.info("conversation not found in Graph; quoted text used")
        return None
    messages.sort(key=lambda m: str(m.get("receivedDateTime", "")))
    text = "\n\n".join(_line(m, n) for n, m in enumerate(messages, 1))
    log.info("conversation read from Graph", extra={"messages": len(messages)})
    return text[:MAX_THREAD_CHARS]
