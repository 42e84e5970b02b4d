"""AI Act record-keeping (Art. 12): one record per assist, search and transcription call.

Contract used by the other rooms (the gateway, retrieval, transcription)::

    record = audit.start("assist", task="summarize")      # at request start, after auth
    record.update(model=..., host=..., prompt_version=..., source_ids=[...])
    record.first_token()                                   # when the first delta is sent
    record.finish("ok", usage={"prompt_tokens": .., "completion_tokens": ..})
    record.finish("error", error_code="amont_indisponible")
    record.finish("stopped")                               # client went away / stop button

``finish`` is idempotent (the first call wins) and never raises into the caller.
No prompt, document or answer text is ever passed to this room.
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, g

log = logging.getLogger(__name__)


@dataclass
class Interaction:
    """One AI interaction being recorded."""

    kind: str
    task: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.perf_counter)
    fields: dict[str, Any] = field(default_factory=dict)
    ttft_ms: float | None = None
    finished: bool = False

    def update(self, **fields: Any) -> None:
        self.fields.update(fields)

    def first_token(self) -> None:
        if self.ttft_ms is None:
            self.ttft_ms = (time.perf_counter() - self.started) * 1000

    def finish(self, outcome: str, *, error_code: str | None = None,
               usage: dict[str, int] | None = None) -> None:
        if self.finished:
            return
        self.finished = True
        log.info("interaction finished", extra={
            "interaction_id": self.id, "kind": self.kind, "task": self.task,
            "outcome": outcome, "error_code": error_code, "usage": usage,
            "ttft_ms": self.ttft_ms, "user": g.get("user_hash"),
        })


def start(kind: str, task: str, **fields: Any) -> Interaction:
    """Open the record of one interaction (kind: assist, search, transcribe)."""
    interaction = Interaction(kind=kind, task=task)
    interaction.update(**fields)
    return interaction


def init_app(app: Flask) -> None:
    """Nothing to set up yet."""
