"""Hybrid search: French full text and vectors, fused by reciprocal rank, in one SQL query.

The lexical leg ranks passages whose French stems (accents folded) match the query;
the semantic leg ranks passages by cosine distance to the query's embedding. Reciprocal
rank fusion (k = 60) merges both, then each decision keeps its best ``per_decision``
passages. Only decisions the user may see take part: public ones, and private ones
whose ``private_to`` names one of the user's jurisdictions.

pgvector 0.6 applies WHERE clauses *after* the HNSW scan, so a selective filter could
leave nothing of the ``ef_search`` nearest neighbours. The filter's share of passages is
estimated from a small facet table kept in memory; below ``SEARCH_EXACT_BELOW`` passages
the semantic leg compares vectors exactly (through the filter's indexes), otherwise it
widens ``hnsw.ef_search`` in inverse proportion to the share.
"""
from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
from flask import current_app

from .. import db
from ..errors import AppError, ValidationError
from . import lexical, vectors
from .citations import format_citation
from .lexical import fold
from .text import canonical_zone

log = logging.getLogger(__name__)

RRF_K = 60
SEMANTIC_WEIGHT = 0.5  # vector leg vs words (1) in the fusion: sample-corpus hit@1 0.52 -> 0.57, hit@5 0.81 -> 0.86
MAX_K = 50
MAX_PER_DECISION = 5
MAX_QUERY_CHARS = 4000
LEXICAL_CANDIDATE_CAP = 1000  # ts_rank_cd ranks at most this many matching passages
# A short query whose words, each common, are together expected in more than MANY_MATCHES
# passages (the product of their shares, as if independent): the passages ranked would be
# whichever come first among tens of thousands, and reading them is the whole cost (1 M
# passages, two frequent words: p95 115 ms). Its words are then looked for among the
# vector leg's candidates, or, without vectors, in at most COMMON_WORDS_CAP passages.
MANY_MATCHES = 5000
COMMON_WORDS_CAP = 200
BASE_EF_SEARCH = 200  # recall@10 0.76 -> 0.89 at 1M clustered passages for ~1 ms more
MAX_CANDIDATES = 400
MAX_EF_SEARCH = 1000  # pgvector 0.6 refuses more
# ef_search = candidates / share × this: the scan meets 1.5 × the candidates wanted inside the
# filter. 1 M passages, graph built with ef_construction 128, a filter leaving 22 %: recall@10
# 1.000 at 1.5 (ef_search 672) as at 3.0 (1000), search p50 / p95 29-30 / 38-40 ms against
# 43-45 / 52-58 (bench/retrieval.py). An index still built the old way (ef_construction 64,
# before migration 015, until `python -m backend reindex-vectors`) has a sparser graph that
# needs 3.0 (recall@10 ≥ 0.98 at a 20 % filter): the facets tell which one is searched.
EF_WIDENING = 1.5
SPARSE_GRAPH_EF_WIDENING = 3.0
FACETS_TTL = 300.0


