"""What the Word search pane reads besides the hits: ``GET /api/v1/facets/jurisdictions``, the
courts of the corpus the user may see, and ``GET /api/v1/decisions/<id>``, one decision's whole
text for « Ouvrir la décision » (the pane scrolls to the passage the hit came from).

The Word pane fills its jurisdiction filter from it (free text stays possible: the filter
is a prefix, « Cour d'appel » finds every court of appeal). A court appears when at least
one decision of it is visible to the user, by the search's own rule (public, or private
to one of the user's jurisdictions): a private decision's court is itself information.

Spellings that fold to the same key (« Nîmes » / « Nimes ») are one entry, the commonest
spelling; the filter compares folded text, so either finds the same decisions.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from flask import Blueprint, current_app, jsonify

from .. import auth, db
from ..errors import NotFound
from ..retrieval.citations import format_citation
from ..retrieval.search import VISIBLE
from .openapi import error_responses

bp = Blueprint("facets", __name__)

# One GROUP BY over every decision per call: answers are kept this long per worker, keyed
# by the jurisdictions that decide visibility (a newly ingested court shows within it).
CACHE_SECONDS = 300.0

JURISDICTIONS_SQL = f"""
SELECT DISTINCT ON (d.jurisdiction_key) d.jurisdiction
FROM decisions d
WHERE d.jurisdiction <> '' AND {VISIBLE}
GROUP BY d.jurisdiction_key, d.jurisdiction
ORDER BY d.jurisdiction_key, count(*) DESC, d.jurisdiction"""

_lock = threading.Lock()


def visible_jurisdictions(jurisdictions: list[str]) -> list[str]:
    """Court names of the decisions visible to a user of ``jurisdictions``, in folded order."""
    cache: dict[tuple[str, ...], tuple[float, list[str]]] = current_app.extensions.setdefault(
        "plume.facets.jurisdictions", {})
    key = tuple(sorted(jurisdictions))
    cached = cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    with db.search_connection() as conn:
        names = [row[0] for row in conn.execute(JURISDICTIONS_SQL, {"jurisdictions": list(key)})]
    with _lock:
        cache[key] = (time.monotonic(), names)
    return names


@bp.get("/api/v1/facets/jurisdictions")
def jurisdictions():
    """The jurisdictions the search filter may offer this user."""
    user = auth.authorize_task("search")
    return jsonify(jurisdictions=visible_jurisdictions(list(user.jurisdictions)))


DECISION_SQL = f"""
SELECT d.source_id, d.ecli, d.jurisdiction, d.chamber, d.number, d.decision_date, d.solution,
       d.publication, d.source, d.text, d.zones
FROM decisions d
WHERE d.source_id = %(source_id)s AND {VISIBLE}"""

MAX_ID_CHARS = 200


@bp.get("/api/v1/decisions/<path:decision_id>")
def decision(decision_id: str):
    """One decision the user may see, whole; a private one of another court is « introuvable »
    like an unknown one (its existence is itself information)."""
    user = auth.authorize_task("search")
    row = None
    if len(decision_id) <= MAX_ID_CHARS and "\x00" not in decision_id:
        with db.search_connection() as conn:
            row = conn.execute(DECISION_SQL, {"source_id": decision_id,
                                              "jurisdictions": list(user.jurisdictions)}).fetchone()
    if row is None:
        raise NotFound("Cette décision est introuvable dans la jurisprudence que vous pouvez consulter.",
                       detail="decision not found or not visible")
    (source_id, ecli, jurisdiction, chamber, number, date, solution, publication, source, text,
     zones) = row
    return jsonify(decision_id=source_id, citation=format_citation(jurisdiction, chamber, date, number),
                   ecli=ecli, jurisdiction=jurisdiction, chamber=chamber, number=number,
                   date=date.isoformat() if date else None, solution=solution,
                   publication=publication, source=source, text=text, zones=zones or [])


OPENAPI: dict[str, Any] = {
    "/api/v1/facets/jurisdictions": {"get": {
        "summary": "Courts of the case law the user may see (for the search filter)",
        "tags": ["search"],
        "responses": {
            "200": {"description": "Court names, one per folded spelling, in alphabetical order",
                    "content": {"application/json": {"schema": {
                        "type": "object", "required": ["jurisdictions"],
                        "properties": {"jurisdictions": {
                            "type": "array", "items": {"type": "string"},
                            "examples": [["Cour d'appel de Lyon", "Cour de cassation"]]}}}}}},
            **error_responses({"401": "Not signed in", "403": "The user's roles do not reach search"}),
        },
    }},
    "/api/v1/decisions/{decision_id}": {"get": {
        "summary": "One decision's whole text (« Ouvrir la décision » in the search pane)",
        "tags": ["search"],
        "parameters": [{"name": "decision_id", "in": "path", "required": True,
                        "schema": {"type": "string"},
                        "description": "The hit's `decision_id` (the source's identifier)"}],
        "responses": {
            "200": {"description": "The decision; `start`/`end` of a hit are offsets in `text`",
                    "content": {"application/json": {"schema": {
                        "type": "object", "required": ["decision_id", "citation", "text", "zones"],
                        "properties": {
                            "decision_id": {"type": "string"}, "citation": {"type": "string"},
                            "ecli": {"type": ["string", "null"]},
                            "jurisdiction": {"type": "string"},
                            "chamber": {"type": ["string", "null"]},
                            "number": {"type": ["string", "null"]},
                            "date": {"type": ["string", "null"], "format": "date"},
                            "solution": {"type": ["string", "null"]},
                            "publication": {"type": ["string", "null"]},
                            "source": {"type": ["string", "null"]},
                            "text": {"type": "string", "description": "Plain text; render as text"},
                            "zones": {"type": "array", "items": {"type": "object"}}}}}}},
            **error_responses({"401": "Not signed in", "403": "The user's roles do not reach search",
                               "404": "Unknown decision, or private to another court"}),
        },
    }},
}
