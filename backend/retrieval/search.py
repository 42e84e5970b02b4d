"""Hybrid search: French full text and vectors, fused by reciprocal rank, in one SQL query.

The lexical leg ranks the passages holding the query's words by BM25 (how often each
word occurs in the passage, how rare it is in the corpus, how long the passage is); the
semantic leg ranks passages by cosine distance to the query's embedding, through the
HNSW index scanned until enough passages pass the filters. Reciprocal rank fusion merges
both, then each decision keeps its best ``per_decision`` passages; a third leg ranks the
decisions whose headnote (titrage and sommaire) holds the query's words and adds to their
score, so the decision the court itself filed under the query's subject comes first. Only decisions the
user may see take part: public ones, and private ones whose ``private_to`` names one of
the user's jurisdictions. The figures the query runs with are in :mod:`.tuning`.
"""
from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .. import db
from ..errors import AppError, ValidationError
from ..folding import fold
from . import lexical, tuning
from .citations import format_citation
from .embeddings import DIMENSION
from .text import canonical_zone
from .vectors import get_embedder, vectors_ready

log = logging.getLogger(__name__)

MAX_K = 50
MAX_PER_DECISION = 5
MAX_QUERY_CHARS = 4000


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

    def any(self) -> bool:
        return any((self.jurisdiction, self.chamber, self.date_from, self.date_to, self.solution,
                    self.zone))

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


# --- the query ----------------------------------------------------------------------

VISIBLE = "(d.visibility = 'public' OR d.private_to && %(jurisdictions)s::text[])"

