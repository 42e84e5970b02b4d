"""Filling passage vectors after ingestion, in the background or from the command line.

Rows are claimed with ``FOR UPDATE SKIP LOCKED``, so several worker processes (or a
worker and ``python -m backend embed``) share the work without computing a vector twice.
The model that produced the stored vectors is recorded in ``embedding_model``; when the
configured model differs, the stored vectors are cleared first and computed again.
"""
from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any

import psycopg
import psycopg.sql
from flask import Flask, current_app
from tqdm import tqdm

from .. import db
from ..errors import AppError
from .embeddings import DIMENSION, Embedder, from_config, model_name

log = logging.getLogger(__name__)

# The HNSW graph of passage vectors (migration 015; a database built before it is rebuilt
# by :func:`rebuild_vector_index`).
HNSW_PARAMETERS = {"m": "16", "ef_construction": "128"}
HNSW_OPTIONS = ", ".join(f"{name} = {value}" for name, value in HNSW_PARAMETERS.items())
INDEX = "passages_embedding_idx"
IDLE_SECONDS = 30.0
ERROR_BACKOFF_SECONDS = 60.0
READY_TTL = 30.0


def get_embedder(app: Flask | None = None) -> Embedder:
    """This process's embedder (one per app)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    state = app.extensions["plume.retrieval"]
    if state.get("embedder") is None:
        state["embedder"] = from_config(app.config)
    return state["embedder"]


def vectors_ready() -> bool:
    """Whether any passage has a vector (checked at most every ``READY_TTL`` seconds)."""
    state = current_app.extensions["plume.retrieval"]
    checked, ready = state.get("ready", (0.0, False))
    if ready or time.monotonic() - checked > READY_TTL:
        with db.search_connection() as conn:  # what the searches will read
            ready = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM passages WHERE embedding IS NOT NULL)").fetchone()[0]
        state["ready"] = (time.monotonic(), ready)
    return ready


def forget_readiness(app: Flask | None = None) -> None:
    """Check again at the next search (vectors were added or cleared)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    app.extensions["plume.retrieval"]["ready"] = (0.0, False)


def ensure_model(model: str) -> bool:
    """Record ``model`` as the one behind the stored vectors; True if vectors were cleared."""
    with db.connection() as conn:
        with conn.transaction():
            row = conn.execute("SELECT model FROM embedding_model FOR UPDATE").fetchone()
            if row is None:
                conn.execute("INSERT INTO embedding_model (model, dimension) VALUES (%(m)s, %(d)s)",
                             {"m": model, "d": DIMENSION})
                return False
            if row[0] == model:
                return False
            cleared = conn.execute(
                "UPDATE passages SET embedding = NULL WHERE embedding IS NOT NULL").rowcount
            conn.execute("UPDATE embedding_model SET model = %(m)s, dimension = %(d)s, "
                         "changed_at = now()", {"m": model, "d": DIMENSION})
    log.warning("embedding model changed; stored vectors cleared",
                extra={"previous": row[0], "model": model, "cleared": cleared})
    return True


def pending_count() -> int:
    with db.connection() as conn:
        return conn.execute("SELECT count(*) FROM passages WHERE embedding IS NULL").fetchone()[0]


def embed_batch(embedder: Embedder, size: int) -> int:
    """Embed up to ``size`` passages without a vector; returns how many were done."""
    with db.connection() as conn:
        with conn.transaction():
            rows = conn.execute(
                "SELECT id, text FROM passages WHERE embedding IS NULL ORDER BY id "
                "LIMIT %(n)s FOR UPDATE SKIP LOCKED", {"n": size}).fetchall()
            if not rows:
                return 0
            vectors = embedder.embed([" ".join(text.split()) for _, text in rows], kind="passage")
            with conn.cursor() as cur:
                cur.executemany("UPDATE passages SET embedding = %(v)s WHERE id = %(id)s",
                                [{"id": pid, "v": vector} for (pid, _), vector in zip(rows, vectors)])
    return len(rows)


