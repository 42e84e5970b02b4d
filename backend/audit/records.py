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
audit flush``, replays it (idempotent on the record id); a record the database refuses goes
to the dead letters there.

A record may carry the tokens to charge to its user's daily budget: they are added in
the transaction that stores the record, and spooled and replayed with it, so a charge is
never lost when the database is down, and never counted twice when a spool is replayed.
The same transaction deletes the record's open row (``audit_open``, written when the
call started); :func:`close_interrupted` turns the open rows of dead workers into
records of their own.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask
from psycopg.rows import dict_row

from .. import db
from ..auth import quotas
from . import chain, spool

log = logging.getLogger(__name__)

ATTEMPTS = 3
POOL_TIMEOUT_SECONDS = 5.0
BATCH_MAX = 500
# A caller stops waiting after this long (the writer keeps the record and stores or
# spools it); only reached when PostgreSQL hangs rather than fails.
WAIT_SECONDS = 30.0
IDLE_SECONDS = 60.0
# Under load (a batch stored less than BUSY_SECONDS ago), the writer lets the records of
# the next GATHER_SECONDS join one commit instead of waking for each: a commit costs far
# more than a record in it. An idle writer stores the first record at once.
GATHER_SECONDS = 0.01
BUSY_SECONDS = 0.05
SPOOL_NAME = spool.SPOOL_NAME
# (user_hash, quota family, tokens) charged with a record.
Charge = tuple[str, str, int]
INTERRUPTED_CODE = "interrompu"
# No call lasts this long (the longest model call is PLUME_LLM_TIMEOUT_TOTAL, 300 s by
# default, and a long document's parts run a few at a time): an open row older than this
# belongs to a worker that died, whichever instance it ran on.
OPEN_GRACE = timedelta(hours=2)
INSTANCE = socket.gethostname()


def spool_path(app: Flask) -> Path:
    return spool.path(app)


def _append_once(app: Flask, table: str, record: dict[str, Any], charge: Charge | None = None,
                 replay: bool = False) -> None:
    with db.get_pool(app).connection(timeout=POOL_TIMEOUT_SECONDS) as conn:
        _append(conn, [(table, record, charge)], replay=replay)


def _append(conn: psycopg.Connection, items: list[tuple[str, dict[str, Any], Charge | None]], *,
            replay: bool = False) -> None:
    """Append records to the chain, charge their tokens and close their open rows, in one
    transaction (a replayed record already stored is skipped with its charge). The charges
    and the deletion go out in the statement that ends the records' batch."""

    def charge_and_close(seqs: list[int | None]) -> list[tuple[str, dict[str, Any]]]:
        ctes = []
        charged = quotas.charge_statement(
            [charge for (_, _, charge), seq in zip(items, seqs) if charge and seq is not None])
        if charged is not None:
            ctes.append(charged)
        opened = [record["id"] for table, record, _ in items if table == "audit_interactions"]
        if opened:
            ctes.append((_CLOSE_CTE, {"close_ids": opened}))
        return ctes

    with conn.transaction():
        chain.append_many(conn, [(table, record) for table, record, _ in items], replay=replay,
                          then=charge_and_close)


_CLOSE_CTE = "closed AS (DELETE FROM audit_open WHERE id = ANY(%(close_ids)s::uuid[]))"


@dataclass
class _Pending:
    """One record waiting for the writer; ``stored`` says where it ended up."""

    table: str
    record: dict[str, Any]
    charge: Charge | None = None
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
        self.stored_at = 0.0
        # Records left open by this process's dead predecessors are closed once, after
        # this process's first batch (not before it: that batch has a caller waiting).
        self.swept = False

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
            if time.monotonic() - self.stored_at < BUSY_SECONDS and len(self.queue) < BATCH_MAX:
                time.sleep(GATHER_SECONDS)  # busy: the records of the next moment join this commit
            with self.ready:
                batch = [self.queue.popleft() for _ in range(min(len(self.queue), BATCH_MAX))]
            try:
                _store(self.app, batch)
            except BaseException:  # noqa: BLE001 - the thread must outlive any failure
                log.exception("audit writer failed")
            finally:
                self.stored_at = time.monotonic()
                for pending in batch:
                    pending.done.set()
            if not self.swept:
                self.swept = True
                try:
                    close_interrupted(self.app)
                except Exception as exc:  # noqa: BLE001 - the nightly job will close them
                    log.warning("interrupted records not closed (%s)", type(exc).__name__)


def _writer(app: Flask) -> _Writer:
    with _writers_lock:
        writer = app.extensions.get("plume.audit.writer")
        if writer is None or writer.pid != os.getpid():
            writer = app.extensions["plume.audit.writer"] = _Writer(app)
        return writer