@dataclass(frozen=True)
class Filters:
    """Validated search filters (all optional)."""

    jurisdiction: str | None = None   # prefix: « Cour d'appel » or « Cour d'appel de Lyon »
    chamber: str | None = None        # words in the chamber's name: « sociale »
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    solution: str | None = None       # words in the solution: « cassation »
    zone: str | None = None           # motivations, dispositif, …

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None) -> "Filters":
        """Filters from query parameters, with a French 400 naming a bad field."""
        raw = raw or {}

        def text(name: str) -> str | None:
            value = raw.get(name)
            if value is None or str(value).strip() == "":
                return None
            value = " ".join(str(value).split())
            if len(value) > 200:
                raise ValidationError(name, f"Le filtre « {name} » est trop long.")
            return value

        def date(name: str) -> dt.date | None:
            value = raw.get(name)
            if value in (None, ""):
                return None
            if isinstance(value, dt.date):
                return value
            try:
                return dt.date.fromisoformat(str(value))
            except ValueError:
                raise ValidationError(name, f"La date « {name} » doit être au format AAAA-MM-JJ.") from None

        zone = text("zone")
        if zone is not None:
            canonical = canonical_zone(zone)
            if canonical is None:
                raise ValidationError("zone", "Zone inconnue : choisissez introduction, expose, moyens, "
                                              "motivations, dispositif, annexes ou texte.")
            zone = canonical
        filters = cls(text("jurisdiction"), text("chamber"), date("date_from"), date("date_to"),
                      text("solution"), zone)
        if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
            raise ValidationError("date_from", "La date de début est postérieure à la date de fin.")
        return filters

    def decision_filters(self) -> bool:
        return any((self.jurisdiction, self.chamber, self.date_from, self.date_to, self.solution))

    def any(self) -> bool:
        return self.decision_filters() or self.zone is not None

    def sql(self) -> tuple[str, dict[str, Any]]:
        """WHERE conditions on ``d`` (decisions) and ``p`` (passages), with parameters."""
        conditions: list[str] = []
        params: dict[str, Any] = {}
        if self.jurisdiction:
            conditions.append("d.jurisdiction_key LIKE %(f_jurisdiction)s")
            params["f_jurisdiction"] = _like_prefix(fold(self.jurisdiction))
        if self.chamber:
            conditions.append("d.chamber_key LIKE %(f_chamber)s")
            params["f_chamber"] = _like_contains(fold(self.chamber))
        if self.solution:
            conditions.append("d.solution_key LIKE %(f_solution)s")
            params["f_solution"] = _like_contains(fold(self.solution))
        if self.date_from:
            conditions.append("d.decision_date >= %(f_date_from)s")
            params["f_date_from"] = self.date_from
        if self.date_to:
            conditions.append("d.decision_date <= %(f_date_to)s")
            params["f_date_to"] = self.date_to
        if self.zone:
            conditions.append("p.zone = %(f_zone)s")
            params["f_zone"] = self.zone
        return (" AND ".join(conditions) or "TRUE"), params


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like_prefix(value: str) -> str:
    return _escape_like(value) + "%"


def _like_contains(value: str) -> str:
    return "%" + "%".join(_escape_like(word) for word in value.split()) + "%"


# --- selectivity --------------------------------------------------------------------

@dataclass
class Facets:
    """Passage counts per (jurisdiction, chamber, solution, year), folded; and per zone."""

    rows: list[tuple[str, str, str, int | None, int]]
    zones: dict[str, int]
    total: int
    ef_widening: float = EF_WIDENING   # SPARSE_GRAPH_EF_WIDENING for an index built the old way
    loaded: float = field(default_factory=time.monotonic)

    def estimate(self, filters: Filters) -> int:
        """How many passages the filters leave (an estimate: dates are prorated by year)."""
        if not filters.any():
            return self.total
        jurisdiction = fold(filters.jurisdiction) if filters.jurisdiction else None
        chamber = fold(filters.chamber).split() if filters.chamber else None
        solution = fold(filters.solution).split() if filters.solution else None
        count = 0.0
        for j, c, s, year, n in self.rows:
            if jurisdiction and not j.startswith(jurisdiction):
                continue
            if chamber and not _in_order(chamber, c):
                continue
            if solution and not _in_order(solution, s):
                continue
            count += n * _year_share(year, filters.date_from, filters.date_to)
        if filters.zone:
            count *= self.zones.get(filters.zone, 0) / max(self.total, 1)
        return math.ceil(count)


def _in_order(words: list[str], value: str) -> bool:
    position = 0
    for word in words:
        found = value.find(word, position)
        if found < 0:
            return False
        position = found + len(word)
    return True


def _year_share(year: int | None, start: dt.date | None, end: dt.date | None) -> float:
    if start is None and end is None:
        return 1.0
    if year is None:
        return 0.0
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    low, high = max(first, start or first), min(last, end or last)
    if high < low:
        return 0.0
    return ((high - low).days + 1) / ((last - first).days + 1)


_facets_lock = threading.Lock()