# Read like pgvector-python's examples/hybrid_search/rrf.py: each leg ranks its candidates,
# a full outer join adds 1 / (k + rank) from each. A third leg ranks decisions by their
# headnote (titrage and sommaire, migration 061) and adds to the decision's score.
SQL = """
WITH semantic AS (
    SELECT p.id, p.decision_id, rank() OVER (ORDER BY {distance}) AS rank
    FROM passages p LEFT JOIN decisions d ON d.id = p.decision_id
    WHERE %(use_vectors)s AND p.embedding IS NOT NULL AND {visible} AND {filters}
    ORDER BY {distance}
    LIMIT %(candidates)s
),
lexical AS (
    SELECT m.id, m.decision_id, rank() OVER (ORDER BY m.score DESC, m.id) AS rank
    FROM (SELECT p.id, p.decision_id, {bm25} AS score
          FROM {lexical_source}
          LIMIT %(lexical_cap)s) m
    ORDER BY m.score DESC, m.id
    LIMIT %(candidates)s
),
whole AS (  -- the decisions of the best matches, ranked by BM25 over all their passages
    SELECT w.decision_id, w.id, rank() OVER (ORDER BY w.score DESC, w.decision_id) AS rank
    FROM (SELECT c.decision_id, c.id, {decision_bm25} AS score
          FROM (SELECT l.decision_id, (array_agg(l.id ORDER BY l.rank, l.id))[1] AS id
                FROM lexical l WHERE %(use_whole)s GROUP BY l.decision_id) c) w
    ORDER BY w.score DESC, w.decision_id
    LIMIT %(candidates)s
),
headnote AS (
    SELECT h.decision_id, h.id, rank() OVER (ORDER BY h.score DESC, h.decision_id) AS rank
    FROM (SELECT d.id AS decision_id, ts_rank(d.headnote_tsv, %(tsquery)s::tsquery) AS score,
                 (SELECT p.id FROM passages p WHERE p.decision_id = d.id AND {filters}
                  ORDER BY p.ordinal LIMIT 1) AS id
          FROM decisions d
          WHERE %(use_headnote)s AND d.headnote_tsv @@ %(tsquery)s::tsquery AND {visible}
          LIMIT %(lexical_cap)s) h
    WHERE h.id IS NOT NULL
    ORDER BY h.score DESC, h.decision_id
    LIMIT %(candidates)s
),
fused AS (
    SELECT coalesce(s.id, l.id) AS id, coalesce(s.decision_id, l.decision_id) AS decision_id,
           coalesce(1.0 / (%(rrf_k)s + l.rank), 0.0)
             + %(semantic_weight)s * coalesce(1.0 / (%(rrf_k)s + s.rank), 0.0) AS score,
           l.rank AS lexical_rank, s.rank AS semantic_rank
    FROM semantic s FULL OUTER JOIN lexical l ON s.id = l.id
),
shown AS (  -- a decision found by its headnote alone is shown by its first passage
    SELECT * FROM fused
    UNION ALL
    SELECT h.id, h.decision_id, 0.0, NULL, NULL FROM headnote h
    WHERE NOT EXISTS (SELECT 1 FROM fused f WHERE f.decision_id = h.decision_id)
    UNION ALL
    SELECT w.id, w.decision_id, 0.0, NULL, NULL FROM whole w
    WHERE NOT EXISTS (SELECT 1 FROM fused f WHERE f.decision_id = w.decision_id)
      AND NOT EXISTS (SELECT 1 FROM headnote h WHERE h.decision_id = w.decision_id)
),
ranked AS (
    SELECT f.*, row_number() OVER (PARTITION BY f.decision_id ORDER BY f.score DESC, f.id) AS nth
    FROM shown f
),
best AS (
    SELECT * FROM (SELECT r.*, %(passages_weight)s * sum(r.score)
                                   FILTER (WHERE r.nth <= %(decision_passages)s)
                                   OVER (PARTITION BY r.decision_id)
                               + coalesce(%(headnote_weight)s / (%(rrf_k)s + h.rank), 0.0)
                               + coalesce(%(whole_weight)s / (%(rrf_k)s + w.rank), 0.0)
                                 AS decision_score
                   FROM ranked r LEFT JOIN headnote h ON h.decision_id = r.decision_id
                                 LEFT JOIN whole w ON w.decision_id = r.decision_id) scored
    WHERE nth <= %(per_decision)s ORDER BY decision_score DESC, score DESC, id LIMIT %(k)s
)
SELECT b.id, b.score, b.lexical_rank, b.semantic_rank, p.zone, p.ordinal, p.start_offset,
       p.end_offset, p.text,
       d.source_id, d.ecli, d.jurisdiction, d.chamber, d.number, d.decision_date, d.solution,
       d.publication, d.summary, d.themes, d.source, d.visibility,
       CASE WHEN b.lexical_rank IS NOT NULL
            THEN ts_headline('{config}', p.text, %(marks)s::tsquery, %(headline)s) END
FROM best b JOIN passages p ON p.id = b.id JOIN decisions d ON d.id = p.decision_id
ORDER BY b.decision_score DESC, b.score DESC, b.id
"""

# BM25 of passage ``p`` for the lexemes weighed: each lexeme's count in the passage is the
# number of its positions in ``p.tsv`` (setweight marks the lexemes weighed, ts_filter
# keeps only them), its weight ``idf`` comes from the passages holding it.
BM25 = """(SELECT sum(q.idf * t.tf * (%(k1)s + 1)
                   / (t.tf + %(k1)s * (1 - %(b)s + %(b)s * p.terms
                                          / coalesce(%(average_terms)s::float8, p.terms))))
            FROM (SELECT lexeme, cardinality(positions) AS tf
                  FROM unnest(ts_filter(setweight(p.tsv, 'A', %(lexemes)s::text[]), '{a}'))) t
            JOIN unnest(%(lexemes)s::text[], %(idf)s::float8[]) AS q (lexeme, idf) USING (lexeme))"""

# The same when some lexemes are forms of one word (``inflections``): a family's counts are
# summed and weighed as one word's. Only then: grouping costs every passage ranked.
BM25_BY_FAMILY = """(SELECT sum(f.idf * f.tf * (%(k1)s + 1)
                   / (f.tf + %(k1)s * (1 - %(b)s + %(b)s * p.terms
                                          / coalesce(%(average_terms)s::float8, p.terms))))
            FROM (SELECT max(q.idf) AS idf, sum(cardinality(t.positions)) AS tf
                  FROM unnest(ts_filter(setweight(p.tsv, 'A', %(lexemes)s::text[]), '{a}')) t
                  JOIN unnest(%(lexemes)s::text[], %(families)s::int[], %(idf)s::float8[])
                       AS q (lexeme, family, idf) USING (lexeme)
                  GROUP BY q.family) f)"""

