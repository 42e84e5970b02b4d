"""The search's tuning: the figures the query is run with, in one place.

Each figure was chosen by measuring with ``bench/retrieval.py``; the measurements are in
``docs/scaling.md`` (section « Search tuning »), not here. :func:`session` sets what the
query's transaction needs from PostgreSQL.
"""
from __future__ import annotations

import psycopg

# Reciprocal rank fusion: 1 / (RRF_K + rank) from each leg, the vector leg weighted.
RRF_K = 60
SEMANTIC_WEIGHT = 0.5
# A keyword list (a titrage chain) is ranked by its words; passages found by the vectors
# alone only fill the page after them.
KEYWORD_LIST_SEMANTIC_WEIGHT = 0.0

# A decision whose headnote (titrage, sommaire) matches the query's words adds
# HEADNOTE_WEIGHT / (RRF_K + its rank among the headnotes) to its score: a headnote names
# the subject in the court's own words, so it weighs as much as two passages.
HEADNOTE_WEIGHT = 2.0

# A keyword list's decisions are also ranked by BM25 over each decision as one document (a
# titrage chain names what the whole decision is about, its words spread over several
# passages); a decision adds DECISION_WEIGHT / (RRF_K + its rank there).
DECISION_WEIGHT = 1.0
# ... and its passages' fused scores count this much beside it (they only choose which
# passage shows the decision when 0).
KEYWORD_LIST_PASSAGE_WEIGHT = 0.0

# A decision ranks by the sum of its best passages' fused scores, this many of them: a
# question or a keyword list names a subject a decision may discuss in several passages;
# a selection was copied from one passage.
DECISION_PASSAGES = 2
SELECTION_DECISION_PASSAGES = 1

# BM25's textbook constants: term-frequency saturation and length normalisation.
BM25_K1 = 1.2
BM25_B = 0.75
# Length normalisation when a decision is one document: the textbook value, which ranked as
# well as the lower ones tried (docs/scaling.md).
DECISION_BM25_B = 0.75

# A keyword list's word also counts the other forms of it the corpus holds: the stems that
# begin with it or that it begins with, at most this many letters apart (French stemming
# runs on accent-folded words and leaves « étranger » and « étrangers », « conclusions » and
# « conclu » apart). Its forms count as one word in BM25. 0: each stem alone.
INFLECTION_CHARS = 2
# Stems shorter than this have no other forms (« droit », « appel » begin too many words).
INFLECTION_MIN_CHARS = 5

# Candidates each leg hands to the fusion: enough to fill k distinct decisions.
MIN_CANDIDATES = 100
MAX_CANDIDATES = 400
CANDIDATES_PER_HIT = 8

# The vector leg: HNSW scanned iteratively until enough passages pass the filters. The
# graph's candidate list is wide enough for 1 M passages whose nearest neighbours lie close
# together (docs/scaling.md, « Search tuning »).
EF_SEARCH = 400
MAX_SCAN_TUPLES = 20000
# Filters leaving fewer passages than this (the planner's estimate): compare them exactly.
EXACT_BELOW = 20000

# A selection (or a keyword list) looks for passages holding two of its most telling words:
# at most LONG_QUERY_TERMS of them, none held by more than COMMON_SHARE of passages while
# rarer ones remain (common words add little to the ranking, each costs a long index list).
LONG_QUERY_TERMS = 4
COMMON_SHARE = 0.1
# A keyword list looks for passages holding two of this many of its telling words.
KEYWORD_LIST_TERMS = 6

# The lexical leg ranks at most this many matching passages.
LEXICAL_CANDIDATE_CAP = 1000
# A short query whose words, each common, are together expected in more than MANY_MATCHES
# passages (the product of their shares, as if independent) is looked for among the
# vector leg's candidates, or, without vectors, in at most COMMON_WORDS_CAP passages.
MANY_MATCHES = 5000
COMMON_WORDS_CAP = 200


def candidates(k: int, per_decision: int) -> int:
    """How many passages each leg ranks for ``k`` hits of ``per_decision`` passages each
    (passages of one decision resemble each other)."""
    return min(MAX_CANDIDATES, max(MIN_CANDIDATES, CANDIDATES_PER_HIT * k * per_decision))


def session(conn: psycopg.Connection) -> None:
    """Settings of the search's transaction (``SET LOCAL``).

    The HNSW scan goes on past ``ef_search`` until the filters have let enough passages
    through (``relaxed_order``: nearly by distance, which is all a rank fusion needs),
    so a filter no longer starves the vector leg (a selective one is compared exactly,
    see ``search._exact``). JIT compiling costs more than
    the query; parallel workers cost more than they save on cores shared by every request.
    """
    conn.execute("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), "
                 "set_config('hnsw.ef_search', %(ef)s, true), "
                 "set_config('hnsw.max_scan_tuples', %(tuples)s, true), "
                 "set_config('jit', 'off', true), "
                 "set_config('max_parallel_workers_per_gather', '0', true)",
                 {"ef": str(EF_SEARCH), "tuples": str(MAX_SCAN_TUPLES)})
