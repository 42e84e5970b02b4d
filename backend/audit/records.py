"""Writing records so that none is lost: synchronous append, retries, then a local spool.

A record is appended to the chain in the caller's thread when the interaction finishes,
before the response ends (the stream's last event, or the error response), so gunicorn's
threads and workers need no background queue and a request that completed has its
record committed. If PostgreSQL cannot take it after a few quick retries, the record goes
to an append-only spool file under ``PLUME_DATA_DIR`` (one JSON line, metadata only) and
the next successful write, or ``python -m backend audit flush``, replays it; replay is
idempotent on the record id.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask

from .. import db
from . import chain

log = logging.getLogger(__name__)

ATTEMPTS = 3
POOL_TIMEOUT_SECONDS = 5.0
SPOOL_NAME = "audit-spool.jsonl"
_DATETIME_FIELDS = ("started_at",)


def spool_path(app: Flask) -> Path:
    return Path(app.config["DATA_DIR"]) / SPOOL_NAME


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot spool {type(value).__name__}")


def _append_once(app: Flask, table: str, record: dict[str, Any], replay: bool = False) -> None:
    with db.get_pool(app).connection(timeout=POOL_TIMEOUT_SECONDS) as conn:
        chain.append(conn, table, record, replay=replay)


def write(app: Flask, table: str, record: dict[str, Any]) -> bool:
    """Append ``record``; on repeated failure spool it. True when it reached the database."""
    error: Exception | None = None
    for attempt in range(ATTEMPTS):
        try:
            _append_once(app, table, record)
            break
        except Exception as exc:  # any failure: the record must still be kept
            error = exc
            time.sleep(0.05 * 2 ** attempt)
    else:
        _spool(app, table, record)
        log.error("audit record spooled: database unavailable (%s)", type(error).__name__,
                  extra={"record_id": str(record["id"]), "table": table})
        return False
    if _spool_pending(app):
        try:
            flush(app)
        except Exception as exc:  # the spool stays for the next write or `audit flush`
            log.error("audit spool not replayed (%s)", type(exc).__name__)
    return True


def _spool_pending(app: Flask) -> bool:
    try:
        return spool_path(app).stat().st_size > 0
    except FileNotFoundError:
        return False


def _spool(app: Flask, table: str, record: dict[str, Any]) -> None:
    path = spool_path(app)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"table": table, "record": record}, default=_encode, ensure_ascii=False)
    with open(path, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def flush(app: Flask) -> int:
    """Replay the spool into the chain; returns how many records it held.

    An exclusive lock on the file keeps two workers from replaying it together; the file
    is emptied only once every line is in the database.
    """
    path = spool_path(app)
    if not _spool_pending(app):
        return 0
    with open(path, "r+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # another worker is replaying it
        lines = [line for line in handle.read().splitlines() if line.strip()]
        for line in lines:
            item = json.loads(line)
            record = item["record"]
            for name in _DATETIME_FIELDS:
                if record.get(name):
                    record[name] = datetime.fromisoformat(record[name])
            _append_once(app, item["table"], record, replay=True)
        handle.truncate(0)  # not unlinked: a writer may be waiting on this very file
    if lines:
        log.info("audit spool replayed", extra={"records": len(lines)})
    return len(lines)


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
