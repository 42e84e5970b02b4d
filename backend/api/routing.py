"""Orientation: a suggested category and service for a mail, from the administrator's list.

``POST /api/v1/routing/suggest`` answers JSON (not a stream: the answer is one short
object). ``GET /api/v1/routing/services`` lists the configured services so the pane can
show them next to the suggestion.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from ..auth import ROLE_ADMIN, ROLE_GREFFIER, current_user, require_roles
from ..errors import ValidationError
from ..usecases import orientation
from .openapi import NOT_BLANK, error_responses

bp = Blueprint("routing", __name__)

MAX_FIELD_CHARS = 200_000


def _text_field(body: dict[str, Any], name: str) -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(name, f"Le champ « {name} » doit être du texte.")
    if len(value) > MAX_FIELD_CHARS:
        raise ValidationError(name, f"Le champ « {name} » est trop long pour être analysé.")
    return value


@bp.post("/api/v1/routing/suggest")
@require_roles(ROLE_GREFFIER, ROLE_ADMIN)
def suggest():
    """Suggest a category and a service for the mail in the body ({"subject", "text"})."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError("body", "Le corps de la requête doit être un objet JSON.")
    subject = _text_field(body, "subject")
    text = _text_field(body, "text")
    if not subject.strip() and not text.strip():
        raise ValidationError("text", "Le message est vide : rien à orienter.")
    suggestion = orientation.suggest(current_user(), current_app.config, subject, text)
    return jsonify(suggestion.to_dict(current_app.config))


@bp.get("/api/v1/routing/services")
@require_roles(ROLE_GREFFIER, ROLE_ADMIN)
def list_services():
    """The services and categories Orientation chooses from."""
    config = current_app.config
    return jsonify(services=[s.to_dict() for s in orientation.services(config)],
                   categories=orientation.categories(config))


_LIMIT = f"At most {MAX_FIELD_CHARS:,} characters (400 beyond)"
_ERRORS = error_responses({"400": "Invalid body", "401": "Not signed in", "403": "Role not allowed"})

OPENAPI = {
    "/api/v1/routing/suggest": {"post": {
        "summary": "Suggest a category and a service for a mail (Orientation)",
        "tags": ["outlook"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object",
            "description": "The mail: its subject or its text, at least one not blank",
            "anyOf": [{"required": ["subject"], "properties": {"subject": {
                          "type": "string", "pattern": NOT_BLANK}}},
                      {"required": ["text"], "properties": {"text": {
                          "type": "string", "pattern": NOT_BLANK}}}],
            # The 200,000-character limit of each field is stated in words: as a maxLength it
            # asks fuzzers for 200,001-character examples of what is refused.
            "properties": {"subject": {"type": ["string", "null"], "description": _LIMIT},
                           "text": {"type": ["string", "null"], "description": _LIMIT}}}}}},
        "responses": {
            "200": {"description": "The suggestion", "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {
                    "category": {"type": ["string", "null"]},
                    "service": {"type": ["string", "null"]},
                    "reason": {"type": "string", "description": "Why, in French"},
                    "method": {"type": "string", "enum": ["modele", "mots-cles"]},
                    "matched_keywords": {"type": "array", "items": {"type": "string"}},
                    "notice": {"type": ["string", "null"]},
                    "model": {"type": ["string", "null"]},
                    "service_address": {"type": ["string", "null"],
                                        "description": "The service's address, when configured"},
                    "alternative": {"type": ["string", "null"], "description": "Second-best service"},
                    "alternative_address": {"type": ["string", "null"]}}}}}},
            **_ERRORS}}},
    "/api/v1/routing/services": {"get": {
        "summary": "The services and categories Orientation chooses from",
        "tags": ["outlook"],
        "responses": {"200": {"description": "Services and categories"},
                      "401": {"description": "Not signed in"}, "403": {"description": "Role not allowed"}}}},
}