def facets(max_age: float = FACETS_TTL) -> Facets:
    """This worker's facet table, reloaded when older than ``max_age`` seconds."""
    state = current_app.extensions.setdefault("plume.retrieval.facets", {"facets": None})
    cached: Facets | None = state["facets"]
    if cached is not None and time.monotonic() - cached.loaded < max_age:
        return cached
    with _facets_lock, db.search_connection() as conn:
        rows = conn.execute(
            "SELECT jurisdiction_key, chamber_key, solution_key, "
            "       extract(year FROM decision_date)::int, sum(passage_count)::bigint "
            "FROM decisions GROUP BY 1, 2, 3, 4").fetchall()
        zones = dict(conn.execute(
            "SELECT zone, count(*) FROM passages GROUP BY zone").fetchall())
        dense = vectors.dense_graph(vectors.index_parameters(conn))
    loaded = Facets(rows=[tuple(r) for r in rows], zones=zones,  # type: ignore[misc]
                    total=sum(r[4] for r in rows),
                    ef_widening=EF_WIDENING if dense else SPARSE_GRAPH_EF_WIDENING)
    state["facets"] = loaded
    return loaded


def forget_facets() -> None:
    """Drop the cached facets (after an ingestion changed the corpus)."""
    try:
        current_app.extensions.setdefault("plume.retrieval.facets", {})["facets"] = None
    except RuntimeError:  # outside an app context: nothing cached
        pass


@dataclass(frozen=True)
class Plan:
    """How the semantic leg runs: exactly, or through HNSW with this ef_search."""

    exact: bool
    ef_search: int
    estimated: int


def plan(filters: Filters, candidates: int) -> Plan:
    if not filters.any():
        return Plan(False, max(BASE_EF_SEARCH, candidates), -1)
    table = facets()
    estimated = table.estimate(filters)
    if estimated <= current_app.config.get("SEARCH_EXACT_BELOW", 20000):
        return Plan(True, BASE_EF_SEARCH, estimated)
    share = estimated / max(table.total, 1)
    ef_search = min(MAX_EF_SEARCH, max(BASE_EF_SEARCH, math.ceil(candidates / share * table.ef_widening)))
    return Plan(False, ef_search, estimated)


# --- the query ----------------------------------------------------------------------

VISIBLE = "(d.visibility = 'public' OR d.private_to && %(jurisdictions)s::text[])"

SQL = """
WITH semantic AS (
    -- Ranked in the order the nearest-first scan returns them: ranking "OVER (ORDER BY
    -- distance)" would compute each distance again from the stored (TOASTed) vector.
    SELECT n.id, n.decision_id, row_number() OVER () AS rank
    FROM (SELECT p.id, p.decision_id
          FROM passages p LEFT JOIN decisions d ON d.id = p.decision_id
          WHERE %(use_vectors)s AND p.embedding IS NOT NULL AND {visible} AND {filters}
          ORDER BY {distance}
          LIMIT %(candidates)s) n
),
lexical AS (
    SELECT m.id, m.decision_id,
           row_number() OVER (ORDER BY {rank}(m.tsv, %(rank_tsquery)s::tsquery) DESC, m.id) AS rank
    FROM (SELECT p.id, p.decision_id, p.tsv
          FROM {lexical_source}
          LIMIT %(lexical_cap)s) m
    ORDER BY {rank}(m.tsv, %(rank_tsquery)s::tsquery) DESC, m.id
    LIMIT %(candidates)s
),
fused AS (
    SELECT coalesce(l.id, s.id) AS id, coalesce(l.decision_id, s.decision_id) AS decision_id,
           coalesce(1.0 / (%(rrf_k)s + l.rank), 0)
             + %(semantic_weight)s * coalesce(1.0 / (%(rrf_k)s + s.rank), 0) AS score,
           l.rank AS lexical_rank, s.rank AS semantic_rank
    FROM lexical l FULL OUTER JOIN semantic s ON l.id = s.id
),
ranked AS (
    SELECT f.*, row_number() OVER (PARTITION BY f.decision_id ORDER BY f.score DESC, f.id) AS nth
    FROM fused f
),
best AS (
    SELECT * FROM ranked WHERE nth <= %(per_decision)s ORDER BY score DESC, id LIMIT %(k)s
)
SELECT b.id, b.score, b.lexical_rank, b.semantic_rank, p.zone, p.ordinal, p.start_offset,
       p.end_offset, p.text,
       d.source_id, d.ecli, d.jurisdiction, d.chamber, d.number, d.decision_date, d.solution,
       d.publication, d.summary, d.themes, d.source, d.visibility
FROM best b JOIN passages p ON p.id = b.id JOIN decisions d ON d.id = p.decision_id
ORDER BY b.score DESC, b.id
"""


