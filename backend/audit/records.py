"""Writing records so that none is lost: group commit, retries, then a local spool.

A record is committed before the response that produced it ends (the stream's last event,
or the error response): :func:`write` hands it to the process's writer thread and waits
for the commit. The writer takes every record waiting at that moment and appends them in
one transaction (one chain lock, one commit, one metrics upsert), the way PostgreSQL
groups WAL flushes: under load a commit carries dozens of records, so record-keeping
neither serialises the gunicorn threads on the chain lock nor costs each call a commit.

If PostgreSQL cannot take a batch, its records are written one by one, each with a few
quick retries; one that still fails goes to an append-only spool file under
``PLUME_DATA_DIR`` (:mod:`.spool`) and the next successful write, or ``python -m backend
audit flush``, replays it; a record the database refuses goes to the dead letters there.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask

from .. import db
from . import chain, spool

log = logging.getLogger(__name__)

ATTEMPTS = 3
POOL_TIMEOUT_SECONDS = 5.0
BATCH_MAX = 500
# A caller stops waiting after this long (the writer keeps the record and stores or
# spools it); only reached when PostgreSQL hangs rather than fails.
WAIT_SECONDS = 30.0
IDLE_SECONDS = 60.0
SPOOL_NAME = spool.SPOOL_NAME


def spool_path(app: Flask) -> Path:
    return spool.path(app)


def _append_once(app: Flask, table: str, record: dict[str, Any], replay: bool = False) -> None:
    with db.get_pool(app).connection(timeout=POOL_TIMEOUT_SECONDS) as conn:
        chain.append(conn, table, record, replay=replay)


@dataclass
class _Pending:
    """One record waiting for the writer; ``stored`` says where it ended up."""

    table: str
    record: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    stored: bool = False


_writers_lock = threading.Lock()


class _Writer:
    """The writer thread of one application in this process. It starts on demand (after
    gunicorn's fork; again in a forked child) and ends after a minute without records,
    so an application that is gone leaves no thread behind."""

    def __init__(self, app: Flask):
        self.app = app
        self.queue: deque[_Pending] = deque()
        self.ready = threading.Condition()
        self.pid = os.getpid()
        self.thread: threading.Thread | None = None

    def submit(self, pending: _Pending) -> bool:
        """Queue ``pending``; False when no thread can take it (interpreter shutting down)."""
        with self.ready:
            if self.thread is None:
                thread = threading.Thread(target=self._run, name="plume-audit-writer", daemon=True)
                try:
                    thread.start()
                except RuntimeError:  # "can't create new thread at interpreter shutdown"
                    return False
                self.thread = thread
            self.queue.append(pending)
            self.ready.notify()
        return True

    def _run(self) -> None:
        while True:
            with self.ready:
                if not self.queue:
                    self.ready.wait(IDLE_SECONDS)
                if not self.queue:
                    self.thread = None  # under the lock: the next submit starts a new one
                    return
                batch = [self.queue.popleft() for _ in range(min(len(self.queue), BATCH_MAX))]
            try:
                _store(self.app, batch)
            except BaseException:  # noqa: BLE001 - the thread must outlive any failure
                log.exception("audit writer failed")
            finally:
                for pending in batch:
                    pending.done.set()


def _writer(app: Flask) -> _Writer:
    with _writers_lock:
        writer = app.extensions.get("plume.audit.writer")
        if writer is None or writer.pid != os.getpid():
            writer = app.extensions["plume.audit.writer"] = _Writer(app)
        return writer


def write(app: Flask, table: str, record: dict[str, Any]) -> bool:
    """Append ``record`` and wait for its commit. True when it reached the database
    (False: spooled, or still with the writer after ``WAIT_SECONDS``)."""
    pending = _Pending(table, record)
    writer = _writer(app)
    if threading.current_thread() is writer.thread or not writer.submit(pending):
        _store(app, [pending])  # from the writer itself (GC), or at interpreter shutdown
        return pending.stored
    if not pending.done.wait(WAIT_SECONDS):
        log.error("audit record still waiting for the database",
                  extra={"record_id": str(record["id"]), "table": table})
    return pending.stored


def _store(app: Flask, batch: list[_Pending]) -> None:
    """One transaction for the whole batch; record by record (with retries, then the
    spool) if it fails, so one bad record cannot take the others with it."""
    try:
        with db.get_pool(app).connection(timeout=POOL_TIMEOUT_SECONDS) as conn:
            chain.append_many(conn, [(p.table, p.record) for p in batch])
        for pending in batch:
            pending.stored = True
    except Exception as exc:  # noqa: BLE001 - every record must still be kept
        log.warning("audit batch not written (%s); writing its %d record(s) one by one",
                    type(exc).__name__, len(batch))
        for pending in batch:
            pending.stored = _store_one(app, pending.table, pending.record)
    if any(p.stored for p in batch) and _spool_pending(app):
        try:
            flush(app)
        except Exception as exc:  # the spool stays for the next write or `audit flush`
            log.error("audit spool not replayed (%s)", type(exc).__name__)


def _store_one(app: Flask, table: str, record: dict[str, Any]) -> bool:
    error: Exception | None = None
    for attempt in range(ATTEMPTS):
        try:
            _append_once(app, table, record)
            return True
        except Exception as exc:  # any failure: the record must still be kept
            error = exc
            time.sleep(0.05 * 2 ** attempt)
    _spool(app, table, record)
    log.error("audit record spooled: database unavailable (%s)", type(error).__name__,
              extra={"record_id": str(record["id"]), "table": table})
    return False


def _spool_pending(app: Flask) -> bool:
    return spool.has_pending(app)


def _spool(app: Flask, table: str, record: dict[str, Any]) -> None:
    spool.append(app, table, record)


def flush(app: Flask) -> int:
    """Replay the spool into the chain (see :mod:`.spool`); how many records were stored."""
    return spool.flush(app, lambda table, record: _append_once(app, table, record,
                                                               replay=True)).stored


def write_content(app: Flask, interaction_id: str, parts: list[tuple[str, str]]) -> None:
    """Store opted-in content (only ever called when PLUME_AUDIT_CONTENT_LOGGING is on)."""
    try:
        with db.get_pool(app).connection(timeout=POOL_TIMEOUT_SECONDS) as conn:
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO audit_content (interaction_id, part, content) VALUES (%s, %s, %s)",
                    [(interaction_id, part, text) for part, text in parts])
    except Exception as exc:
        log.error("audit content not stored (%s)", type(exc).__name__,
                  extra={"interaction_id": interaction_id})
