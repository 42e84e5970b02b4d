"""Feedback on an answer: useful or not, an optional comment, what became of the text.

The panes call it after an insertion or a discard and from the 👍/👎 buttons. Each fact
becomes an event in the audit chain, linked to the interaction. A user may only speak of
their own interactions: another user's id answers 403, an unknown one 404.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request

from .. import audit
from ..auth import current_user
from ..errors import Forbidden, NotFound, ValidationError
from .openapi import NOT_BLANK, error_responses

bp = Blueprint("feedback", __name__)

TEXT_OUTCOMES = ("inserted", "edited", "discarded")
MAX_COMMENT_CHARS = 1000


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError("body", "Envoyez un objet JSON.")
    if not isinstance(body.get("interaction_id"), str) or not body["interaction_id"].strip():
        raise ValidationError("interaction_id", "L'identifiant de l'interaction est manquant.")
    useful, comment, outcome = body.get("useful"), body.get("comment"), body.get("outcome")
    if useful is not None and not isinstance(useful, bool):
        raise ValidationError("useful", "« useful » vaut true, false ou null.")
    if comment is not None:
        if not isinstance(comment, str):
            raise ValidationError("comment", "Le commentaire doit être un texte.")
        comment = comment.strip() or None
        if comment and len(comment) > MAX_COMMENT_CHARS:
            raise ValidationError(
                "comment", f"Le commentaire dépasse {MAX_COMMENT_CHARS} caractères.")
    if outcome is not None and outcome not in TEXT_OUTCOMES:
        raise ValidationError("outcome", "« outcome » vaut inserted, edited, discarded ou null.")
    if useful is None and comment is None and outcome is None:
        raise ValidationError("body", "Indiquez au moins un avis, un commentaire ou le sort du texte.")
    return {"interaction_id": body["interaction_id"].strip(), "useful": useful,
            "comment": comment, "outcome": outcome}


@bp.post("/api/v1/feedback")
def post_feedback():
    """Record the user's feedback on one of their own interactions."""
    current_user()
    body = _body()
    interaction = audit.get_interaction(body["interaction_id"])
    if interaction is None:
        raise NotFound("Cette interaction est introuvable (elle a peut-être été purgée).",
                       detail="feedback for an unknown interaction")
    if interaction["user_hash"] != g.user_hash:
        raise Forbidden("Vous ne pouvez donner un avis que sur vos propres interactions.",
                        detail="feedback on another user's interaction")
    events = []
    if body["outcome"]:
        events.append(audit.record_event(str(interaction["id"]), body["outcome"],
                                         user_hash=g.user_hash))
    if body["useful"] is not None or body["comment"]:
        events.append(audit.record_event(str(interaction["id"]), "feedback", user_hash=g.user_hash,
                                         useful=body["useful"], comment=body["comment"]))
    return jsonify(recorded=len(events), message="Merci, votre avis est enregistré."), 201


OPENAPI = {
    "/api/v1/feedback": {"post": {
        "summary": "Feedback on an answer (useful, comment, inserted / edited / discarded)",
        "tags": ["audit"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["interaction_id"],
            "description": "At least one of `useful`, `comment` (not blank) and `outcome`",
            "anyOf": [{"required": ["useful"], "properties": {"useful": {"type": "boolean"}}},
                      {"required": ["comment"], "properties": {"comment": {
                          "type": "string", "pattern": NOT_BLANK}}},
                      {"required": ["outcome"], "properties": {"outcome": {
                          "type": "string"}}}],
            "properties": {
                "interaction_id": {"type": "string", "format": "uuid"},
                "useful": {"type": ["boolean", "null"]},
                "comment": {"type": ["string", "null"], "maxLength": MAX_COMMENT_CHARS,
                            "description": "Free text for the AI Observatory (no personal data)"},
                "outcome": {"type": ["string", "null"], "enum": [*TEXT_OUTCOMES, None]},
            }}}}},
        "responses": {
            "201": {"description": "Recorded"},
            **error_responses({
                "400": "Invalid body",
                "403": "The interaction belongs to another user",
                "404": "Unknown interaction",
            }),
        },
    }},
}
