"""The local spool of records the database could not take, and its dead letters.

When PostgreSQL cannot store a record, :mod:`.records` appends it here (one JSON line,
metadata only, under ``PLUME_DATA_DIR``); the next successful write, or ``python -m
backend audit flush``, replays it into the chain, idempotently on the record id.

Two kinds of failure must not be confused. The database being away (connection refused,
pool timeout) stops the replay and keeps the rest of the spool, in order, for the next
try. The database refusing *this* record (a ``DataError`` such as a NUL in a text, a
constraint it breaks, a line that is not a record) would fail the same way for ever:
that record is moved aside to the dead-letter file ``audit-dead.jsonl`` with a log line
naming it, and the replay goes on with the others. One bad record never blocks the rest.

Both files are counted by :func:`status`, which ``/readyz``, ``/metrics``, the observatory
and ``audit verify`` report: a chain is not called intact while records wait or are dead.
The counts are this instance's (the spool is a local file of each instance).
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import psycopg
from flask import Flask

log = logging.getLogger(__name__)

SPOOL_NAME = "audit-spool.jsonl"
DEAD_NAME = "audit-dead.jsonl"
_DATETIME_FIELDS = ("started_at",)
# The database refused the record itself: replaying it can never succeed.
REFUSALS = (psycopg.DataError, psycopg.IntegrityError, UnicodeError, ValueError, KeyError,
            TypeError)


@dataclass(frozen=True)
class SpoolStatus:
    """Records waiting in the spool, and records moved aside as dead letters."""

    pending: int = 0
    dead: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"pending": self.pending, "dead": self.dead}


@dataclass(frozen=True)
class FlushResult:
    """What one replay did: records stored, moved to the dead letters, left waiting."""

    stored: int = 0
    dead: int = 0
    left: int = 0


def path(app: Flask) -> Path:
    return Path(app.config["DATA_DIR"]) / SPOOL_NAME


def dead_path(app: Flask) -> Path:
    return Path(app.config["DATA_DIR"]) / DEAD_NAME


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot spool {type(value).__name__}")


def _append_line(target: Path, item: dict[str, Any]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(item, default=_encode, ensure_ascii=False)
    with open(target, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def append(app: Flask, table: str, record: dict[str, Any]) -> None:
    """Keep ``record`` for a later replay (fsynced before returning)."""
    _append_line(path(app), {"table": table, "record": record})


def has_pending(app: Flask) -> bool:
    try:
        return path(app).stat().st_size > 0
    except FileNotFoundError:
        return False


def _count_lines(target: Path) -> int:
    try:
        with open(target, "rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 16), b""))
    except FileNotFoundError:
        return 0


def status(app: Flask) -> SpoolStatus:
    """How many records wait in the spool and how many were moved aside as dead."""
    return SpoolStatus(pending=_count_lines(path(app)), dead=_count_lines(dead_path(app)))


def _decode(line: str) -> tuple[str, dict[str, Any]]:
    item = json.loads(line)
    record = item["record"]
    for name in _DATETIME_FIELDS:
        if record.get(name):
            record[name] = datetime.fromisoformat(record[name])
    return item["table"], record


def _bury(app: Flask, line: str, error: BaseException) -> None:
    try:
        item: Any = json.loads(line)
    except ValueError:
        item = {"line": line}
    reason = f"{type(error).__name__}: {error}"[:500]
    _append_line(dead_path(app), {**item, "error": reason,
                                  "dead_at": datetime.now(timezone.utc).isoformat()})
    record_id = item.get("record", {}).get("id") if isinstance(item.get("record"), dict) else None
    log.error("audit record refused by the database; moved to the dead letters",
              extra={"record_id": record_id, "table": item.get("table"), "error": reason,
                     "dead_letters": str(dead_path(app))})


def flush(app: Flask, append_once: Callable[[str, dict[str, Any]], Any]) -> FlushResult:
    """Replay the spool through ``append_once(table, record)`` (idempotent on the id).

    An exclusive lock on the file keeps two workers from replaying it together. A record
    the database refuses goes to the dead letters; when the database is away, the replay
    stops and the lines not yet stored stay in the spool, in order.
    """
    if not has_pending(app):
        return FlushResult()
    stored = dead = 0
    with open(path(app), "r+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return FlushResult()  # another worker is replaying it
        lines = [line for line in handle.read().splitlines() if line.strip()]
        left: list[str] = []
        for index, line in enumerate(lines):
            try:
                table, record = _decode(line)
                append_once(table, record)
                stored += 1
            except REFUSALS as exc:
                _bury(app, line, exc)
                dead += 1
            except Exception as exc:  # noqa: BLE001 - the database is away: keep the rest
                log.warning("audit spool replay stopped (%s); %d record(s) left",
                            type(exc).__name__, len(lines) - index)
                left = lines[index:]
                break
        # Rewritten in place, not replaced: a writer may be waiting on this very file.
        handle.seek(0)
        handle.truncate(0)
        if left:
            handle.write("\n".join(left) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    if stored or dead:
        log.info("audit spool replayed",
                 extra={"records": stored, "dead": dead, "left": len(left)})
    return FlushResult(stored=stored, dead=dead, left=len(left))
