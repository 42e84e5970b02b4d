"""Structured JSON logs on stdout: one line per request, never a request body.

A request line carries its id, route, status, duration and the pseudonymous user hash.
Other rooms log through the standard ``logging`` module; ``extra`` fields become JSON keys.
"""
from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from flask import Flask, Response, g, request

# LogRecord attributes that are not user "extra" fields.
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class StdoutHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stdout`` is at emit time (so captured output sees it)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property  # type: ignore[override]
    def stream(self):  # noqa: D401
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure(level: str) -> None:
    """Send every log record to stdout as JSON (idempotent: one handler on the root logger)."""
    root = logging.getLogger()
    root.setLevel(level)
    for handler in root.handlers:
        if getattr(handler, "_plume", False):
            return
    handler = StdoutHandler()
    handler.setFormatter(JsonFormatter())
    handler._plume = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


access_log = logging.getLogger("plume.access")


def init_app(app: Flask) -> None:
    """Give each request an id and write one access line when it ends."""

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if 8 <= len(incoming) <= 64 and incoming.isascii() else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _access(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        if not access_log.isEnabledFor(logging.INFO):
            return response  # the line's fields are not worth gathering for nobody
        started = g.get("started")
        access_log.info(
            "request",
            extra={
                "request_id": g.get("request_id"),
                "method": request.method,
                "route": request.url_rule.rule if request.url_rule else None,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
                "user": g.get("user_hash"),
                "streamed": response.is_streamed,
            },
        )
        return response