# BM25 of decision ``c`` as one document: each word's count summed over the passages
# (within the filters) of the decision, its length the sum of theirs against the average
# decision's; the words' weights are the passages' (``idf``), a family of forms one word.
DECISION_BM25 = """(SELECT sum(f.idf * f.tf * (%(k1)s + 1)
                   / (f.tf + %(k1)s * (1 - %(decision_b)s + %(decision_b)s * f.terms
                                          / coalesce(%(average_decision_terms)s::float8, f.terms))))
            FROM (SELECT max(q.idf) AS idf, sum(cardinality(u.positions)) AS tf, max(l.terms) AS terms
                  FROM (SELECT sum(p.terms) AS terms FROM passages p
                        WHERE p.decision_id = c.decision_id) l,
                       passages p LEFT JOIN decisions d ON d.id = p.decision_id,
                       unnest(ts_filter(setweight(p.tsv, 'A', %(lexemes)s::text[]), '{{a}}')) u
                       JOIN unnest(%(lexemes)s::text[], %(families)s::int[], %(idf)s::float8[])
                            AS q (lexeme, family, idf) ON q.lexeme = u.lexeme
                  WHERE p.decision_id = c.decision_id AND {filters}
                  GROUP BY q.family) f)"""

# Where the words are looked for: every passage the user may see (through the full-text
# index), or only the vector leg's candidates (see build_sql).
EVERY_PASSAGE = ("passages p LEFT JOIN decisions d ON d.id = p.decision_id "
                 "WHERE %(use_words)s AND p.tsv @@ %(tsquery)s::tsquery AND {visible} AND {filters}")
SEMANTIC_CANDIDATES = ("semantic s JOIN passages p ON p.id = s.id "
                       "WHERE %(use_words)s AND p.tsv @@ %(tsquery)s::tsquery")

HIDDEN = ("SELECT EXISTS (SELECT 1 FROM decisions WHERE visibility = 'private' "
          "AND NOT private_to && %(jurisdictions)s::text[])")

# The passages holding each of the query's lexemes, all the passages and their lengths at
# the last count (a lexeme no passage held then is missing).
LEXEME_COUNTS = """
SELECT t.passages, t.terms, t.decisions, c.lexeme, c.passages
FROM lexeme_counts_total t LEFT JOIN lexeme_counts c ON c.lexeme = ANY(%(lexemes)s)
"""

# The other forms the corpus holds of each of the query's lexemes: the counted lexemes that
# begin with it (``~>=~`` / ``~<~`` compare bytes, served by migration 090's index), at most
# %(chars)s letters longer, and those it begins with (``prefixes``), with their passages.
INFLECTIONS = """
SELECT q.lexeme, c.lexeme, c.passages
FROM unnest(%(lexemes)s::text[]) q (lexeme)
JOIN lexeme_counts c ON c.lexeme ~>=~ q.lexeme AND c.lexeme ~<~ (q.lexeme || chr(1114111))
WHERE length(c.lexeme) BETWEEN length(q.lexeme) + 1 AND length(q.lexeme) + %(chars)s
UNION ALL
SELECT q.lexeme, c.lexeme, c.passages
FROM unnest(%(owners)s::text[], %(prefixes)s::text[]) q (lexeme, prefix)
JOIN lexeme_counts c ON c.lexeme = q.prefix
"""

# How many passages the filters leave, as the planner estimates it.
FILTERED = ("EXPLAIN (FORMAT JSON) "
            "SELECT 1 FROM passages p JOIN decisions d ON d.id = p.decision_id WHERE {filters}")


