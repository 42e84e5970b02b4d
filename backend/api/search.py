"""Precedent search: ``GET /api/v1/search?q=…`` over the case law the user may see."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from .. import audit, auth, retrieval
from ..errors import AppError, ValidationError
from .openapi import NOT_BLANK, error_responses

bp = Blueprint("search", __name__)

FILTER_NAMES = ("jurisdiction", "chamber", "date_from", "date_to", "solution", "zone")


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValidationError(name, f"« {name} » doit être un nombre entier.") from None


@bp.get("/api/v1/search")
def search():
    """Hybrid (words + meaning) search; one hit per decision unless ``per_decision`` asks more."""
    user = auth.authorize_task("search")
    auth.check_quota("search")
    filters: dict[str, Any] = {name: request.args.get(name) for name in FILTER_NAMES
                               if request.args.get(name)}
    record = audit.start("search", "search")
    try:
        k = _int_arg("k", 10)
        per_decision = _int_arg("per_decision", 1)
        result = retrieval.search_detailed(request.args.get("q", ""), user, k=k, filters=filters,
                                           per_decision=per_decision)
    except AppError as exc:
        record.finish("error", error_code=exc.code)
        raise
    except Exception:
        record.finish("error", error_code="erreur_interne")
        raise
    record.update(source_ids=[hit["decision_id"] for hit in result.hits],
                  model=retrieval.model_name(current_app.config) if result.semantic else None,
                  host=current_app.config.get("EMBEDDINGS_BASE_URL") if result.semantic else None)
    record.finish("ok")
    return jsonify(interaction_id=record.id, hits=result.hits, semantic=result.semantic,
                   notice=result.notice)


HIT_SCHEMA = {
    "type": "object",
    "properties": {
        "passage_id": {"type": "integer"},
        "decision_id": {"type": "string", "description": "The source's identifier of the decision"},
        "citation": {"type": "string", "examples": ["Cass. com., 18 nov. 2020, n° 19-19.463"]},
        "zone": {"type": "string", "enum": ["introduction", "expose", "moyens", "motivations",
                                             "dispositif", "annexes", "texte"]},
        "ordinal": {"type": "integer"},
        "start": {"type": "integer", "description": "Offset of the passage in the decision text"},
        "end": {"type": "integer"},
        "text": {"type": "string", "description": "Plain text; render as text, never as HTML"},
        "marks": {"type": "array", "items": {"type": "array", "items": {"type": "integer"},
                                             "minItems": 2, "maxItems": 2},
                  "description": "[start, end) offsets in `text` of the words that matched"},
        "score": {"type": "number", "description": "Reciprocal-rank-fusion score"},
        "lexical_rank": {"type": ["integer", "null"]},
        "semantic_rank": {"type": ["integer", "null"]},
        "decision": {"type": "object", "description": "jurisdiction, chamber, number, ecli, date, "
                                                      "solution, publication, summary, themes, source"},
    },
}


# A filter is ignored when empty, refused over 200 characters.
_FILTER = {"type": "string", "maxLength": 200}
ZONES = ("introduction", "expose", "moyens", "motivations", "dispositif", "annexes", "texte")


def _or_empty(schema: dict[str, Any]) -> dict[str, Any]:
    """An argument left empty (a form's blank field) counts as absent."""
    return {"anyOf": [schema, {"type": "string", "maxLength": 0}]}


def _param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


OPENAPI = {
    "/api/v1/search": {"get": {
        "summary": "Search precedents (French full text + vectors, reciprocal rank fusion)",
        "tags": ["retrieval"],
        "parameters": [
            {"name": "q", "in": "query", "required": True,
             "schema": {"type": "string", "pattern": NOT_BLANK},
             "description": "A question or a selected passage (not blank; cut at 4,000 characters)"},
            _param("k", "Number of hits (1-50; empty or absent: 10)", _or_empty(
                {"type": "integer", "minimum": 1, "maximum": 50})),
            _param("per_decision", "Passages per decision (1-5; empty or absent: 1)", _or_empty(
                {"type": "integer", "minimum": 1, "maximum": 5})),
            _param("jurisdiction", "Court name or its beginning (« Cour d'appel »)", _FILTER),
            _param("chamber", "Words of the chamber (« sociale »)", _FILTER),
            _param("date_from", "First date (YYYY-MM-DD), not after date_to",
                   _or_empty({"type": "string", "format": "date"})),
            _param("date_to", "Last date (YYYY-MM-DD)", _or_empty({"type": "string", "format": "date"})),
            _param("solution", "Words of the solution (« cassation »)", _FILTER),
            _param("zone", "Zone of the passage", {"type": "string", "enum": ["", *ZONES]}),
        ],
        "responses": {
            "200": {"description": "Hits, best first",
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {"interaction_id": {"type": "string"},
                                       "hits": {"type": "array", "items": HIT_SCHEMA},
                                       "semantic": {"type": "boolean"},
                                       "notice": {"type": ["string", "null"]}}}}}},
            **error_responses({
                "400": "Missing query or malformed filter (French message, `field`)",
                "403": "The user's roles do not include search",
            }),
        },
    }},
}
