"""AI Act record-keeping (Art. 12): one record per assist, search and transcription call.

Every use case reaches it through the metered call (``backend/usecases/metered.py``), which
writes the record's open row when the call is admitted (:meth:`Interaction.opening`) and
finishes it with the tokens to charge. The contract underneath::

    record = audit.start("assist", task="summarize")      # at request start, after auth
    record.update(model=..., host=..., prompt_version=..., source_ids=[...])
    record.first_token()                                   # when the first delta is sent
    record.finish("ok", usage={"prompt_tokens": .., "completion_tokens": ..},
                  charge=("generation", 145))              # tokens charged with the record
    record.finish("error", error_code="amont_indisponible")
    record.finish("stopped")                               # client went away / stop button

``finish`` is idempotent (the first call wins) and never raises into the caller. It writes
the record and waits for its commit (see :mod:`.records`), so call it before the stream's last event.
No prompt, document or answer text is ever passed to this room, except through
:meth:`Interaction.log_content`, which drops it unless an administrator turned content
logging on (``PLUME_AUDIT_CONTENT_LOGGING``).

Other functions: :func:`record_event` (inserted / edited / discarded / feedback, used by
the feedback endpoint), :func:`get_interaction`, and the observatory figures in
:mod:`.observatory`. Storage: ``audit_interactions`` and ``audit_events`` in one hash chain
(:mod:`.chain`), Prometheus counters in ``audit_metrics`` (:mod:`.metrics`).
"""
from __future__ import annotations

import logging
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator
from urllib.parse import urlsplit

from flask import Flask, current_app, g, has_app_context, has_request_context

from .. import db
from ..auth import user_hash
from ..errors import AppError
from . import records
from .cli import audit_group

log = logging.getLogger(__name__)

OUTCOMES = ("ok", "error", "stopped")
EVENT_KINDS = ("inserted", "edited", "discarded", "feedback")
# Metadata a caller may attach with update(); anything else is ignored (and never stored).
FIELDS = ("model", "host", "prompt_version", "source_ids", "jurisdictions", "usage")
UNCLOSED_CODE = "non_cloture"
INTERRUPTED_CODE = records.INTERRUPTED_CODE  # a record its job never finished (swept, purged)
MAX_LABEL = 200


def _short(value: Any) -> str | None:
    return None if value is None else str(value)[:MAX_LABEL]


def _host(value: Any) -> str | None:
    """Only the host (and port) of a URL: never a path, query or credentials."""
    if value is None:
        return None
    text = str(value)
    parts = urlsplit(text if "//" in text else f"//{text}")
    host = parts.hostname or text
    return _short(f"{host}:{parts.port}" if parts.port else host)


