"""Finding a decision by its number, however it is typed.

A magistrate pastes or types a number as it comes: « 23-11537 », « 23 11.537 »,
« pourvoi n°23-11.537 », « n° 23-11.537 », « Pourvoi n° Y 19-19.463 » (with the
registry's letter), an RG number « 21/01234 », a commercial court's « 2022004346 ». Each
is folded to its letters and digits (« 2311537 »), the key migration 025 stores for every
decision (``decisions.number_key``, ``plume_number_key()`` in SQL; a decision joining
several pourvois has one key per number) under a trigram index (``pg_trgm``).

:func:`find_by_number` looks the key up among the decisions the user may see: exact
matches first; without any, near ones (the key inside a longer number, or a trigram
similarity of at least :data:`NEAR_SIMILARITY`: one wrong or missing digit), so a typo
still finds the decision. Each match comes back as a search hit (same shape as
:mod:`.search`'s), holding the passage that names the number. :func:`number_search` is what
``retrieval.search_detailed`` calls first: those hits, then the word search's.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import psycopg

from .. import db
from .search import Filters, SearchResult, make_hit, run

# What may precede a number: « pourvoi n° », « n° RG : », « affaire », « arrêt n° »…
PREFIX = re.compile(
    r"^(?:(?:pourvois?|affaires?|arr[eê]ts?|d[ée]cisions?|jugements?|ordonnances?|dossiers?"
    r"|r[ée]pertoire\s+g[ée]n[ée]ral|rg|num[ée]ros?|nos?\b\.?|n\s*[°º]s?|[°º])\s*[:.]?\s*)+",
    re.IGNORECASE)
# The registry's letter the Cour de cassation writes before a pourvoi (« n° Y 19-19.463 »).
REGISTRY_LETTER = re.compile(r"^[A-Za-z]\s+(?=\d)")
# Digits and letters in at most five groups separated by spaces, dots, dashes or slashes,
# beginning with a digit (« L. 1234-5 » is an article).
NUMBER = re.compile(r"[0-9][0-9A-Za-z]*(?:[\s./-]{1,2}[0-9A-Za-z]+){0,4}")
MIN_DIGITS = 5       # « 1240 » (an article) or « 2020 » (a year) are not decision numbers
MAX_LETTERS = 2      # « 2024G00010 », « 22/01234 B »; words are not numbers
MAX_CHARS = 40
NEAR_SIMILARITY = 0.55   # « 2311537 » vs « 2311538 »: 0.6; vs « 2311500 »: 0.45
EXACT_SCORE = 1.0        # above any fused rank (at most ~0.025): number hits come first


def number_key(number: str) -> str:
    """A number's letters and digits, lower case: what ``plume_number_key()`` stores."""
    return "".join(char for char in number.lower() if char.isalnum())


def looks_like_number(query: str) -> str | None:
    """The folded key of ``query`` if the whole query is a decision number, else None.

    « pourvoi n°23-11.537 », « 23 11.537 », « 23-11537 » → « 2311537 »;
    « 21/01234 » → « 2101234 »; « licenciement 23-11.537 » → None (words around it:
    a search, not a lookup).
    """
    text = " ".join((query or "").split())
    if not text or len(text) > MAX_CHARS:
        return None
    text = PREFIX.sub("", text)
    text = REGISTRY_LETTER.sub("", text).strip(" .:")
    if not NUMBER.fullmatch(text):
        return None
    key = number_key(text)
    digits = sum(char.isdigit() for char in key)
    if digits < MIN_DIGITS or len(key) - digits > MAX_LETTERS:
        return None
    return key


# Who may see a decision: the same rule as search.py's VISIBLE (public, or private to one
# of the user's jurisdictions).
VISIBLE = "(d.visibility = 'public' OR d.private_to && %(jurisdictions)s::text[])"

# The matching decisions, best first: exact key, then the key inside a longer number, then
# by trigram similarity; more recent first among equals. LIKE and % both use the trigram
# index; the regular expression confirms a whole number (not a part of another).
MATCHES = """
SELECT d.id,
       d.number_key ~ %(whole)s AS exact,
       similarity(d.number_key, %(key)s) AS closeness
FROM decisions d
WHERE d.number_key IS NOT NULL AND {visible} AND {decision_filters}
  AND (d.number_key LIKE %(contains)s OR (%(near)s AND d.number_key %% %(key)s))
ORDER BY exact DESC, closeness DESC, d.decision_date DESC NULLS LAST, d.id
LIMIT %(limit)s
"""