def _exact(conn, filters: Filters, filters_sql: str, params: dict[str, Any]) -> bool:
    """Whether the vector leg compares the filtered passages' vectors exactly: when the
    filters leave few passages, reading them all costs less than scanning the index until
    enough of them come up (see ``tuning.EXACT_BELOW``)."""
    if not filters.any():
        return False
    plan = conn.execute(FILTERED.format(filters=filters_sql), params, prepare=False).fetchone()[0]
    return plan[0]["Plan"]["Plan Rows"] <= tuning.EXACT_BELOW


def build_sql(filters_sql: str, hidden: bool = True, common_words: bool = False,
              exact: bool = False, forms: bool = False) -> str:
    """The query; with ``hidden`` False (no private decision hidden from the user) and no
    filter on decisions, PostgreSQL removes the LEFT JOIN to decisions from both legs.
    With ``exact``, "+ 0" keeps the planner off the HNSW index: the filtered passages'
    vectors are compared exactly, read through the filter's indexes.

    With ``common_words`` (a short query of common words, see ``tuning.MANY_MATCHES``, and
    vectors taking part) the words are only looked for among the vector leg's candidates:
    tens of thousands of passages hold them, the full-text index would read all of them
    and rank whichever came first, while the vectors already say which passages are about
    the query. With ``forms``, some weighed lexemes are forms of one word (``inflections``)."""
    visible = VISIBLE if hidden else "TRUE"
    source = SEMANTIC_CANDIDATES if common_words else EVERY_PASSAGE.format(visible=visible,
                                                                            filters=filters_sql)
    distance = "(p.embedding <=> %(vector)s) + 0" if exact else "p.embedding <=> %(vector)s"
    return SQL.format(visible=visible, filters=filters_sql, lexical_source=source,
                      bm25=BM25_BY_FAMILY if forms else BM25,
                      decision_bm25=DECISION_BM25.format(filters=filters_sql),
                      distance=distance, config=lexical.CONFIG)


@dataclass
class Counts:
    """What the last count of the corpus says about the query's lexemes."""

    passages: int                  # passages counted (0: never counted)
    average_terms: float | None    # their average length
    holding: dict[str, int]        # passages holding each lexeme (missing: none)
    average_decision_terms: float | None = None   # a decision's average length

    def share(self, lexeme: str) -> float:
        return self.holding.get(lexeme, 0) / self.passages if self.passages else 0.0

    def idf(self, lexeme: str) -> float:
        """BM25's inverse document frequency (1 for every word before any count)."""
        return self.idf_of(self.holding.get(lexeme, 0))

    def idf_of(self, held: int) -> float:
        """BM25's inverse document frequency of a word ``held`` passages hold."""
        if not self.passages:
            return 1.0
        return math.log(1 + (self.passages - held + 0.5) / (held + 0.5))


def _counts(conn, lexemes: frozenset[str]) -> Counts:
    rows = conn.execute(LEXEME_COUNTS, {"lexemes": sorted(lexemes)}).fetchall()
    if not rows or not rows[0][0]:
        return Counts(0, None, {})
    total, terms, decisions = rows[0][0], rows[0][1], rows[0][2]
    return Counts(total, terms / total if terms else None,
                  {lexeme: held for _, _, _, lexeme, held in rows if lexeme is not None},
                  terms / decisions if terms and decisions else None)


@dataclass
class Weighed:
    """The lexemes a query's passages are weighed by, each in a family (one word's forms)
    and with its family's weight."""

    lexemes: list[str]
    families: list[int]
    idf: list[float]


def _alphabetic_form(lexeme: str) -> bool:
    return lexeme.isalpha() and len(lexeme) >= tuning.INFLECTION_MIN_CHARS


