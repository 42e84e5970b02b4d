"""``GET /api/v1/facets/jurisdictions``: the courts of the corpus the user may see.

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
}