# The passages holding each of the query's lexemes, and all the passages, at the last count
# (a lexeme no passage held then is missing).
LEXEME_COUNTS = """
SELECT c.lexeme, c.passages, t.passages FROM lexeme_counts c CROSS JOIN lexeme_counts_total t
 WHERE c.lexeme = ANY(%(lexemes)s) AND t.passages > 0
"""


def _lexeme_shares(conn, lexemes: frozenset[str]) -> tuple[dict[str, float], int]:
    """The share of passages holding each of ``lexemes`` (those no passage held at the last
    count are missing), and how many passages that count saw (0: no count yet)."""
    rows = conn.execute(LEXEME_COUNTS, {"lexemes": sorted(lexemes)}).fetchall()
    total = rows[0][2] if rows else 0
    return {lexeme: passages / total for lexeme, passages, _ in rows}, total


HIDDEN = ("SELECT EXISTS (SELECT 1 FROM decisions WHERE visibility = 'private' "
          "AND NOT private_to && %(jurisdictions)s::text[])")


# Where the words are looked for: every passage the user may see (through the full-text
# index), or only the vector leg's candidates (see build_sql).
EVERY_PASSAGE = ("passages p LEFT JOIN decisions d ON d.id = p.decision_id "
                 "WHERE %(use_words)s AND p.tsv @@ %(tsquery)s::tsquery AND {visible} AND {filters}")
SEMANTIC_CANDIDATES = ("semantic s JOIN passages p ON p.id = s.id "
                       "WHERE %(use_words)s AND p.tsv @@ %(tsquery)s::tsquery")


def build_sql(exact: bool, filters_sql: str, hidden: bool = True, selection: bool = False,
              common_words: bool = False) -> str:
    """The query; with ``hidden`` False (no private decision hidden from the user) and no
    filter on decisions, PostgreSQL removes the LEFT JOIN to decisions from both legs.

    A short query's matches are ranked by cover density (``ts_rank_cd``: its words close
    together). A selection's matches (passages holding two of its telling words) are
    ranked by how often they hold any of its words (``ts_rank``): the telling words choose
    the passages, all the words weigh them, so a passage about the selection's subject
    comes before one that shares two rarer but incidental words with it. On the sample
    corpus's 304 selections: hit@1 0.80, hit@10 0.99 (0.75 / 1.00 with ``ts_rank_cd`` over
    the pairs, which costs ten times more at 1 M passages).

    With ``common_words`` (a short query of common words, see MANY_MATCHES, and vectors
    taking part) the words are only looked for among the vector leg's candidates: tens of
    thousands of passages hold them, the full-text index would read all of them and rank
    whichever came first, while the vectors already say which passages are about the query."""
    # "+ 0" keeps the planner off the HNSW index: an exact scan through the filter's indexes.
    distance = "(p.embedding <=> %(vector)s) + 0" if exact else "p.embedding <=> %(vector)s"
    visible = VISIBLE if hidden else "TRUE"
    source = SEMANTIC_CANDIDATES if common_words else EVERY_PASSAGE.format(visible=visible,
                                                                            filters=filters_sql)
    return SQL.format(visible=visible, filters=filters_sql, distance=distance, lexical_source=source,
                      rank="ts_rank" if selection else "ts_rank_cd")


@dataclass
class SearchResult:
    hits: list[dict[str, Any]]
    semantic: bool                 # vectors took part
    notice: str | None = None      # French, when results are degraded
    plan: Plan | None = None


def _user_jurisdictions(user: Any) -> list[str]:
    return sorted(getattr(user, "jurisdictions", None) or [])


