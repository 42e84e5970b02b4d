"""The AI Observatory's figures: how AI is used, never what was written.

Every function takes a :class:`Period` and returns plain lists of dicts computed in SQL
over the interaction records and their events. Users appear only as counts of distinct
pseudonyms; free-text feedback comments are the only text, and only in :func:`feedback`.
Weeks are ISO weeks (Monday) in Paris time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Iterator
from zoneinfo import ZoneInfo

from psycopg.rows import dict_row

from .. import db

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_WEEKS = 12
USAGE_DIMENSIONS = ("task", "kind", "role", "jurisdiction", "week")
NONE_LABEL = "non renseigné"
RECENT_COMMENTS = 20


@dataclass(frozen=True)
class Period:
    """Days ``start`` (inclusive) to ``end`` (inclusive), in Paris time."""

    start: date
    end: date

    @classmethod
    def default(cls, today: date | None = None) -> "Period":
        today = today or datetime.now(PARIS).date()
        return cls(today - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1), today)

    def params(self) -> dict[str, Any]:
        return {"start": datetime.combine(self.start, time.min, PARIS),
                "end": datetime.combine(self.end + timedelta(days=1), time.min, PARIS)}

    def as_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


IN_PERIOD = "i.started_at >= %(start)s AND i.started_at < %(end)s"

_USAGE_KEY = {
    "task": "i.task",
    "kind": "i.kind",
    "role": f"COALESCE(r.role, '{NONE_LABEL}')",
    "jurisdiction": f"COALESCE(j.jurisdiction, '{NONE_LABEL}')",
    "week": "to_char(date_trunc('week', i.started_at AT TIME ZONE 'Europe/Paris'), 'YYYY-MM-DD')",
}
_USAGE_JOIN = {
    "role": "LEFT JOIN LATERAL unnest(i.roles) AS r(role) ON true",
    "jurisdiction": "LEFT JOIN LATERAL unnest(i.jurisdictions) AS j(jurisdiction) ON true",
}


def _query(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with db.connection() as conn:
        with conn.cursor(row_factory=dict_row) as cursor:
            return cursor.execute(sql, params).fetchall()


def _round(value: Any, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def summary(period: Period) -> dict[str, Any]:
    """Totals over the period."""
    row = _query(f"""
        SELECT count(*) AS interactions,
               count(DISTINCT i.user_hash) AS users,
               count(*) FILTER (WHERE outcome = 'ok') AS ok,
               count(*) FILTER (WHERE outcome = 'error') AS errors,
               count(*) FILTER (WHERE outcome = 'stopped') AS stopped,
               COALESCE(sum(prompt_tokens), 0) AS prompt_tokens,
               COALESCE(sum(completion_tokens), 0) AS completion_tokens
        FROM audit_interactions i WHERE {IN_PERIOD}""", period.params())[0]
    return {key: int(value) for key, value in row.items()}


def usage(period: Period, by: str) -> list[dict[str, Any]]:
    """Interactions and distinct users per task, kind, role, jurisdiction or week.

    A user holding two roles (or jurisdictions) counts once under each.
    """
    if by not in USAGE_DIMENSIONS:
        raise ValueError(f"unknown usage dimension {by!r}")
    rows = _query(f"""
        SELECT {_USAGE_KEY[by]} AS key, count(*) AS interactions,
               count(DISTINCT i.user_hash) AS users
        FROM audit_interactions i {_USAGE_JOIN.get(by, '')}
        WHERE {IN_PERIOD} GROUP BY 1 ORDER BY {'1' if by == 'week' else '2 DESC, 1'}""",
                  period.params())
    return [{"key": r["key"], "interactions": r["interactions"], "users": r["users"]} for r in rows]


def latency(period: Period) -> list[dict[str, Any]]:
    """Time to first token and duration (p50, p95, in ms) per task, then all tasks."""
    rows = _query(f"""
        SELECT COALESCE(i.task, 'toutes') AS task, count(*) AS interactions,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY ttft_ms) AS ttft_p50,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY ttft_ms) AS ttft_p95,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS duration_p50,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS duration_p95
        FROM audit_interactions i WHERE {IN_PERIOD} AND outcome = 'ok'
        GROUP BY ROLLUP (i.task) ORDER BY (i.task IS NULL), i.task""", period.params())
    return [{"task": r["task"], "interactions": r["interactions"],
             **{k: _round(r[k]) for k in ("ttft_p50", "ttft_p95", "duration_p50", "duration_p95")}}
            for r in rows]


def errors(period: Period) -> dict[str, Any]:
    """Error and stop rates per task, and errors by cause (share of all interactions)."""
    params = period.params()
    by_task = _query(f"""
        SELECT i.task, count(*) AS interactions,
               count(*) FILTER (WHERE outcome = 'error') AS errors,
               count(*) FILTER (WHERE outcome = 'stopped') AS stopped
        FROM audit_interactions i WHERE {IN_PERIOD} GROUP BY 1 ORDER BY 1""", params)
    total = sum(r["interactions"] for r in by_task)
    by_cause = _query(f"""
        SELECT COALESCE(error_code, 'erreur_inconnue') AS cause, count(*) AS errors
        FROM audit_interactions i WHERE {IN_PERIOD} AND outcome = 'error'
        GROUP BY 1 ORDER BY 2 DESC, 1""", params)
    for row in by_task:
        row["error_rate"] = _round(row["errors"] / row["interactions"], 4)
        row["stop_rate"] = _round(row["stopped"] / row["interactions"], 4)
    for row in by_cause:
        row["rate"] = _round(row["errors"] / total, 4) if total else 0.0
    return {"by_task": by_task, "by_cause": by_cause}


def feedback(period: Period) -> dict[str, Any]:
    """👍/👎 per task, and the latest comments (text users wrote for the observatory)."""
    params = period.params()
    events_in_period = "e.recorded_at >= %(start)s AND e.recorded_at < %(end)s"
    # A user who changes her mind (👍 then 👎) counts once, with her last rating.
    by_task = _query(f"""
        WITH rated AS (
            SELECT e.interaction_id, e.useful, e.comment,
                   e.useful IS NOT NULL AND e.seq = max(e.seq) FILTER (WHERE e.useful IS NOT NULL)
                       OVER (PARTITION BY e.interaction_id) AS last_rating
            FROM audit_events e WHERE e.kind = 'feedback' AND {events_in_period})
        SELECT COALESCE(i.task, '{NONE_LABEL}') AS task,
               count(*) FILTER (WHERE r.last_rating AND r.useful) AS useful,
               count(*) FILTER (WHERE r.last_rating AND NOT r.useful) AS not_useful,
               count(*) FILTER (WHERE r.comment IS NOT NULL) AS comments
        FROM rated r LEFT JOIN audit_interactions i ON i.id = r.interaction_id
        GROUP BY 1 ORDER BY 1""", params)
    for row in by_task:
        rated = row["useful"] + row["not_useful"]
        row["useful_share"] = _round(row["useful"] / rated, 4) if rated else None
    comments = _query(f"""
        SELECT to_char(e.recorded_at AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD') AS date,
               COALESCE(i.task, '{NONE_LABEL}') AS task, e.useful, e.comment
        FROM audit_events e LEFT JOIN audit_interactions i ON i.id = e.interaction_id
        WHERE e.kind = 'feedback' AND e.comment IS NOT NULL AND {events_in_period}
        ORDER BY e.seq DESC LIMIT {RECENT_COMMENTS}""", params)
    return {"by_task": by_task, "recent_comments": comments}


# The fate of an answer is its latest text event: inserted as is, edited after insertion,
# or discarded; answers without any event are counted as "no action".
_TEXT_FATE = """
    SELECT DISTINCT ON (interaction_id) interaction_id, kind AS fate
    FROM audit_events WHERE kind IN ('inserted', 'edited', 'discarded')
    ORDER BY interaction_id, seq DESC"""


def text_outcomes(period: Period) -> list[dict[str, Any]]:
    """What became of generated text, per task: inserted, edited, discarded, no action."""
    rows = _query(f"""
        WITH fate AS ({_TEXT_FATE})
        SELECT i.task, count(*) AS answers,
               count(*) FILTER (WHERE f.fate = 'inserted') AS inserted,
               count(*) FILTER (WHERE f.fate = 'edited') AS edited,
               count(*) FILTER (WHERE f.fate = 'discarded') AS discarded,
               count(*) FILTER (WHERE f.fate IS NULL) AS no_action
        FROM audit_interactions i LEFT JOIN fate f ON f.interaction_id = i.id
        WHERE {IN_PERIOD} AND i.kind = 'assist' AND i.outcome = 'ok'
        GROUP BY 1 ORDER BY 1""", period.params())
    for row in rows:
        for key in ("inserted", "edited", "discarded", "no_action"):
            row[f"{key}_share"] = _round(row[key] / row["answers"], 4)
    return rows


EXPORT_COLUMNS = ("id", "started_at", "kind", "task", "roles", "jurisdictions", "model", "host",
                  "prompt_version", "sources", "prompt_tokens", "completion_tokens", "ttft_ms",
                  "duration_ms", "outcome", "error_code", "text_fate", "useful")


def export_rows(period: Period) -> Iterator[dict[str, Any]]:
    """One row per interaction for the CSV export: metadata only, no pseudonym, no comment."""
    with db.connection() as conn:
        with conn.cursor(row_factory=dict_row) as cursor:
            cursor.execute(f"""
                WITH fate AS ({_TEXT_FATE}),
                     rating AS (SELECT DISTINCT ON (interaction_id) interaction_id, useful
                                FROM audit_events WHERE kind = 'feedback' AND useful IS NOT NULL
                                ORDER BY interaction_id, seq DESC)
                SELECT i.id, to_char(i.started_at AT TIME ZONE 'Europe/Paris',
                                     'YYYY-MM-DD"T"HH24:MI:SS') AS started_at,
                       i.kind, i.task, array_to_string(i.roles, ' ') AS roles,
                       array_to_string(i.jurisdictions, ' ; ') AS jurisdictions,
                       i.model, i.host, i.prompt_version, cardinality(i.source_ids) AS sources,
                       i.prompt_tokens, i.completion_tokens, i.ttft_ms, i.duration_ms,
                       i.outcome, i.error_code, f.fate AS text_fate, r.useful
                FROM audit_interactions i
                LEFT JOIN fate f ON f.interaction_id = i.id
                LEFT JOIN rating r ON r.interaction_id = i.id
                WHERE {IN_PERIOD} ORDER BY i.started_at""", period.params())
            yield from cursor
