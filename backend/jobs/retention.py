"""Retention: each kind's jobs deleted once past their time, by one scheduled purge.

A kind declares how long its jobs are kept when it registers its handler
(``jobs.handler("dossier", retention=jobs.Retention("DOSSIER_RETENTION_DAYS", DAY))``): a
finished job (done, failed, cancelled) goes that long after it finished, and a held job (an
upload never completed) that long after its last part, each with its steps, files, calls
and whatever else cascades from its row. A kind that declares none is kept.

Every job worker (``python -m backend worker``, the one inside ``serve``) purges at start
and then every ``PLUME_JOB_PURGE_MINUTES``. A session advisory lock lets one worker purge
at a time, whatever the instance: another worker whose turn comes meanwhile skips it. Each
kind is purged in its own transaction, so a kind that fails (logged) does not hold back the
others, and is tried again at the next turn.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping

import psycopg
from flask import Flask, current_app

from .. import db

log = logging.getLogger(__name__)

PURGE_LOCK = 0x504C4A50  # "PLJP"; the picks hold "PLJB", the migrations "PLUM"
DEFAULT_PURGE_MINUTES = 60.0
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


@dataclass(frozen=True)
class Abandoned:
    """A held job the purge deleted before it ever ran (an upload never completed): its
    kind may close what it opened for it (the interaction record handed over to the job)."""

    id: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Retention:
    """How long a kind's jobs are kept: ``config[setting]`` times ``unit``.

    ``follows``: the params key naming another job this one belongs to (a dossier's
    versions: ``"dossier"``); once that job is gone, this one goes too, whenever it ended.
    ``abandoned``: called after a purge with the unfinished jobs it deleted, held ones and
    those whose job they follow went (their params are gone with them otherwise). ``also``: the use case's own rows to purge beside its jobs,
    on their own retention (a dossier's measures, kept as long as the records); returns how
    many. Both run in the worker that purges, inside an application context."""

    setting: str
    unit: timedelta
    follows: str | None = None
    abandoned: Callable[[list[Abandoned]], None] | None = field(default=None, compare=False)
    also: Callable[[Mapping[str, Any]], int] | None = field(default=None, compare=False)

    def keep(self, config: Mapping[str, Any]) -> timedelta:
        """How long jobs are kept under ``config``."""
        return self.unit * float(config[self.setting])

    def describe(self, config: Mapping[str, Any]) -> str:
        """In French, for the purge command: « 30 jours (PLUME_DOSSIER_RETENTION_DAYS) »."""
        amount = float(config[self.setting])
        unit = {DAY: "jour", HOUR: "heure"}.get(self.unit, f"× {self.unit}")
        plural = "s" if amount >= 2 and not unit.startswith("×") else ""
        return f"{amount:g} {unit}{plural} (PLUME_{self.setting})"


RETENTION: dict[str, Retention] = {}
"""Kinds and how long their jobs are kept; filled by :func:`backend.jobs.handler`."""


@dataclass
class Purged:
    """What one purge deleted, per kind, and the kinds whose purge failed (logged)."""

    counts: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def purge_seconds(config: Mapping[str, Any]) -> float:
    """Seconds between two purges of a worker: ``PLUME_JOB_PURGE_MINUTES``, else its former
    name ``PLUME_HEARING_PURGE_MINUTES`` (deployments that set it keep their interval)."""
    minutes = config.get("JOB_PURGE_MINUTES") or config.get("HEARING_PURGE_MINUTES")
    return 60.0 * float(minutes or DEFAULT_PURGE_MINUTES)


def purge_expired(kinds: Iterable[str] | None = None, *, wait: bool = True) -> Purged | None:
    """Delete the expired jobs of ``kinds`` (every kind that declared a retention when None).

    ``wait=False`` (a worker's turn): None at once when another worker is purging.
    ``wait=True`` (a command): waits for it, then purges. Needs an application context."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    chosen = sorted(RETENTION) if kinds is None else sorted(set(kinds))
    unknown = [kind for kind in chosen if kind not in RETENTION]
    if unknown:
        raise ValueError(f"no retention declared for job kind(s) {', '.join(unknown)}")
    # A session lock on a connection of its own, closed at the end: it goes with the
    # connection if this process dies, and each kind still commits on its own.
    with psycopg.connect(db.database_url(app), autocommit=True) as lock:
        if wait:
            lock.execute("SELECT pg_advisory_lock(%s)", (PURGE_LOCK,))
        elif not lock.execute("SELECT pg_try_advisory_lock(%s)", (PURGE_LOCK,)).fetchone()[0]:
            log.info("job purge skipped: another worker is purging")
            return None
        started, purged = time.monotonic(), Purged()
        for kind in chosen:
            try:
                purged.counts[kind] = _purge_kind(kind, RETENTION[kind], app.config)
            except Exception:  # noqa: BLE001 - the other kinds go on; this one at the next turn
                log.exception("job purge failed", extra={"kind": kind})
                purged.failed.append(kind)
    log.info("expired jobs purged", extra={"counts": purged.counts, "failed": purged.failed,
                                           "duration_s": round(time.monotonic() - started, 3)})
    return purged


def _purge_kind(kind: str, rule: Retention, config: Mapping[str, Any]) -> int:
    before = datetime.now(timezone.utc) - rule.keep(config)
    with db.connection() as conn:
        rows = conn.execute(
            """DELETE FROM jobs WHERE kind = %(kind)s
                  AND (finished_at < %(before)s
                       OR (state = 'queued' AND run_after = 'infinity' AND updated_at < %(before)s)
                       OR (params ? %(follows)s AND NOT EXISTS (
                               SELECT 1 FROM jobs followed WHERE followed.id::text = jobs.params->>%(follows)s)))
            RETURNING id::text, CASE WHEN finished_at IS NULL THEN params END""",
            {"kind": kind, "before": before, "follows": rule.follows}).fetchall()
    abandoned = [Abandoned(job_id, params) for job_id, params in rows if params is not None]
    if abandoned and rule.abandoned is not None:
        try:
            rule.abandoned(abandoned)
        except Exception:  # noqa: BLE001 - the jobs are gone already: counted as purged
            log.exception("abandoned jobs not closed by their kind", extra={"kind": kind})
    if rule.also is not None:
        rule.also(config)
    if rows:
        log.info("expired jobs deleted", extra={"kind": kind, "count": len(rows),
                                                "abandoned": len(abandoned)})
    return len(rows)
