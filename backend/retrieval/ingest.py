"""Loading decisions: JSON lines, Word and PDF files, in bulk, idempotently, with a report.

Each decision is prepared in Python (repairs, zones, passages; see :mod:`.records`), then
stored by batches with binary ``COPY``. A decision whose content hash is already stored
is left alone; a changed one is replaced (same id, new passages). A batch is one
transaction; if it fails, its decisions are retried one by one so a single bad decision
is reported and skipped while the others load. A Word or PDF file that cannot be read is
reported and skipped. Nothing is ever half-loaded.

PostgreSQL analyses each passage's text as it is stored (its full-text vector is a
generated column), so storing costs more CPU than preparing. On a machine with cores to
spare, several batches are stored at once, each in its own transaction
(:func:`_writer_count`), and a large load (JSON lines over ``PARALLEL_MIN_BYTES``, from the
command line) prepares its decisions in processes on the cores left (:func:`_preparers`).
A decision met again in another file waits for the
batch holding it to be stored first, so the later version replaces the earlier, as when
batches are stored one after the other.

Vectors are not computed here (the embedded model does ~2 passages/s): a passage takes
the vector of an identical passage already stored, or of the sample corpus's
precomputed file, and otherwise waits for the background embedder.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import multiprocessing
import os
import sys
import time
from collections import deque
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import psycopg
from flask import current_app
from psycopg.types.json import Jsonb
from tqdm import tqdm

from .. import db
from ..cooperative import event_loop_active
from ..documents import SUPPORTED_EXTENSIONS, DocumentError, read_document
from . import embeddings, judilibre
from .embeddings import model_name
from .records import (DecisionRecord, PreparedDecision, RecordError, from_document, from_json,
                      passage_hash, prepare)

log = logging.getLogger(__name__)

BATCH_DECISIONS = 500
# Below this much JSON lines, starting the preparing processes costs more than they save.
PARALLEL_MIN_BYTES = 8 * 1024 * 1024
PREPARE_CHUNK = 25   # decisions sent to a preparing process at a time
JSON_EXTENSIONS = (".jsonl", ".ndjson", ".json")
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_FILE_PAGES = 2000
# Once this many passages, or this share of all of them, have been stored since the last
# refresh, an ingestion brings the passages holding each lexeme up to date
# (refresh_lexeme_counts).
REFRESH_AFTER = 1000
REFRESH_SHARE = 0.1
SAMPLE_VECTORS = Path(__file__).with_name("data") / "sample_vectors.npz"


def _fr(n: int | float) -> str:
    """A number the French way (« 12 345 », « 3,2 »)."""
    if isinstance(n, float):
        return f"{n:,.1f}".replace(",", " ").replace(".", ",")
    return f"{n:,}".replace(",", " ")


@dataclass
class IngestReport:
    """What an ingestion did, for the command line and the logs (``summary()`` in French)."""

    ingested: int = 0
    updated: int = 0
    unchanged: int = 0
    passages: int = 0
    vectors_reused: int = 0
    vectors_pending: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)       # (where, reason)
    failed_files: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    removed: int = 0                  # deleted at the source (Judilibre's history)
    zones_adjusted: int = 0
    zones_derived: int = 0
    zones_broken: list[tuple[str, str]] = field(default_factory=list)  # (decision, problem)
    mojibake_repaired: int = 0        # decisions with repaired words
    mojibake_words_repaired: int = 0
    mojibake_left: list[tuple[str, int]] = field(default_factory=list)  # (decision, words left)
    seconds: float = 0.0
    prepare_seconds: float = 0.0   # repairs, zones, chunking (Python)
    store_seconds: float = 0.0     # database work

    def note(self, prepared: PreparedDecision) -> None:
        source_id = prepared.record.source_id
        if prepared.zoning.origin == "adjusted":
            self.zones_adjusted += 1
        elif prepared.zoning.origin == "derived":
            self.zones_derived += 1
        if prepared.zoning.problem:
            self.zones_broken.append((source_id, prepared.zoning.problem))
        if prepared.repair.repaired:
            self.mojibake_repaired += 1
            self.mojibake_words_repaired += prepared.repair.repaired
        if prepared.repair.left:
            self.mojibake_left.append((source_id, prepared.repair.left))

    def passages_per_second(self) -> float:
        return self.passages / self.seconds if self.seconds else 0.0

    def summary(self, details: int = 10) -> str:
        lines = [
            f"Ingestion terminée en {_fr(self.seconds)} s : {_fr(self.ingested)} décision(s) "
            f"ajoutée(s), {_fr(self.updated)} mise(s) à jour, {_fr(self.unchanged)} inchangée(s) ; "
            f"{_fr(self.passages)} passage(s) enregistré(s) "
            f"({_fr(round(self.passages_per_second()))} passages/s)."
        ]
        if self.skipped:
            reasons: dict[str, int] = {}
            for _, reason in self.skipped:
                reasons[reason] = reasons.get(reason, 0) + 1
            lines.append(f"Écartées : {_fr(len(self.skipped))} ("
                         + " ; ".join(f"{r} : {_fr(n)}" for r, n in sorted(reasons.items())) + ").")
            lines += [f"  - {where} : {reason}" for where, reason in self.skipped[:details]]
        lines.append(f"Zones : {_fr(self.zones_adjusted)} recalée(s) sur les paragraphes, "
                     f"{_fr(self.zones_derived)} déduite(s) des intitulés du texte"
                     f" (dont {_fr(len(self.zones_broken))} aux décalages incohérents, ignorés).")
        lines += [f"  - {where} : {problem}" for where, problem in self.zones_broken[:details]]
        if self.mojibake_repaired or self.mojibake_left:
            lines.append(
                f"Caractères mal encodés : {_fr(self.mojibake_repaired)} décision(s) réparée(s) "
                f"({_fr(self.mojibake_words_repaired)} mot(s)) ; {_fr(len(self.mojibake_left))} "
                f"avec des mots non réparés ({_fr(sum(n for _, n in self.mojibake_left))}).")
        lines.append(f"Vecteurs : {_fr(self.vectors_reused)} repris, {_fr(self.vectors_pending)} "
                     "à calculer en arrière-plan (la recherche par mots fonctionne déjà).")
        if self.removed:
            lines.append(f"Retirées à la source (Judilibre) : {_fr(self.removed)} décision(s) "
                         "supprimée(s) de l'index, avec leurs passages.")
        if self.failed_files:
            lines.append(f"Fichiers en échec : {_fr(len(self.failed_files))}.")
            lines += [f"  - {path} : {reason}" for path, reason in self.failed_files]
        return "\n".join(lines)


# --- reading inputs ---------------------------------------------------------------

def _json_records(path: Path, report: IngestReport, bar: Any) -> Iterator[DecisionRecord]:
    try:  # a .json file holding one document (what Judilibre's API returns)
        document = judilibre.whole_document(path)
        records = None if document is None else judilibre.to_records(document, path.name,
                                                                     report.skipped)
    except RecordError as exc:
        report.failed_files.append((str(path), str(exc)))
        records = []
    if records is not None:
        bar.update(path.stat().st_size)
        yield from records
        return
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            bar.update(len(raw))
            if not raw.strip():
                continue
            where = f"{path.name} ligne {number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                line = raw.decode("cp1252", errors="replace")  # repaired downstream if possible
            try:
                value = json.loads(line)
                if judilibre.is_judilibre(value):
                    yield from judilibre.to_records(value, where, report.skipped)
                else:
                    yield from_json(value, where)
            except json.JSONDecodeError as exc:
                report.skipped.append((where, f"JSON invalide ({exc.msg})"))
            except RecordError as exc:
                report.skipped.append((where, str(exc)))


def _document_record(path: Path) -> DecisionRecord:
    """A Word/PDF file as a decision; raises DocumentError or RecordError."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise DocumentError("Fichier trop volumineux.", status=413, detail=f"{path}: {size} bytes")
    document = read_document(path.read_bytes(), path.name, max_bytes=MAX_FILE_BYTES,
                             max_pages=MAX_FILE_PAGES)
    sidecar_path = path.with_name(path.name + ".json")
    sidecar = None
    if sidecar_path.exists():
        try:
            sidecar = json.loads(sidecar_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise RecordError(f"métadonnées {sidecar_path.name} illisibles ({exc})") from exc
    return from_document(document.text, path.name, sidecar)


# --- storing ------------------------------------------------------------------------

class VectorSource:
    """Vectors that need no model: identical passages already stored, the sample file."""

    def __init__(self, model: str | None):
        self.model = model
        self._sample: dict[str, np.ndarray] | None = None

    def sample(self) -> dict[str, np.ndarray]:
        if self._sample is None:
            self._sample = {}
            if self.model == embeddings.LOCAL_MODEL and SAMPLE_VECTORS.exists():
                self._sample = embeddings.load_vector_file(SAMPLE_VECTORS)
        return self._sample

    def lookup(self, conn: psycopg.Connection, hashes: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        if self.model is None:
            return found
        sample = self.sample()
        found.update({h: sample[h] for h in hashes if h in sample})
        missing = [h for h in hashes if h not in found]
        if missing:
            rows = conn.execute(
                "SELECT DISTINCT ON (content_hash) content_hash, embedding FROM passages "
                "WHERE content_hash = ANY(%(hashes)s) AND embedding IS NOT NULL",
                {"hashes": missing}).fetchall()
            found.update({h: np.asarray(v, dtype=np.float32) for h, v in rows})
        return found


DECISION_COLUMNS = ("id", "source_id", "ecli", "jurisdiction", "chamber", "number", "decision_date",
                    "solution", "publication", "summary", "themes", "nac", "source", "license",
                    "visibility", "private_to", "text", "zones", "zoning", "passage_count",
                    "content_hash")
DECISION_TYPES = ["bigint", "text", "text", "text", "text", "text", "date", "text", "text", "text",
                  "text[]", "text", "text", "text", "text", "text[]", "text", "jsonb", "text",
                  "integer", "text"]
# The full-text vector is generated by PostgreSQL from the text (migration 060); a
# passage's length for BM25 is its words, as the chunker counted them.
PASSAGE_COLUMNS = ("decision_id", "zone", "ordinal", "start_offset", "end_offset", "text",
                   "content_hash", "terms", "embedding")
PASSAGE_TYPES = ["bigint", "text", "integer", "integer", "integer", "text", "text", "integer",
                 "vector"]


def _decision_row(decision_id: int, item: PreparedDecision) -> list[Any]:
    meta = item.metadata
    themes = meta.get("themes") or []
    if isinstance(themes, str):
        themes = [themes]
    date = dt.date.fromisoformat(meta["date"]) if meta.get("date") else None
    return [decision_id, item.record.source_id, meta.get("ecli"), meta.get("jurisdiction") or "",
            meta.get("chamber"), meta.get("number"), date, meta.get("solution"),
            meta.get("publication"), meta.get("summary"), [str(t) for t in themes],
            meta.get("nac"), meta.get("source"), meta.get("license"),
            "private" if item.record.private_to else "public", item.record.private_to, item.text,
            Jsonb([{"zone": s.zone, "start": s.start, "end": s.end} for s in item.zoning.segments]),
            item.zoning.origin, len(item.passages), item.content_hash]


@dataclass
class _Ready:
    """A decision prepared for storing, with each passage's embedding key."""

    item: PreparedDecision
    keys: list[str]


def _ready(item: PreparedDecision) -> _Ready:
    return _Ready(item, [passage_hash(p.text) for p in item.passages])


def _prepare_one(work: tuple[DecisionRecord, str]) -> _Ready | str:
    """One decision ready to store, or why it is skipped (also runs in preparing processes)."""
    record, content_hash = work
    try:
        return _ready(prepare(record, content_hash))
    except RecordError as exc:
        return str(exc)


def _preparers(paths: list[Path], processes: int | None, writers: int = 1) -> Executor | None:
    """Processes that prepare decisions for a large load, or None to prepare here.

    ``processes``: how many (0: none); by default, for JSON lines over
    ``PARALLEL_MIN_BYTES``, the cores left once each of the ``writers``' PostgreSQL
    backends and this process have one (none on 2 cores), never in a gevent web worker.
    Since PostgreSQL analyses the text, storing a passage costs its backend more CPU than
    preparing it costs Python, so a preparing process only helps where cores would
    otherwise wait; each one costs the CPU of importing the application (about 1.7 s here).
    Spawned, not forked: this process already runs threads (the writer, the database pool),
    which a fork would copy mid-lock.
    """
    if processes is None:
        size = sum(p.stat().st_size for p in paths
                   if p.is_file() and p.suffix.lower() in JSON_EXTENSIONS)
        cores = os.cpu_count() or 1
        large = size >= PARALLEL_MIN_BYTES and not event_loop_active()
        processes = max(0, cores - writers - 1) if large else 0
    if processes <= 0:
        return None
    return ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))


