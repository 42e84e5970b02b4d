"""The AI Observatory's figures as JSON, and the CSV export (administrators only).

Every route takes an optional period, ``from`` and ``to`` (``YYYY-MM-DD``, Paris time,
both included; default the last 12 weeks), and answers ``{"period": {...}, ...}``.
The page ``/addin/observatory/`` draws these figures; it is a static file, so access is
enforced here: every route requires the ``Plume.Admin`` role (403 otherwise).
"""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any, Iterator

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context

from ..audit import observatory, spool
from ..audit.observatory import Period
from ..auth import ROLE_ADMIN, require_roles
from ..errors import ValidationError
from .openapi import JSON_ERROR

bp = Blueprint("observatory", __name__, url_prefix="/api/v1/observatory")

MAX_PERIOD_DAYS = 3 * 366
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _day(name: str) -> date | None:
    raw = request.args.get(name)
    if raw is None:
        return None  # an empty value is a malformed date, not "the default"
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(name, f"La date « {name} » doit être au format AAAA-MM-JJ.") from None


def _period() -> Period:
    default = Period.default()
    start, end = _day("from"), _day("to")
    end = end or default.end
    start = start or end - (default.end - default.start)
    if start > end:
        raise ValidationError("from", "La date de début est postérieure à la date de fin.")
    if end - start > timedelta(days=MAX_PERIOD_DAYS):
        raise ValidationError("from", "La période ne peut dépasser trois ans.")
    return Period(start, end)


def _answer(period: Period, **figures: Any) -> Response:
    return jsonify(period=period.as_dict(), **figures)


@bp.get("/summary")
@require_roles(ROLE_ADMIN)
def summary():
    """Totals, and how records are kept."""
    period = _period()
    config = current_app.config
    return _answer(period, totals=observatory.summary(period), records={
        "retention_days": config["AUDIT_RETENTION_DAYS"],
        "content_logging": bool(config["AUDIT_CONTENT_LOGGING"]),
        "content_retention_days": config["AUDIT_CONTENT_RETENTION_DAYS"],
        "spool": spool.status(current_app).as_dict(),
    })


@bp.get("/usage")
@require_roles(ROLE_ADMIN)
def usage():
    """Interactions and distinct users by task, kind, role, jurisdiction or week."""
    period = _period()
    by = request.args.get("by", "task")
    if by not in observatory.USAGE_DIMENSIONS:
        raise ValidationError(
            "by", "« by » vaut " + ", ".join(observatory.USAGE_DIMENSIONS) + ".")
    return _answer(period, by=by, rows=observatory.usage(period, by))


@bp.get("/latency")
@require_roles(ROLE_ADMIN)
def latency():
    """Time to first token and duration, p50 and p95, per task."""
    period = _period()
    return _answer(period, rows=observatory.latency(period))


@bp.get("/errors")
@require_roles(ROLE_ADMIN)
def errors():
    """Error and stop rates per task, errors by cause."""
    period = _period()
    return _answer(period, **observatory.errors(period))


@bp.get("/feedback")
@require_roles(ROLE_ADMIN)
def feedback():
    """Useful / not useful per task, latest comments."""
    period = _period()
    return _answer(period, **observatory.feedback(period))


@bp.get("/text-outcomes")
@require_roles(ROLE_ADMIN)
def text_outcomes():
    """Share of generated text inserted, edited, discarded or left aside, per task."""
    period = _period()
    return _answer(period, rows=observatory.text_outcomes(period))


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, str) and value.startswith(CSV_FORMULA_PREFIXES):
        return "'" + value  # a spreadsheet must not run it as a formula
    return value


def _csv(period: Period) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(observatory.EXPORT_COLUMNS)
    yield "\ufeff" + buffer.getvalue()  # BOM: spreadsheets then read UTF-8 accents
    for row in observatory.export_rows(period):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(row[name]) for name in observatory.EXPORT_COLUMNS])
        yield buffer.getvalue()


@bp.get("/export.csv")
@require_roles(ROLE_ADMIN)
def export_csv():
    """Every interaction of the period, one CSV row each (metadata, no pseudonym)."""
    period = _period()
    name = f"plume-observatoire-{period.start}-{period.end}.csv"
    return Response(stream_with_context(_csv(period)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


_PERIOD_PARAMS = [
    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "First day (Paris time); default 12 weeks before `to`; at most three "
                    "years before `to`, and not after it"},
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "Last day (Paris time), included; default today"},
]
_RESPONSES = {
    "200": {"description": "Figures"},
    "400": {"description": "Invalid period", "content": JSON_ERROR},
    "403": {"description": "Not an administrator", "content": JSON_ERROR},
}


def _op(summary_text: str, extra_params: list | None = None, ok: dict | None = None) -> dict:
    return {"get": {"summary": summary_text, "tags": ["observatory"],
                    "parameters": [*_PERIOD_PARAMS, *(extra_params or [])],
                    "responses": {**_RESPONSES, **(ok or {})}}}


OPENAPI = {
    "/api/v1/observatory/summary": _op("Observatory totals and record-keeping settings"),
    "/api/v1/observatory/usage": _op(
        "Usage by task, kind, role, jurisdiction or week",
        [{"name": "by", "in": "query",
          "schema": {"type": "string", "enum": list(observatory.USAGE_DIMENSIONS),
                     "default": "task"}}]),
    "/api/v1/observatory/latency": _op("Time to first token and duration (p50, p95) per task"),
    "/api/v1/observatory/errors": _op("Error and stop rates per task, errors by cause"),
    "/api/v1/observatory/feedback": _op("Feedback per task and latest comments"),
    "/api/v1/observatory/text-outcomes": _op(
        "Share of AI text inserted, edited, discarded or left aside"),
    "/api/v1/observatory/export.csv": _op(
        "CSV export of the period's interactions (metadata only)",
        ok={"200": {"description": "CSV (semicolon-separated, UTF-8 with BOM)",
                    "content": {"text/csv": {}}}}),
}
