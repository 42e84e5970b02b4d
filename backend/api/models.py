"""``GET /api/v1/models``: which models answer which task, and whether it is the demo model."""
from __future__ import annotations

from flask import Blueprint, jsonify

from .. import llm
from .openapi import error_responses

bp = Blueprint("models", __name__)


@bp.get("/api/v1/models")
def models():
    """The configured models; ``notice`` is a French sentence to show when set."""
    return jsonify(llm.models_info())


OPENAPI = {
    "/api/v1/models": {"get": {
        "summary": "Models per task, demo flag and notice for the panes",
        "tags": ["assist"],
        "responses": {"200": {"description": "{\"models\": [{\"id\", \"tasks\", \"context_tokens\"}], "
                                             "\"default\", \"demo\", \"configured\", \"fallback\", "
                                             "\"notice\"}"},
                      **error_responses({"502": "The host could not list its models"})}}},
}