# Measured by bench/retrieval.py (--only ingest): storing a passage, its text analysed by
# PostgreSQL, takes more CPU than preparing it in Python, so one core in two goes to storing.
CORES_PER_WRITER = 2


def _writer_count(writers: int | None, pool_size: int) -> int:
    """How many batches are stored at once: ``writers`` if given, else one per
    :data:`CORES_PER_WRITER` cores (one on this 2-core machine); one in a gevent web worker;
    never more than the database pool can serve beside the batch lookups."""
    if writers is None:
        cores = os.cpu_count() or 1
        writers = 1 if event_loop_active() else cores // CORES_PER_WRITER
    return max(1, min(writers, pool_size - 1))


def _store(conn: psycopg.Connection, batch: list[_Ready], vectors: VectorSource,
           report: IngestReport) -> None:
    """Write one batch (new and changed decisions) in the caller's transaction."""
    conn.execute(HOLD_COUNTS)
    # Read here, not when the batch was prepared: a batch stored meanwhile may hold one.
    existing = dict(conn.execute(
        "SELECT source_id, id FROM decisions WHERE source_id = ANY(%(ids)s)",
        {"ids": [ready.item.record.source_id for ready in batch]}).fetchall())
    changed_ids = [existing[r.item.record.source_id] for r in batch if r.item.record.source_id in existing]
    if changed_ids:
        # Same internal id, fresh row and passages (their vectors are found again by hash).
        count_removals(conn, changed_ids)
        conn.execute("DELETE FROM decisions WHERE id = ANY(%(ids)s)", {"ids": changed_ids})
    new_count = len(batch) - len(changed_ids)
    fresh = iter([row[0] for row in conn.execute(
        "SELECT nextval(pg_get_serial_sequence('decisions', 'id')) FROM generate_series(1, %(n)s)",
        {"n": new_count}).fetchall()] if new_count else [])
    ids = [existing.get(ready.item.record.source_id) or next(fresh) for ready in batch]
    found = vectors.lookup(conn, sorted({key for ready in batch for key in ready.keys}))
    with conn.cursor() as cur:
        with cur.copy(f"COPY decisions ({', '.join(DECISION_COLUMNS)}) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(DECISION_TYPES)
            for decision_id, ready in zip(ids, batch):
                copy.write_row(_decision_row(decision_id, ready.item))
        with cur.copy(f"COPY passages ({', '.join(PASSAGE_COLUMNS)}) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(PASSAGE_TYPES)
            for decision_id, ready in zip(ids, batch):
                for passage, key in zip(ready.item.passages, ready.keys):
                    vector = found.get(key)
                    copy.write_row([decision_id, passage.zone, passage.ordinal, passage.start,
                                    passage.end, passage.text, key, passage.words, vector])
                    if vector is None:
                        report.vectors_pending += 1
                    else:
                        report.vectors_reused += 1
    for ready in batch:
        report.passages += len(ready.item.passages)
        if ready.item.record.source_id in existing:
            report.updated += 1
        else:
            report.ingested += 1
        report.note(ready.item)


# A bigger pending list than the default 4 MB makes its merges into the GIN index (the
# costliest part of storing a passage) ~25 % cheaper; it is merged at the end of a load.
INGEST_SESSION = ("SELECT set_config('gin_pending_list_limit', '65536', true), "
                  "set_config('work_mem', '256MB', true)")


def _store_batch(batch: list[_Ready], vectors: VectorSource) -> IngestReport:
    """Store a batch in one transaction; if it fails, decision by decision (bad ones skipped)."""
    started = time.perf_counter()
    part = IngestReport()
    try:
        with db.connection() as conn:
            with conn.transaction():
                conn.execute(INGEST_SESSION)
                _store(conn, batch, vectors, part)
    except psycopg.Error as exc:
        log.warning("batch failed, retrying decision by decision", extra={"error": str(exc)})
        part = IngestReport()
        for ready in batch:
            try:
                with db.connection() as conn:
                    with conn.transaction():
                        _store(conn, [ready], vectors, single := IngestReport())
                _merge(part, single)
            except psycopg.Error as single_exc:
                why = ("donnée invalide" if isinstance(single_exc, psycopg.DataError)
                       else "erreur de la base")
                part.skipped.append((ready.item.record.origin,
                                     f"refusée par la base de données ({why})"))
                log.warning("decision refused by the database",
                            extra={"decision": ready.item.record.source_id, "error": str(single_exc)})
    part.store_seconds = time.perf_counter() - started
    return part


class _Writer:
    """Stores batches on threads of its own, each batch in its own transaction.

    Python prepares the next batches (zones, chunks, tsvectors) while PostgreSQL indexes
    these: the load runs at the pace of the slower side, not their sum. ``writers``
    batches are stored at once (one connection each), so PostgreSQL's side can use more
    than one core where there are cores to spare (see :func:`_writer_count`). A decision
    is never in two batches stored at once (:meth:`settle`), so a load gives what loading
    its batches one after the other would.
    """

    def __init__(self, app: Any, vectors: VectorSource, report: IngestReport, writers: int = 1):
        self.app, self.vectors, self.report = app, vectors, report
        self.writers = max(1, writers)
        self.executor = ThreadPoolExecutor(max_workers=self.writers, thread_name_prefix="plume-ingest")
        self.pending: deque[tuple[Future[IngestReport], frozenset[str]]] = deque()

    def _run(self, batch: list[_Ready]) -> IngestReport:
        with self.app.app_context():
            return _store_batch(batch, self.vectors)

    def settle(self, source_ids: set[str]) -> None:
        """Wait for the batches being stored that hold one of ``source_ids`` (the same
        decision met again in another file): the next batch then sees it stored."""
        while any(ids & source_ids for _, ids in self.pending):
            self._collect()

    def submit(self, batch: list[_Ready]) -> None:
        while len(self.pending) >= self.writers:
            self._collect()
        ids = frozenset(ready.item.record.source_id for ready in batch)
        self.pending.append((self.executor.submit(self._run, batch), ids))

    def _collect(self) -> None:
        part = self.pending.popleft()[0].result()
        _merge(self.report, part)

    def wait(self) -> None:
        while self.pending:
            self._collect()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self.executor.shutdown()


def _flush(records: list[DecisionRecord], writer: _Writer, report: IngestReport,
           preparers: Executor | None = None) -> None:
    """Prepare a batch (unchanged decisions skipped before any work) and hand it to the writer."""
    if not records:
        return
    started = time.perf_counter()
    writer.settle({record.source_id for record in records})
    with db.connection() as conn:
        stored = dict(conn.execute(
            "SELECT source_id, content_hash FROM decisions WHERE source_id = ANY(%(ids)s)",
            {"ids": [record.source_id for record in records]}).fetchall())
    work: list[tuple[DecisionRecord, str]] = []
    for record in records:
        content_hash = record.content_hash()
        if stored.get(record.source_id) == content_hash:
            report.unchanged += 1
        else:
            work.append((record, content_hash))
    prepared = (map(_prepare_one, work) if preparers is None or len(work) <= PREPARE_CHUNK
                else preparers.map(_prepare_one, work, chunksize=PREPARE_CHUNK))
    todo: list[_Ready] = []
    for (record, _), ready in zip(work, prepared):
        if isinstance(ready, str):
            report.skipped.append((record.origin, ready))
        else:
            todo.append(ready)
    report.prepare_seconds += time.perf_counter() - started
    if todo:
        writer.submit(todo)


def _merge(report: IngestReport, part: IngestReport) -> None:
    for name in ("ingested", "updated", "passages", "vectors_reused", "vectors_pending",
                 "zones_adjusted", "zones_derived", "mojibake_repaired", "mojibake_words_repaired"):
        setattr(report, name, getattr(report, name) + getattr(part, name))
    report.zones_broken += part.zones_broken
    report.mojibake_left += part.mojibake_left
    report.skipped += part.skipped
    report.store_seconds += part.store_seconds


def _progress(total: int, enabled: bool, label: str) -> Any:
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label,
                disable=not enabled, file=sys.stderr, leave=False)


# Taken by every transaction that stores or deletes passages: a refresh (EXCLUSIVE) waits
# for those under way, so every passage below the ids it reads is committed, and the
# passages counted cannot move under a deletion. Searches (ACCESS SHARE) never wait.
HOLD_COUNTS = "LOCK TABLE lexeme_counts_total IN ROW SHARE MODE"


def count_removals(conn: psycopg.Connection, decision_ids: list[int]) -> None:
    """Record, in the caller's transaction, the lexemes of these decisions' counted passages
    as taken away, before they are deleted; the next refresh folds them in."""
    if decision_ids:
        # ts_stat takes the text of a query: the ids (integers read from the database) are
        # written into it.
        conn.execute("INSERT INTO lexeme_count_changes (lexeme, passages) "
                     "SELECT word, -ndoc FROM ts_stat(%(passages)s)",
                     {"passages": "SELECT tsv FROM passages WHERE decision_id = ANY('{"
                                  + ",".join(str(int(i)) for i in decision_ids) + "}'::bigint[]) "
                                  "AND id <= (SELECT coalesce(max(last_passage), 0) FROM lexeme_counts_total)"})


# The passages stored since the last refresh added, the deletions recorded since taken away.
ADD_NEW = """
INSERT INTO lexeme_counts AS c (lexeme, passages)
SELECT word, ndoc FROM ts_stat(%(passages)s)
ON CONFLICT (lexeme) DO UPDATE SET passages = c.passages + excluded.passages
"""
FOLD_REMOVALS = """
WITH taken AS (DELETE FROM lexeme_count_changes RETURNING lexeme, passages)
INSERT INTO lexeme_counts AS c (lexeme, passages)
SELECT lexeme, sum(passages) FROM taken GROUP BY lexeme
ON CONFLICT (lexeme) DO UPDATE SET passages = c.passages + excluded.passages
"""


def refresh_lexeme_counts(stored: int | None = None) -> bool:
    """Bring the passages holding each lexeme, and their lengths, up to date (BM25's document
    frequencies and average length; a selection's telling words), when the passages stored
    since the last refresh are many (None: always). Those are this run's ``stored``
    passages, or all passages added since the last refresh if more: small ingestions add up
    to a refresh. Only the passages stored since, and those deleted since
    (:func:`count_removals`), are read: the cost follows the change, not the corpus. One
    transaction: searches read the old counts until it commits. True when refreshed."""
    started = time.perf_counter()
    with db.connection() as conn:
        total, terms = conn.execute("SELECT count(*), coalesce(sum(terms), 0) FROM passages").fetchone()
        counted = conn.execute("SELECT passages FROM lexeme_counts_total").fetchone()
        if stored is not None:
            since = max(stored, total - (counted[0] if counted else 0))
            if since < REFRESH_AFTER and since < REFRESH_SHARE * total:
                return False
        with conn.transaction():
            conn.execute("LOCK TABLE lexeme_counts_total IN EXCLUSIVE MODE")
            last = conn.execute("SELECT coalesce(max(last_passage), 0) FROM lexeme_counts_total").fetchone()[0]
            total, terms, top = conn.execute(
                "SELECT count(*), coalesce(sum(terms), 0), coalesce(max(id), 0) FROM passages").fetchone()
            conn.execute(ADD_NEW, {"passages": f"SELECT tsv FROM passages WHERE id > {int(last)} "
                                               f"AND id <= {int(top)}"})
            conn.execute(FOLD_REMOVALS)
            conn.execute("DELETE FROM lexeme_counts WHERE passages <= 0")
            conn.execute("DELETE FROM lexeme_counts_total")
            conn.execute("INSERT INTO lexeme_counts_total (passages, terms, decisions, last_passage) "
                         "VALUES (%(n)s, %(t)s, (SELECT count(*) FROM decisions), %(top)s)",
                         {"n": total, "t": terms, "top": top})
    log.info("lexeme counts refreshed", extra={"seconds": round(time.perf_counter() - started, 2)})
    return True


def ingest_paths(paths: Iterable[str], progress: bool = True, *, model: str | None = None,
                 batch_decisions: int = BATCH_DECISIONS, processes: int | None = None,
                 writers: int | None = None) -> IngestReport:
    """Load decisions from JSON lines, .docx and .pdf files (needs an app context).

    ``model`` names the embedding model whose stored vectors may be reused (default: the
    one configured); ``processes`` how many processes prepare decisions (default: see
    :func:`_preparers`); ``writers`` how many batches are stored at once (default: see
    :func:`_writer_count`). Returns the report; ``report.failed_files`` lists unreadable files.
    """
    started = time.perf_counter()
    report = IngestReport()
    vectors = VectorSource(model if model is not None else model_name(current_app.config))
    paths = [Path(p) for p in paths]
    total = sum(p.stat().st_size for p in paths if p.exists())
    writer = _Writer(current_app._get_current_object(), vectors, report,  # type: ignore[attr-defined]
                     _writer_count(writers, current_app.config["DB_POOL_SIZE"]))
    preparers = _preparers(paths, processes, writer.writers)
    with _progress(total, progress, "Ingestion") as bar, closing(writer), \
            (preparers or nullcontext()):
        for path in paths:
            if not path.is_file():
                report.failed_files.append((str(path), "fichier introuvable"))
                continue
            suffix = path.suffix.lower()
            if suffix in JSON_EXTENSIONS:
                batch: list[DecisionRecord] = []
                seen: set[str] = set()
                for record in _json_records(path, report, bar):
                    if record.source_id in seen:
                        report.skipped.append((record.origin, "décision en double dans le lot"))
                        continue
                    seen.add(record.source_id)
                    batch.append(record)
                    if len(batch) >= batch_decisions:
                        _flush(batch, writer, report, preparers)
                        batch = []
                _flush(batch, writer, report, preparers)
            elif suffix in SUPPORTED_EXTENSIONS:
                try:
                    record = _document_record(path)
                except DocumentError as exc:
                    report.failed_files.append((str(path), exc.message))
                    bar.update(path.stat().st_size)
                    continue
                except RecordError as exc:
                    report.failed_files.append((str(path), str(exc)))
                    bar.update(path.stat().st_size)
                    continue
                _flush([record], writer, report)
                bar.update(path.stat().st_size)
            else:
                report.failed_files.append(
                    (str(path), "format non pris en charge (attendu : .jsonl, .docx, .pdf)"))
                bar.update(path.stat().st_size)
    if report.passages:
        refresh_lexeme_counts(report.passages)
        try:
            with db.connection() as conn:
                conn.execute("SELECT gin_clean_pending_list('passages_tsv_idx'::regclass)")
        except psycopg.errors.InsufficientPrivilege:   # not the index's owner: autovacuum will
            log.info("GIN pending list left to autovacuum (not the index owner)")
    report.seconds = time.perf_counter() - started
    log.info("ingestion finished", extra={
        "ingested": report.ingested, "updated": report.updated, "unchanged": report.unchanged,
        "skipped": len(report.skipped), "failed_files": len(report.failed_files),
        "passages": report.passages, "seconds": round(report.seconds, 2)})
    return report


def apply_histories(histories: list[tuple[str, dict]], report: Any) -> None:
    """Remove the decisions the histories report deleted (their passages and vectors go
    with them: ON DELETE CASCADE), each history in one transaction; counts go to
    ``report.removed``, a malformed history to ``report.failed_files``."""
    passages = 0
    for path, history in histories:
        try:
            ids, pending = judilibre.deleted_ids(history)
        except RecordError as exc:
            report.failed_files.append((path, f"historique Judilibre mal formé, rien n'a été "
                                              f"supprimé : {exc}"))
            continue
        with db.connection() as conn, conn.transaction():
            withdrawn = [row[0] for row in conn.execute(
                "SELECT id FROM decisions WHERE source_id = ANY(%(ids)s) FOR UPDATE",
                {"ids": ids}).fetchall()]
            conn.execute(HOLD_COUNTS)
            count_removals(conn, withdrawn)
            rows = conn.execute("DELETE FROM decisions WHERE id = ANY(%(ids)s) "
                                "RETURNING passage_count", {"ids": withdrawn}).fetchall()
        report.removed += len(rows)
        passages += sum(row[0] for row in rows)
        log.info("judilibre deletions applied", extra={
            "history": path, "deleted_at_source": len(ids), "removed": len(rows),
            "created_or_updated": pending, "next_page": history.get("next_page")})
    if passages:
        refresh_lexeme_counts(passages)
