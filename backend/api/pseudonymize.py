"""Pseudonymisation: ``POST /api/v1/pseudonymize`` with ``{"text": "…"}``.

Any tool of the ministry may call it: the answer lists what was replaced (with Python
code-point offsets into the text sent), the pseudonymised text, and what was kept.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from ..auth import current_user
from ..pseudonymize import CATEGORIES
from ..usecases import pseudonymize as pseudonymize_usecase
from .edges import body_limit
from .openapi import NOT_BLANK, error_responses

bp = Blueprint("pseudonymize", __name__)

# The JSON of the longest text accepted (600 000 characters), escapes included.
BODY_LIMIT = 4 * 1024 * 1024


@bp.post("/api/v1/pseudonymize")
@body_limit(BODY_LIMIT)
def pseudonymize():
    """Replace what identifies a natural person; keep professionals, courts and institutions."""
    answer, interaction_id = pseudonymize_usecase.pseudonymize(current_user(), request.get_json(silent=True))
    response = jsonify(answer)
    response.headers["X-Interaction-Id"] = interaction_id
    return response


_SPAN = {
    "type": "object",
    "required": ["start", "end", "text", "category"],
    "properties": {
        "start": {"type": "integer", "description": "Offset in the text sent, in Unicode code points "
                                                    "(Python string indices), inclusive"},
        "end": {"type": "integer", "description": "Offset, exclusive"},
        "text": {"type": "string", "description": "The text at [start, end)"},
        "category": {"type": "string"},
    },
}
ENTITY_SCHEMA = {
    **_SPAN,
    "required": ["start", "end", "text", "category", "replacement", "entity_id"],
    "properties": {
        **_SPAN["properties"],
        "category": {"type": "string", "enum": list(CATEGORIES)},
        "replacement": {"type": "string", "examples": ["[A]", "[Adresse 1]", "[Localité 2]",
                                                      "[Date de naissance 1]"]},
        "entity_id": {"type": "string", "description": "Same for every mention of one person, place "
                                                       "or value (« personne:A », « adresse:1 »)"},
    },
}
KEPT_SCHEMA = {
    **_SPAN,
    "properties": {
        **_SPAN["properties"],
        "category": {"type": "string", "description": "magistrat, greffier, avocat, expert, auxiliaire, "
                                                      "juridiction, or a category kept on request"},
        "reason": {"type": "string"},
    },
}
OPENAPI = {
    "/api/v1/pseudonymize": {"post": {
        "summary": "Pseudonymise a decision (names, addresses, places, dates of birth, identifiers)",
        "description": "Persons get one letter each ([A], [B]… [Z], [AA]…), other values a number per "
                       "distinct value (« [Adresse 1] »). Magistrates, greffiers, lawyers, experts acting "
                       "as such, courts and their seats, institutions and text already pseudonymised are "
                       "kept. The text is never recorded; the call is recorded as an interaction "
                       "(header `X-Interaction-Id`).",
        "tags": ["pseudonymize"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object",
            "required": ["text"],
            "properties": {
                "text": {"type": "string", "pattern": NOT_BLANK,
                         "maxLength": pseudonymize_usecase.MAX_CHARS},
                "known": {"type": ["array", "null"], "maxItems": pseudonymize_usecase.MAX_KNOWN,
                          "description": "What earlier documents of the same dossier replaced (their "
                                         "`entities`): a known person keeps her letter, a known value "
                                         "its number; new ones take the next free letters and numbers",
                          "items": {"type": "object", "required": ["text", "category", "replacement"],
                                    "properties": {
                                        "text": {"type": "string", "minLength": 1, "maxLength": 300,
                                                 "pattern": NOT_BLANK},
                                        "category": {"type": "string", "enum": list(CATEGORIES)},
                                        "replacement": {"type": "string",
                                                        "pattern": r"^\[[^\[\]\n]{1,40}\]$"}}}},
                "keep": {"type": ["array", "null"],
                         "items": {"type": "string", "enum": list(CATEGORIES)},
                         "description": "Categories to leave in place (listed in `kept`); "
                                        "null or absent: none"},
            }}}}},
        "responses": {
            "200": {"description": "What was replaced, the pseudonymised text, what was kept",
                    "headers": {"X-Interaction-Id": {"schema": {"type": "string"}}},
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "required": ["entities", "text", "kept"],
                        "properties": {"entities": {"type": "array", "items": ENTITY_SCHEMA},
                                       "text": {"type": "string"},
                                       "kept": {"type": "array", "items": KEPT_SCHEMA}}}}}},
            **error_responses({
                "400": "Not a JSON object, text missing, empty or not text, unknown category, malformed "
                       "`known` (`field`)",
                "403": "The user's roles do not include pseudonymisation",
                "413": "Text over 600 000 characters, or body over 4 MB",
                "429": "User quota reached",
            }),
        },
    }},
}