def inflections(conn, lexemes: list[str], counts: Counts) -> Weighed:
    """``lexemes`` and the other forms of each the corpus holds, in families.

    The stems of one word can differ (« étranger » gives ``etrang``, « étrangers »
    ``etranger``: Snowball runs on accent-folded words); a lexeme and those that begin with
    it or that it begins with, at most ``tuning.INFLECTION_CHARS`` letters apart, form one
    family, counted as one word whose passages are at most the sum of its forms' (an
    estimate: the counts say how many passages hold each form, not how many hold any).
    Lexemes that share a form join one family. Without ``INFLECTION_CHARS``, each
    lexeme is its own family.
    """
    chars = tuning.INFLECTION_CHARS
    searched = [lexeme for lexeme in lexemes if chars and _alphabetic_form(lexeme)]
    found: list[tuple[str, str, int]] = []
    if searched and counts.passages:
        prefixes = [(lexeme, lexeme[:-n]) for lexeme in searched for n in range(1, chars + 1)]
        found = conn.execute(INFLECTIONS, {
            "lexemes": searched, "chars": chars, "owners": [lexeme for lexeme, _ in prefixes],
            "prefixes": [prefix for _, prefix in prefixes]}).fetchall()
    family = {lexeme: n for n, lexeme in enumerate(lexemes)}
    held = dict(counts.holding)
    for lexeme, form, passages in found:
        if not _alphabetic_form(form):
            continue
        held[form] = passages
        if form in family and family[form] != family[lexeme]:   # two of the query's words
            old, new = family[form], family[lexeme]
            family = {word: new if n == old else n for word, n in family.items()}
        else:
            family[form] = family[lexeme]
    ordered = sorted(family)
    passages = {n: 0 for n in family.values()}
    for lexeme in ordered:
        passages[family[lexeme]] += held.get(lexeme, 0)
    return Weighed(ordered, [family[lexeme] for lexeme in ordered],
                   [counts.idf_of(min(passages[family[lexeme]], counts.passages)) for lexeme in ordered])


@dataclass
class SearchResult:
    hits: list[dict[str, Any]]
    semantic: bool                 # vectors took part
    notice: str | None = None      # French, when results are degraded


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
    semantic = use_vectors and vector is not None
    filters_sql, params = filters.sql()
    long_query = lexical.is_selection(query)
    keywords = lexical.is_keyword_list(query)
    # A keyword list names what a whole decision is about: its decisions are also ranked
    # as one document each (``whole``).
    whole = keywords and tuning.DECISION_WEIGHT > 0
    params.update({
        "candidates": tuning.candidates(k, per_decision),
        "use_vectors": semantic,
        "vector": vector if semantic else np.zeros(DIMENSION, dtype=np.float32),
        "rrf_k": tuning.RRF_K,
        "semantic_weight": (tuning.KEYWORD_LIST_SEMANTIC_WEIGHT if keywords
                            else tuning.SEMANTIC_WEIGHT),
        "k1": tuning.BM25_K1, "b": tuning.BM25_B,
        "per_decision": per_decision, "k": k,
        "decision_passages": (tuning.SELECTION_DECISION_PASSAGES if long_query and not keywords
                              else tuning.DECISION_PASSAGES),
        "jurisdictions": _user_jurisdictions(user),
    })
    with db.search_connection() as conn:
        analysed = lexical.analyse_query(conn, query)
        words = analysed.lexemes
        counts = _counts(conn, words)
        shares = {lexeme: counts.share(lexeme) for lexeme in counts.holding}
        tsquery, stems = lexical.query(analysed, query, shares if long_query else None)
        # A selection's telling words choose the passages, all its words weigh them, so a
        # passage about the selection's subject comes before one sharing two rarer but
        # incidental words with it.
        weighed = sorted(words if long_query else stems)
        # A keyword list's words also count in their other forms (measured on titrage chains
        # only; a short query's every word must match as typed).
        families = (inflections(conn, weighed, counts) if keywords
                    else Weighed(weighed, list(range(len(weighed))),
                                 [counts.idf(lexeme) for lexeme in weighed]))
        common = not long_query and bool(stems) and counts.passages * math.prod(
            counts.share(stem) for stem in stems) > tuning.MANY_MATCHES
        params.update({"tsquery": tsquery, "use_words": tsquery is not None,
                       "lexemes": families.lexemes, "families": families.families,
                       "idf": families.idf,
                       "average_terms": counts.average_terms,
                       "average_decision_terms": counts.average_decision_terms,
                       "use_whole": whole,
                       "whole_weight": tuning.DECISION_WEIGHT, "decision_b": tuning.DECISION_BM25_B,
                       "passages_weight": tuning.KEYWORD_LIST_PASSAGE_WEIGHT if whole else 1.0,
                       "lexical_cap": (tuning.COMMON_WORDS_CAP if common
                                       else tuning.LEXICAL_CANDIDATE_CAP),
                       # Every word of a keyword list is one the user chose: all are marked.
                       # A selection's query is any of its telling words, which nearly every
                       # headnote holds: the headnote leg (tuned on titrage chains and short
                       # queries) would then rank decisions by having a headnote at all.
                       "use_headnote": (tsquery is not None and tuning.HEADNOTE_WEIGHT > 0
                                        and (keywords or not long_query)),
                       "headnote_weight": tuning.HEADNOTE_WEIGHT,
                       "marks": lexical.any_of(frozenset(families.lexemes) if keywords else stems),
                       "headline": lexical.HEADLINE_OPTIONS})
        with conn.transaction():
            tuning.session(conn)
            hidden = conn.execute(HIDDEN, params).fetchone()[0]
            exact = semantic and _exact(conn, filters, filters_sql, params)
            # Never a prepared statement: a generic plan cannot use the jurisdiction prefix
            # index nor weigh the query's words, both of which decide the right plan.
            sql = build_sql(filters_sql, hidden, common and semantic, exact,
                            forms=len(set(families.families)) < len(families.lexemes))
            rows = conn.execute(sql, params, prepare=False).fetchall()
            if long_query and len(stems) > 1 and all(row[2] is None for row in rows):
                # No passage holds two of the selection's telling words: any one will do.
                params["tsquery"] = lexical.any_of(stems)
                rows = conn.execute(sql, params, prepare=False).fetchall()
    return SearchResult(hits=[_hit(row) for row in rows], semantic=semantic)