# For each decision, the passage that names the number (else its first passage).
PASSAGES = """
SELECT DISTINCT ON (d.id)
       d.id, p.id, p.zone, p.ordinal, p.start_offset, p.end_offset, p.text,
       d.source_id, d.ecli, d.jurisdiction, d.chamber, d.number, d.decision_date, d.solution,
       d.publication, d.summary, d.themes, d.source, d.visibility
FROM decisions d JOIN passages p ON p.decision_id = d.id
WHERE d.id = ANY(%(ids)s) AND {filters}
ORDER BY d.id, p.text !~ %(spelled)s, p.ordinal
"""


def _spelled(key: str) -> str:
    """A regular expression finding the number in a text whatever its separators (the same
    in PostgreSQL and Python), without its word boundaries."""
    return r"[\s./-]{0,2}".join(re.escape(char) for char in key)


def find_by_number(conn: psycopg.Connection, number: str, *,
                   jurisdictions: list[str] | tuple[str, ...] = (), filters: Filters | None = None,
                   limit: int = 10) -> list[dict[str, Any]]:
    """Search hits for the decisions whose number is ``number`` (a query or a folded key).

    Only decisions the user may see take part (public ones, and private ones listing one
    of ``jurisdictions``), within ``filters`` like any search. Exact matches only when
    there are any, else near ones. Each hit has the shape of :func:`.search.run`'s, with
    ``score`` 1.0 for an exact match (the similarity for a near one) and no ranks.
    """
    key = looks_like_number(number) or number_key(number)
    if len(key) < 3 or limit < 1:
        return []
    filters = filters or Filters()
    filters_sql, params = filters.sql()
    decision_filters, _ = replace(filters, zone=None).sql()  # the zone picks the passage
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    params.update({"key": key, "whole": f"(^| ){re.escape(key)}( |$)", "contains": f"%{escaped}%",
                   "near": len(key) >= MIN_DIGITS, "limit": limit,
                   "jurisdictions": sorted(jurisdictions), "spelled": rf"\m{_spelled(key)}\M"})
    sql = MATCHES.format(visible=VISIBLE, decision_filters=decision_filters)
    with conn.transaction():
        conn.execute("SELECT set_config('pg_trgm.similarity_threshold', %(t)s, true)",
                     {"t": str(NEAR_SIMILARITY)})
        # Near numbers only when no exact one: similarity reads many more index entries.
        matches = conn.execute(sql, {**params, "near": False}, prepare=False).fetchall()
        if not any(exact for _, exact, _ in matches) and params["near"]:
            matches = conn.execute(sql, params, prepare=False).fetchall()
    if any(exact for _, exact, _ in matches):
        matches = [row for row in matches if row[1]]
    if not matches:
        return []
    params["ids"] = [row[0] for row in matches]
    rows = {row[0]: row for row in conn.execute(PASSAGES.format(filters=filters_sql), params,
                                                prepare=False).fetchall()}
    hits = []
    for decision_id, exact, closeness in matches:
        if decision_id in rows:
            hits.append(_hit(rows[decision_id], key, EXACT_SCORE if exact else float(closeness)))
    return hits


def _hit(row: tuple, key: str, score: float) -> dict[str, Any]:
    _, passage_id, *columns = row
    text = columns[4]
    pattern = re.compile(rf"(?<![0-9A-Za-z]){_spelled(key)}(?![0-9A-Za-z])", re.IGNORECASE)
    return make_hit(passage_id, tuple(columns), score=score, lexical_rank=None,
                    semantic_rank=None, marks=[[m.start(), m.end()] for m in pattern.finditer(text)])


def number_search(query: str, user: Any, *, k: int, filters: Filters,
                  per_decision: int = 1) -> SearchResult | None:
    """The search of a query that is a decision number: the decisions bearing it first, then
    those the words find (citing it; by words only, a number has no meaning to embed), as
    a :class:`.search.SearchResult`. None when the query is no number, or no decision the
    user may see bears it (the caller then searches as usual)."""
    if looks_like_number(query) is None:
        return None
    jurisdictions = sorted(getattr(user, "jurisdictions", None) or [])
    with db.search_connection() as conn:
        found = find_by_number(conn, query, jurisdictions=jurisdictions, filters=filters, limit=k)
    if not found:
        return None
    result = run(query, user, k=k, filters=filters, per_decision=per_decision)  # validates
    seen = {hit["decision_id"] for hit in found}
    result.hits = (found + [hit for hit in result.hits if hit["decision_id"] not in seen])[:k]
    return result