def embed_pending(embedder: Embedder, batch: int = 8, limit: int | None = None,
                  progress: bool = False, stop: threading.Event | None = None) -> int:
    """Embed passages until none is missing (or ``limit`` is reached, or ``stop`` is set)."""
    total = pending_count() if limit is None else min(limit, pending_count())
    done = 0
    with tqdm(total=total, unit="passage", desc="Vecteurs", disable=not progress,
              file=sys.stderr) as bar:
        while (limit is None or done < limit) and not (stop and stop.is_set()):
            size = batch if limit is None else min(batch, limit - done)
            count = embed_batch(embedder, size)
            if count == 0:
                break
            done += count
            bar.update(count)
    return done


class BackgroundEmbedder:
    """A daemon thread of the serving process that fills missing vectors."""

    def __init__(self, app: Flask, embedder: Embedder, model: str, batch: int):
        self.app = app
        self.embedder = embedder
        self.model = model
        self.batch = batch
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="plume-embedder", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        with self.app.app_context():
            try:
                ensure_model(self.model)
            except Exception:  # noqa: BLE001 - the thread must not die silently
                log.exception("background embedder could not check the model")
            while not self.stop.is_set():
                try:
                    started = time.perf_counter()
                    done = embed_pending(self.embedder, batch=self.batch, stop=self.stop)
                    if done:
                        log.info("background embedding done", extra={
                            "passages": done, "seconds": round(time.perf_counter() - started, 1)})
                    self.stop.wait(IDLE_SECONDS)
                except AppError as exc:
                    log.warning("background embedding paused", extra={"error": exc.detail})
                    self.stop.wait(ERROR_BACKOFF_SECONDS)
                except Exception:  # noqa: BLE001
                    log.exception("background embedding failed")
                    self.stop.wait(ERROR_BACKOFF_SECONDS)


def start_background(app: Flask | None = None) -> BackgroundEmbedder | None:
    """Start this process's embedder thread once (no-op when disabled)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    state: dict[str, Any] = app.extensions["plume.retrieval"]
    if not app.config.get("EMBED_IN_BACKGROUND", True):
        return None
    with state["lock"]:
        worker = state.get("background")
        if worker is None or not worker.thread.is_alive():
            batch = app.config.get("EMBEDDINGS_BATCH_SIZE", 64) if app.config.get(
                "EMBEDDINGS_BASE_URL") else 4
            worker = BackgroundEmbedder(app, get_embedder(app), model_name(app.config), batch)
            state["background"] = worker
            worker.start()
    return worker


def vector_index_parameters() -> dict[str, str]:
    """The HNSW index's build parameters, as stored (``m``, ``ef_construction``; those left
    to pgvector's defaults are missing)."""
    with db.connection() as conn:
        row = conn.execute("SELECT reloptions FROM pg_class WHERE relname = %(i)s AND relkind = 'i'",
                           {"i": INDEX}).fetchone()
    return dict(option.split("=", 1) for option in (row[0] or [])) if row else {}


def rebuild_vector_index(memory: str = "2GB", force: bool = False) -> bool:
    """Build the HNSW index again with :data:`HNSW_PARAMETERS`, while searches go on.

    ``CREATE INDEX CONCURRENTLY`` builds the new index beside the old one (searches and
    ingestion keep running; the build reads every vector, so it takes minutes per million
    passages), then one short transaction swaps them. ``memory`` is the build's
    ``maintenance_work_mem`` (the graph of 1 M passages takes about 2 GB; with less, the
    build is several times slower). False when the index already has these parameters.
    """
    if not force and vector_index_parameters() == HNSW_PARAMETERS:
        return False
    started = time.monotonic()
    with psycopg.connect(db.database_url(), autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("SET maintenance_work_mem = {}").format(psycopg.sql.Literal(memory)))
        conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}_new")   # an interrupted rebuild
        conn.execute(f"CREATE INDEX CONCURRENTLY {INDEX}_new ON passages "
                     f"USING hnsw (embedding vector_cosine_ops) WITH ({HNSW_OPTIONS})")
        with conn.transaction():
            conn.execute(f"DROP INDEX IF EXISTS {INDEX}")
            conn.execute(f"ALTER INDEX {INDEX}_new RENAME TO {INDEX}")
    log.warning("vector index rebuilt", extra={"parameters": HNSW_PARAMETERS,
                                                "seconds": round(time.monotonic() - started, 1)})
    return True
