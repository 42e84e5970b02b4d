"""The OpenAPI document of the whole API, assembled from each use case's ``OPENAPI``."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

from ..version import __version__

bp = Blueprint("openapi", __name__)

# The body of every JSON error response, for the use cases' OPENAPI dicts.
JSON_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def error_responses(descriptions: dict[str, str]) -> dict[str, Any]:
    """OpenAPI responses for the JSON errors of an operation: status → what it means."""
    return {status: {"description": text, "content": JSON_ERROR}
            for status, text in descriptions.items()}

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
            paths.setdefault(path, {}).update(operations)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Plume API",
            "version": __version__,
            "description": "Assistant IA souverain pour la justice : API du complément Word et Outlook.",
        },
        "servers": [{"url": current_app.config["PUBLIC_URL"]}],
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
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