def _hit(row: tuple) -> dict[str, Any]:
    passage_id, score, lexical_rank, semantic_rank, *columns, headline = row
    return make_hit(passage_id, tuple(columns), score=float(score), lexical_rank=lexical_rank,
                    semantic_rank=semantic_rank,
                    marks=lexical.marks_from_headline(columns[4], headline))


def make_hit(passage_id: int, columns: tuple, *, score: float, lexical_rank: int | None,
             semantic_rank: int | None, marks: list[list[int]]) -> dict[str, Any]:
    """One hit as the API shows it (the shape the OpenAPI document describes), from a
    passage's and its decision's columns, in the order the search queries select them."""
    (zone, ordinal, start, end, text, source_id, ecli, jurisdiction, chamber, number, date,
     solution, publication, summary, themes, source, visibility) = columns
    return {
        "passage_id": passage_id,
        "decision_id": source_id,
        "citation": format_citation(jurisdiction, chamber, date, number),
        "zone": zone,
        "ordinal": ordinal,
        "start": start,
        "end": end,
        "text": text,
        "marks": marks,
        "score": round(score, 6),
        "lexical_rank": lexical_rank,
        "semantic_rank": semantic_rank,
        "decision": {
            "id": source_id, "ecli": ecli, "jurisdiction": jurisdiction, "chamber": chamber,
            "number": number, "date": date.isoformat() if date else None,
            "solution": solution, "publication": publication, "summary": summary,
            "themes": list(themes or []), "source": source, "visibility": visibility,
        },
    }


def embed_query(query: str) -> tuple[np.ndarray | None, str | None]:
    """The query's embedding, or (None, French notice) when semantic search cannot run."""
    if not vectors_ready():
        return None, ("Les vecteurs des passages sont en cours de calcul : résultats par mots "
                      "seulement pour l'instant.")
    try:
        vector = get_embedder().embed([" ".join(query.split())[:2000]], kind="query")[0]
        return vector, None
    except AppError as exc:
        log.warning("query embedding failed; lexical search only", extra={"error": exc.detail})
        return None, "La recherche sémantique est momentanément indisponible : résultats par mots seulement."
