"""Prometheus figures kept in PostgreSQL, so every gunicorn worker and instance agrees.

Each record bumps its counters and histogram buckets in ``audit_metrics`` inside the very
transaction that appends it to the chain (already serialised by the chain head lock), so
the figures count exactly the records written, never decrease when old records are
pruned, and a scrape reads one small table whatever worker answers it. An in-process
registry would need prometheus_client's multiprocess mode and its shared-directory
bookkeeping; the database is already the one place the workers share.
"""
from __future__ import annotations

import math
from collections import defaultdict
from functools import lru_cache
from typing import Any

import psycopg

# Histogram bucket upper bounds, in seconds.
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120)
TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10)

# Error codes the gateway gives to failures of the upstream LLM host: any code naming the
# « amont » (amont_injoignable, amont_sature, erreur_amont, coupure_amont…) and these.
UPSTREAM_ERROR_CODES = frozenset({"delai_depasse", "reponse_interrompue", "reponse_illisible",
                                  "modele_introuvable", "demande_refusee"})


def is_upstream_error(code: str | None) -> bool:
    return bool(code) and ("amont" in code or code in UPSTREAM_ERROR_CODES)

FAMILIES: dict[str, tuple[str, str]] = {
    "plume_interactions_total": (
        "counter", "AI interactions recorded (assist, search, transcribe), by outcome."),
    "plume_interaction_errors_total": ("counter", "AI interactions that ended in an error, by cause."),
    "plume_upstream_errors_total": ("counter", "Failures of the upstream LLM host, by cause."),
    "plume_interaction_duration_seconds": (
        "histogram", "Duration of AI interactions, from request to last byte."),
    "plume_time_to_first_token_seconds": (
        "histogram", "Time from request to the first generated token."),
    "plume_tokens_total": ("counter", "Tokens used, by task and type (prompt, completion)."),
    "plume_interaction_events_total": (
        "counter", "Events after an answer: inserted, edited, discarded, feedback."),
    "plume_audit_records_total": ("counter", "Records appended to the audit hash chain."),
}


def _labels(**labels: Any) -> str:
    def escape(value: Any) -> str:
        return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')

    return ",".join(f'{key}="{escape(value)}"' for key, value in labels.items())


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))


@lru_cache(maxsize=1024)
def _histogram_labels(name: str, buckets: tuple[float, ...], labels: tuple[tuple[str, Any], ...]
                      ) -> tuple[tuple[tuple[float, str], ...], str]:
    """The label strings of one histogram's buckets and of its sum and count: the same few
    for every record of a task, so they are written once."""
    return (tuple((bound, _labels(**dict(labels), le=_le(bound))) for bound in (*buckets, math.inf)),
            _labels(**dict(labels)))


def _histogram(series: list[tuple[str, str, float]], name: str, buckets: tuple[float, ...],
               seconds: float, **labels: Any) -> None:
    bucket_labels, plain = _histogram_labels(name, buckets, tuple(labels.items()))
    bucket = f"{name}_bucket"
    for bound, with_le in bucket_labels:
        if seconds <= bound:
            series.append((bucket, with_le, 1))
    series.append((f"{name}_sum", plain, seconds))
    series.append((f"{name}_count", plain, 1))


