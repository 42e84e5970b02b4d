"""The OpenAPI document of the whole API, assembled from each use case's ``OPENAPI``.

Each use case describes its own operations; what every operation may answer because of
layers it shares with all the others is added here, once, so the document stays true as
routes are added: the input guards' 400 and 414 (``guards``), the sign-in's 401 (every
operation not marked ``"security": []``), the body size limits' 413 (``edges``), and the
quota's 429 where it is checked. ``tests/reliability/test_schema_fuzz.py`` runs
schemathesis over the result and fails on any answer it does not announce.
"""
from __future__ import annotations

import copy
from typing import Any

from flask import Blueprint, current_app, jsonify

from .. import __version__

bp = Blueprint("openapi", __name__)

# The body of every JSON error response, for the use cases' OPENAPI dicts.
JSON_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def error_responses(descriptions: dict[str, str]) -> dict[str, Any]:
    """OpenAPI responses for the JSON errors of an operation: status → what it means."""
    return {status: {"description": text, "content": JSON_ERROR}
            for status, text in descriptions.items()}

# Answers of the shared layers (see the module docstring); a use case's own text wins.
COMMON_RESPONSES = {
    "400": "Invalid input (French message; `field` names it): a malformed field, a NUL byte "
           "or a lone surrogate in any text, JSON nested too deep",
    "414": "Address (path and query) longer than 8 KB",
}
SIGNED_IN_RESPONSES = {"401": "Not signed in, or the token was refused (WWW-Authenticate says why)"}
BODY_RESPONSES = {"413": "Body over this route's size limit"}
QUOTA_RESPONSES = {"429": "The user's request or token quota is spent (Retry-After)"}
QUOTA_OPERATIONS = {("/api/v1/assist/{task}", "post"), ("/api/v1/attachments/summarize", "post"),
                    ("/api/v1/search", "get"), ("/api/v1/transcribe", "post"),
                    ("/api/v1/routing/suggest", "post")}

# A text that holds something besides whitespace, whitespace as Python's str.split() and
# str.strip() see it (the server's test), which is wider than the regex class \s.
NOT_BLANK = "[^\t-\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"

# Server-sent events of the streamed answers: each event's name and its data (JSON).
SSE_EVENTS: dict[str, dict[str, Any]] = {
    "delta": {"type": "object", "required": ["text"], "description": "A piece of the answer, "
              "as soon as the model writes it (repeated)",
              "properties": {"text": {"type": "string"}}},
    "progress": {"type": "object", "description": "A long document: parts read so far",
                 "properties": {"done": {"type": "integer"}, "total": {"type": "integer"},
                                "message": {"type": "string"}}},
    "fields": {"type": "object", "description": "mail-summary: parties, case_numbers, dates, "
               "requested_action, each with `verified`"},
    "sources": {"type": "object", "description": "Grounded drafts: the decisions cited",
                "properties": {"sources": {"type": "array"}, "flags": {"type": "array"}}},
    "done": {"type": "object", "required": ["interaction_id"], "description": "The last event "
             "of a whole answer",
             "properties": {"interaction_id": {"type": "string"}, "usage": {"type": "object"},
                            "model": {"type": ["string", "null"]}, "demo": {"type": "boolean"},
                            "finish_reason": {"type": ["string", "null"]}}},
    "error": {"$ref": "#/components/schemas/Error", "description": "The answer broke after it "
              "started (the last event; French message)"},
}


def sse_response(description: str) -> dict[str, Any]:
    """A 200 answered as server-sent events (``text/event-stream``).

    OpenAPI 3.1 has the media type's ``schema`` describe one event (3.2 calls it
    ``itemSchema``): its ``event`` name, and its ``data`` line, JSON of the event's schema.
    """
    events = ", ".join(f"`{name}`" for name in SSE_EVENTS)
    return {"description": f"{description}. Server-sent events ({events}); each `data:` line "
                           "is JSON.",
            "content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/SseEvent"}}}}


SSE_EVENT_SCHEMA = {"oneOf": [
    {"type": "object", "required": ["event", "data"],
     "properties": {"event": {"const": name},
                    "data": {"type": "string", "contentMediaType": "application/json",
                             "contentSchema": {"$ref": f"#/components/schemas/SseEvent_{name}"}}}}
    for name in SSE_EVENTS]}


def _add_shared_responses(paths: dict[str, Any], secured_by_default: bool) -> None:
    for path, operations in paths.items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            shared = dict(COMMON_RESPONSES)
            if operation.get("security", [{}] if secured_by_default else []):
                shared.update(SIGNED_IN_RESPONSES)
            if "requestBody" in operation:
                shared.update(BODY_RESPONSES)
            if (path, method) in QUOTA_OPERATIONS:
                shared.update(QUOTA_RESPONSES)
            for status, text in shared.items():
                responses.setdefault(status, {"description": text, "content": JSON_ERROR})


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "Stable machine-readable code"},
        "message": {"type": "string", "description": "Sentence for the user, in French"},
    },
}


def build_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for module in current_app.extensions["plume.openapi_modules"]:
        for path, operations in getattr(module, "OPENAPI", {}).items():
            paths.setdefault(path, {}).update(copy.deepcopy(operations))
    _add_shared_responses(paths, secured_by_default=True)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Plume API",
            "version": __version__,
            "description": "Assistant IA souverain pour la justice : API du complément Word et Outlook.",
        },
        "servers": [{"url": current_app.config["PUBLIC_URL"]}],
        "components": {
            "schemas": {"Error": ERROR_SCHEMA, "SseEvent": SSE_EVENT_SCHEMA,
                        **{f"SseEvent_{name}": schema for name, schema in SSE_EVENTS.items()}},
            "securitySchemes": {"entra": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
        "security": [{"entra": []}],
        "paths": dict(sorted(paths.items())),
    }


@bp.get("/api/v1/openapi.json")
def openapi_document():
    """This document."""
    return jsonify(build_document())


OPENAPI = {
    "/api/v1/openapi.json": {"get": {"summary": "This OpenAPI document", "tags": ["ops"],
                                     "security": [],
                                     "responses": {"200": {"description": "OpenAPI 3.1"}}}},
}