@dataclass
class Interaction:
    """One AI interaction being recorded; the user is captured when it starts."""

    kind: str
    task: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.perf_counter)
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    fields: dict[str, Any] = field(default_factory=dict)
    ttft_ms: float | None = None
    finished: bool = False
    user_hash: str = "systeme"
    roles: list[str] = field(default_factory=list)
    jurisdictions: list[str] = field(default_factory=list)
    app: Flask | None = field(default=None, repr=False)
    content: list[tuple[str, str]] = field(default_factory=list, repr=False)

    def update(self, **fields: Any) -> None:
        """Attach metadata (model, host, prompt_version, source_ids, jurisdictions, usage)."""
        for name, value in fields.items():
            if name in FIELDS:
                self.fields[name] = value
            else:
                # Not part of the record (it could carry text); only its name is logged.
                log.debug("audit field ignored", extra={"field": name, "interaction_id": self.id})

    def first_token(self) -> None:
        """Mark the time to first token (the first call counts)."""
        if self.ttft_ms is None:
            self.ttft_ms = round((time.perf_counter() - self.started) * 1000, 3)

    def log_content(self, part: str, text: str) -> None:
        """Keep ``text`` (a question, a document, an answer) only if content logging is on.

        Off by default; when an administrator turns it on, the text goes to the separate
        ``audit_content`` table with its own retention, never to the chain or the logs.
        """
        if self.app is not None and self.app.config.get("AUDIT_CONTENT_LOGGING") and text:
            self.content.append((_short(part) or "texte", str(text)))

    @contextmanager
    def failures(self) -> Iterator[None]:
        """Finish the record as an error if the block raises (with the code of an
        :class:`AppError`, or the generic one), then let the exception go on."""
        try:
            yield
        except AppError as err:
            self.finish("error", error_code=err.code)
            raise
        except Exception:
            self.finish("error", error_code=AppError.code)
            raise

    def opening(self) -> tuple[str, dict[str, Any]]:
        """The CTE (and its parameters) that writes this record's open row, for the
        statement that admits the call (:mod:`backend.usecases.metered`): a worker that
        dies before :meth:`finish` leaves a row that is later closed as « interrompu »."""
        return records.open_statement({
            "id": self.id, "started_at": self.started_at, "user_hash": self.user_hash,
            "roles": self.roles, "jurisdictions": sorted(self.jurisdictions),
            "kind": _short(self.kind), "task": _short(self.task)})

    def finish(self, outcome: str, *, error_code: str | None = None,
               usage: dict[str, int] | None = None,
               charge: tuple[str, int] | None = None) -> None:
        """Write the record (once). Never raises: a failure to record is logged and spooled.

        ``charge`` is ``(quota family, tokens)`` to add to the user's daily budget in the
        same transaction as the record (spooled with it if the database is down).
        """
        if self.finished:
            return
        self.finished = True
        try:
            self._write(outcome, error_code, usage, charge)
        except Exception:
            log.exception("audit record not written", extra={"interaction_id": self.id})

    def _write(self, outcome: str, error_code: str | None, usage: dict[str, int] | None,
               charge: tuple[str, int] | None = None) -> None:
        if outcome not in OUTCOMES:
            outcome, error_code = "error", error_code or outcome
        if outcome == "error" and not error_code:
            error_code = "erreur_inconnue"
        usage = usage or self.fields.get("usage") or {}
        record = {
            "id": self.id,
            "started_at": self.started_at,
            "user_hash": self.user_hash,
            "roles": self.roles,
            "jurisdictions": sorted(str(j) for j in self.fields.get("jurisdictions")
                                    or self.jurisdictions),
            "kind": _short(self.kind), "task": _short(self.task),
            "model": _short(self.fields.get("model")),
            "host": _host(self.fields.get("host")),
            "prompt_version": _short(self.fields.get("prompt_version")),
            "source_ids": [str(s) for s in self.fields.get("source_ids") or []],
            "prompt_tokens": _int(usage.get("prompt_tokens")),
            "completion_tokens": _int(usage.get("completion_tokens")),
            "ttft_ms": self.ttft_ms,
            "duration_ms": round((time.perf_counter() - self.started) * 1000, 3),
            "outcome": outcome,
            "error_code": _short(error_code) if outcome != "ok" else None,
        }
        if log.isEnabledFor(logging.INFO):
            log.info("interaction recorded", extra={
                "interaction_id": self.id, "kind": record["kind"], "task": record["task"],
                "outcome": outcome, "error_code": record["error_code"], "user": self.user_hash,
                "ttft_ms": self.ttft_ms, "duration_ms": record["duration_ms"],
                "prompt_tokens": record["prompt_tokens"],
                "completion_tokens": record["completion_tokens"],
            })
        app = self.app
        if app is None:
            log.warning("interaction started outside an application; not stored",
                        extra={"interaction_id": self.id})
            return
        records.write(app, "audit_interactions", record,
                      (self.user_hash, charge[0], int(charge[1])) if charge and charge[1] > 0 else None)
        if self.content:
            records.write_content(app, self.id, self.content)
            self.content = []

    def __del__(self) -> None:
        # Safety net: a caller that lost track of its interaction (an unexpected exception
        # path) still leaves a record, so requests and records always match in number.
        if not self.finished and self.app is not None:
            log.warning("interaction dropped without finish", extra={"interaction_id": self.id})
            self.finish("error", error_code=UNCLOSED_CODE)


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def start(kind: str, task: str, **fields: Any) -> Interaction:
    """Open the record of one interaction (kind: assist, search, transcribe).

    Inside a request, the caller's pseudonym, roles and jurisdictions are taken from
    ``g.user`` now, so ``finish`` works even after the request context is gone.
    """
    interaction = Interaction(kind=kind, task=task)
    if has_app_context():
        interaction.app = current_app._get_current_object()  # type: ignore[attr-defined]
    user = g.get("user") if has_request_context() else None
    if user is not None:
        interaction.user_hash = g.get("user_hash") or user_hash(user.id)
        interaction.roles = sorted(user.roles)
        interaction.jurisdictions = sorted(user.jurisdictions)
    interaction.update(**fields)
    return interaction


def pseudonym(user_id: str) -> str:
    """The pseudonymous id records carry for ``user_id`` (keyed hash)."""
    return user_hash(user_id)


def get_interaction(interaction_id: str) -> dict[str, Any] | None:
    """The stored record of one interaction (metadata only), or None."""
    try:
        key = uuid.UUID(str(interaction_id))
    except ValueError:
        return None
    with db.connection() as conn:
        cursor = conn.execute(
            "SELECT id, user_hash, kind, task, outcome, started_at FROM audit_interactions "
            "WHERE id = %s", (key,))
        row = cursor.fetchone()
        if row is None:
            return None
        names = [c.name for c in cursor.description]
    return dict(zip(names, row))


def record_event(interaction_id: str, kind: str, *, user_hash: str,
                 useful: bool | None = None, comment: str | None = None) -> str:
    """Append a later event (inserted, edited, discarded, feedback) to the chain; its id."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    event_id = str(uuid.uuid4())
    records.write(current_app._get_current_object(), "audit_events", {  # type: ignore[attr-defined]
        "id": event_id, "interaction_id": str(uuid.UUID(str(interaction_id))),
        "user_hash": user_hash, "kind": kind, "useful": useful, "comment": comment,
    })
    return event_id


def init_app(app: Flask) -> None:
    """Register the ``audit`` command group (verify, prune, flush)."""
    app.cli.add_command(audit_group)