def _series(table: str, row: dict[str, Any]) -> list[tuple[str, str, float]]:
    series: list[tuple[str, str, float]] = [("plume_audit_records_total", "", 1)]
    if table == "audit_events":
        series.append(("plume_interaction_events_total", _labels(kind=row["kind"]), 1))
        return series
    kind, task = row["kind"], row["task"]
    series.append(("plume_interactions_total",
                   _labels(kind=kind, task=task, outcome=row["outcome"]), 1))
    code = row.get("error_code")
    if row["outcome"] == "error":
        series.append(("plume_interaction_errors_total",
                       _labels(kind=kind, task=task, error_code=code or ""), 1))
        if is_upstream_error(code):
            series.append(("plume_upstream_errors_total", _labels(task=task, error_code=code), 1))
    if row.get("duration_ms") is not None:  # unknown for a call interrupted by a dead worker
        _histogram(series, "plume_interaction_duration_seconds", DURATION_BUCKETS,
                   row["duration_ms"] / 1000, kind=kind, task=task)
    if row.get("ttft_ms") is not None:
        _histogram(series, "plume_time_to_first_token_seconds", TTFT_BUCKETS,
                   row["ttft_ms"] / 1000, task=task)
    for kind_of_token in ("prompt", "completion"):
        tokens = row.get(f"{kind_of_token}_tokens")
        if tokens:
            series.append(("plume_tokens_total", _labels(task=task, type=kind_of_token), tokens))
    return series


def count_statement(rows: list[tuple[str, dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
    """The CTE (and its parameters) that adds the figures of several records in one upsert,
    for the statement that closes their batch (inside their transaction)."""
    merged: dict[tuple[str, str], float] = defaultdict(float)
    for table, row in rows:
        for name, labels, value in _series(table, row):
            merged[(name, labels)] += value
    keys = sorted(merged)  # same lock order in every transaction
    # Binary parameters: a text array in text form is quoted element by element.
    return _COUNT_CTE, {"metric_names": [k[0] for k in keys],
                        "metric_labels": [k[1] for k in keys],
                        "metric_values": [merged[k] for k in keys]}


_COUNT_CTE = """counted AS (
INSERT INTO audit_metrics (name, labels, value)
SELECT * FROM unnest(%(metric_names)b::text[], %(metric_labels)b::text[], %(metric_values)b::float8[])
ON CONFLICT (name, labels) DO UPDATE SET value = audit_metrics.value + EXCLUDED.value)"""


def _family(name: str) -> str:
    for suffix in ("_bucket", "_sum", "_count"):
        base = name.removesuffix(suffix)
        if base != name and FAMILIES.get(base, ("",))[0] == "histogram":
            return base
    return name


def _sort_key(item: tuple[str, str, float]) -> tuple:
    name, labels, _ = item
    bound = math.inf
    if 'le="' in labels:
        raw = labels.split('le="', 1)[1].split('"', 1)[0]
        bound = math.inf if raw == "+Inf" else float(raw)
        labels = labels.split(',le="', 1)[0]
    order = {"_bucket": 0, "_sum": 1, "_count": 2}
    suffix = next((s for s in order if name.endswith(s)), "")
    return labels, order.get(suffix, 0), bound


def render(conn: psycopg.Connection) -> str:
    """Every figure in the Prometheus text exposition format (0.0.4)."""
    rows = conn.execute("SELECT name, labels, value FROM audit_metrics").fetchall()
    by_family: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    for name, labels, value in rows:
        by_family[_family(name)].append((name, labels, value))
    lines: list[str] = []
    for family, (kind, help_text) in FAMILIES.items():
        lines.append(f"# HELP {family} {help_text}")
        lines.append(f"# TYPE {family} {kind}")
        for name, labels, value in sorted(by_family.get(family, []), key=_sort_key):
            shown = repr(int(value)) if float(value).is_integer() else repr(value)
            lines.append(f"{name}{{{labels}}} {shown}" if labels else f"{name} {shown}")
    return "\n".join(lines) + "\n"


def render_spool(status: Any) -> str:
    """This instance's audit spool (a :class:`.spool.SpoolStatus`) as a Prometheus gauge."""
    return (
        "# HELP plume_audit_spool_records Records of this instance outside the audit chain: "
        "waiting in the spool (pending) or refused by the database (dead).\n"
        "# TYPE plume_audit_spool_records gauge\n"
        f'plume_audit_spool_records{{state="pending"}} {status.pending}\n'
        f'plume_audit_spool_records{{state="dead"}} {status.dead}\n')