def write(app: Flask, table: str, record: dict[str, Any], charge: Charge | None = None) -> bool:
    """Append ``record`` (and charge its tokens) and wait for its commit. True when it
    reached the database (False: spooled, or still with the writer after ``WAIT_SECONDS``)."""
    pending = _Pending(table, record, charge)
    writer = _writer(app)
    # By ident: under gevent, current_thread() in a request's greenlet builds a dummy
    # Thread object on every call.
    thread = writer.thread
    if (thread is not None and thread.ident == threading.get_ident()) or not writer.submit(pending):
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
            _append(conn, [(p.table, p.record, p.charge) for p in batch])
        for pending in batch:
            pending.stored = True
    except Exception as exc:  # noqa: BLE001 - every record must still be kept
        log.warning("audit batch not written (%s); writing its %d record(s) one by one",
                    type(exc).__name__, len(batch))
        for pending in batch:
            pending.stored = _store_one(app, pending.table, pending.record, pending.charge)
    if any(p.stored for p in batch) and _spool_pending(app):
        try:
            flush(app)
        except Exception as exc:  # the spool stays for the next write or `audit flush`
            log.error("audit spool not replayed (%s)", type(exc).__name__)


def _store_one(app: Flask, table: str, record: dict[str, Any], charge: Charge | None) -> bool:
    error: Exception | None = None
    for attempt in range(ATTEMPTS):
        try:
            _append_once(app, table, record, charge)
            return True
        except Exception as exc:  # any failure: the record must still be kept
            error = exc
            time.sleep(0.05 * 2 ** attempt)
    _spool(app, table, record, charge)
    log.error("audit record spooled: database unavailable (%s)", type(error).__name__,
              extra={"record_id": str(record["id"]), "table": table})
    return False


def _spool_pending(app: Flask) -> bool:
    return spool.has_pending(app)


def _spool(app: Flask, table: str, record: dict[str, Any], charge: Charge | None = None) -> None:
    spool.append(app, table, record, charge)


def replay(app: Flask) -> spool.FlushResult:
    """Replay the spool into the chain, each record with its charge (see :mod:`.spool`)."""
    return spool.flush(app, lambda table, record, charge: _append_once(
        app, table, record, charge, replay=True))


def flush(app: Flask) -> int:
    """Replay the spool; how many records were stored."""
    return replay(app).stored


def open_row(record: dict[str, Any]) -> dict[str, Any]:
    """What an open row holds: what is known when a call starts, and who runs it."""
    return {"id": record["id"], "started_at": record["started_at"], "user_hash": record["user_hash"],
            "roles": record["roles"], "jurisdictions": record["jurisdictions"],
            "kind": record["kind"], "task": record["task"], "instance": INSTANCE, "pid": os.getpid()}


OPEN_COLUMNS = ("id", "started_at", "user_hash", "roles", "jurisdictions", "kind", "task",
                "instance", "pid")
# A CTE for the statement that admits a call (see auth.quotas.check): the open row is
# written in the same round trip as the quota check.
OPEN_CTE = ("opened AS (INSERT INTO audit_open ({columns}) VALUES ({values}) "
            "ON CONFLICT (id) DO NOTHING RETURNING 1)").format(
    columns=", ".join(OPEN_COLUMNS), values=", ".join(f"%(open_{c})s" for c in OPEN_COLUMNS))


def open_statement(record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The CTE and parameters that write ``record``'s open row."""
    row = open_row(record)
    return OPEN_CTE, {f"open_{name}": row[name] for name in OPEN_COLUMNS}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def close_interrupted(app: Flask, *, grace: timedelta = OPEN_GRACE) -> int:
    """Close the records left open by dead workers as errors « interrompu »; how many.

    A row of this instance whose process is gone is closed at once (a worker killed and
    restarted by gunicorn); a row older than ``grace`` whatever its instance (a container
    replaced). Two workers closing the same row append it once: the chain's head lock
    orders them and the second finds the record already there (the spool's replay rule).
    """
    now = datetime.now(timezone.utc)
    with db.get_pool(app).connection(timeout=POOL_TIMEOUT_SECONDS) as conn:
        with conn.transaction():
            rows = conn.cursor(row_factory=dict_row).execute(
                # A record owed by a job that still lives (a dossier: its id is the job's)
                # is not interrupted: the job's next run finishes it.
                "SELECT * FROM audit_open WHERE (started_at < %(old)s OR instance = %(me)s) "
                "AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.id = audit_open.id "
                "AND jobs.finished_at IS NULL)",
                {"old": now - grace, "me": INSTANCE}).fetchall()
            dead = [row for row in rows if row["started_at"] < now - grace
                    or (row["pid"] != os.getpid() and not _alive(row["pid"]))]
            if not dead:
                return 0
            records = [("audit_interactions", {
                "id": str(row["id"]), "started_at": row["started_at"], "user_hash": row["user_hash"],
                "roles": row["roles"], "jurisdictions": row["jurisdictions"], "kind": row["kind"],
                "task": row["task"], "model": None, "host": None, "prompt_version": None,
                "source_ids": [], "prompt_tokens": None, "completion_tokens": None, "ttft_ms": None,
                "duration_ms": None, "outcome": "error", "error_code": INTERRUPTED_CODE,
            }, None) for row in dead]
            _append(conn, records, replay=True)
    log.warning("interrupted interactions closed", extra={"records": len(dead)})
    return len(dead)


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