def run(query: str, user: Any, k: int = 10, filters: Filters | None = None,
        per_decision: int = 1, vector: np.ndarray | None = None,
        use_vectors: bool = True) -> SearchResult:
    """The hybrid search. ``vector`` is the query embedding (None: lexical only)."""
    query = " ".join((query or "").split())
    if not query:
        raise ValidationError("q", "Saisissez une question ou sélectionnez un passage à rechercher.")
    if len(query) > MAX_QUERY_CHARS:
        query = query[:MAX_QUERY_CHARS]
    if not 1 <= k <= MAX_K:
        raise ValidationError("k", f"Le nombre de résultats doit être compris entre 1 et {MAX_K}.")
    if not 1 <= per_decision <= MAX_PER_DECISION:
        raise ValidationError("per_decision", "Le nombre de passages par décision doit être "
                                              f"compris entre 1 et {MAX_PER_DECISION}.")
    filters = filters or Filters()
    # Passages of one decision resemble each other: fetch enough to fill k distinct decisions.
    candidates = min(MAX_CANDIDATES, max(100, 8 * k * per_decision))
    semantic = use_vectors and vector is not None
    chosen = plan(filters, candidates) if semantic else Plan(False, BASE_EF_SEARCH, -1)
    filters_sql, params = filters.sql()
    long_query = lexical.is_selection(query)
    params.update({
        "candidates": candidates,
        "use_vectors": semantic, "vector": vector if semantic else np.zeros(384, dtype=np.float32),
        "rrf_k": RRF_K, "semantic_weight": SEMANTIC_WEIGHT, "per_decision": per_decision, "k": k,
        "jurisdictions": _user_jurisdictions(user),
    })
    with db.search_connection() as conn:
        words = lexical.stems(query)
        shares, counted = _lexeme_shares(conn, words)
        tsquery, stems = lexical.query(query, shares if long_query else None)
        common = not long_query and bool(stems) and counted * math.prod(
            shares.get(stem, 0.0) for stem in stems) > MANY_MATCHES
        params.update({"tsquery": tsquery, "use_words": tsquery is not None,
                       "rank_tsquery": lexical.any_of(words) if long_query else tsquery,
                       "lexical_cap": COMMON_WORDS_CAP if common else LEXICAL_CANDIDATE_CAP})
        with conn.transaction():
            # JIT compiling this query costs more than running it; parallel workers cost
            # more than they save on a few cores shared by every request.
            conn.execute("SELECT set_config('hnsw.ef_search', %(ef)s, true), "
                         "set_config('jit', 'off', true), "
                         "set_config('max_parallel_workers_per_gather', '0', true)",
                         {"ef": str(chosen.ef_search)})
            hidden = conn.execute(HIDDEN, params).fetchone()[0]
            # Never a prepared statement: a generic plan cannot use the jurisdiction prefix
            # index nor weigh the query's words, both of which decide the right plan.
            sql = build_sql(chosen.exact, filters_sql, hidden, long_query, common and semantic)
            rows = conn.execute(sql, params, prepare=False).fetchall()
            if long_query and len(stems) > 1 and all(row[2] is None for row in rows):
                # No passage holds two of the selection's telling words: any one will do.
                params["tsquery"] = lexical.any_of(stems)
                rows = conn.execute(sql, params, prepare=False).fetchall()
    hits = []
    for (passage_id, score, lexical_rank, semantic_rank, zone, ordinal, start, end, text,
         source_id, ecli, jurisdiction, chamber, number, date, solution, publication,
         summary, themes, source, visibility) in rows:
        hits.append({
            "passage_id": passage_id,
            "decision_id": source_id,
            "citation": format_citation(jurisdiction, chamber, date, number),
            "zone": zone,
            "ordinal": ordinal,
            "start": start,
            "end": end,
            "text": text,
            "marks": lexical.marks(text, stems) if lexical_rank is not None else [],
            "score": round(float(score), 6),
            "lexical_rank": lexical_rank,
            "semantic_rank": semantic_rank,
            "decision": {
                "id": source_id, "ecli": ecli, "jurisdiction": jurisdiction, "chamber": chamber,
                "number": number, "date": date.isoformat() if date else None,
                "solution": solution, "publication": publication, "summary": summary,
                "themes": list(themes or []), "source": source, "visibility": visibility,
            },
        })
    return SearchResult(hits=hits, semantic=semantic, plan=chosen)


def embed_query(query: str) -> tuple[np.ndarray | None, str | None]:
    """The query's embedding, or (None, French notice) when semantic search cannot run."""
    from . import get_embedder, vectors_ready

    if not vectors_ready():
        return None, ("Les vecteurs des passages sont en cours de calcul : résultats par mots "
                      "seulement pour l'instant.")
    try:
        vector = get_embedder().embed([" ".join(query.split())[:2000]], kind="query")[0]
        return vector, None
    except AppError as exc:
        log.warning("query embedding failed; lexical search only", extra={"error": exc.detail})
        return None, "La recherche sémantique est momentanément indisponible : résultats par mots seulement."
