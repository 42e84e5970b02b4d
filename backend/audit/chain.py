"""The hash chain over interaction records and events: append, verify, prune.

Every record (a row of ``audit_interactions`` or ``audit_events``) gets the next ``seq``
and the hash of the record before it, then its own hash: SHA-256 over its canonical JSON.
Appends lock the single row of ``audit_chain_head`` in the same transaction as the insert,
so concurrent writers (threads, gunicorn workers, several instances) queue up for a few
milliseconds and the chain never forks. Editing a record changes its hash; deleting one
leaves a gap in ``seq`` and a dangling ``prev_hash``; deleting the tail leaves the head
pointing past the last record. :func:`verify` reports each, naming the record.

Pruning removes a prefix (everything recorded before the retention cut-off) and stores the
seq and hash of the last removed record in ``audit_chain_anchor``: the chain that remains
still starts from a known link.
"""
from __future__ import annotations

import hashlib
import heapq
import json
import logging
import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row

from . import metrics

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64

# Hashed columns of each table, in a fixed order (the hash covers every column but itself).
COLUMNS: dict[str, tuple[str, ...]] = {
    "audit_interactions": (
        "seq", "id", "recorded_at", "started_at", "user_hash", "roles", "jurisdictions",
        "kind", "task", "model", "host", "prompt_version", "source_ids", "prompt_tokens",
        "completion_tokens", "ttft_ms", "duration_ms", "outcome", "error_code", "prev_hash",
    ),
    "audit_events": (
        "seq", "id", "interaction_id", "recorded_at", "user_hash", "kind", "useful", "comment",
        "prev_hash",
    ),
}
# How a record is named in French messages.
RECORD_NOUN = {"audit_interactions": "interaction", "audit_events": "événement"}


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def record_hash(table: str, record: dict[str, Any]) -> str:
    """SHA-256 of the record's canonical JSON (table name included, hash column excluded)."""
    body = {name: _canonical(record.get(name)) for name in COLUMNS[table]}
    text = json.dumps([table, body], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _lock_head(conn: psycopg.Connection) -> tuple[int, str]:
    """Lock the chain head (creating it from the actual tail if it is missing)."""
    row = conn.execute("SELECT seq, hash FROM audit_chain_head FOR UPDATE").fetchone()
    if row is not None:
        return row[0], row[1]
    tail = _tail(conn)
    if tail[0]:
        log.warning("audit chain head missing; rebuilt from the last record",
                    extra={"seq": tail[0]})
    conn.execute("INSERT INTO audit_chain_head (seq, hash) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                 tail)
    row = conn.execute("SELECT seq, hash FROM audit_chain_head FOR UPDATE").fetchone()
    return row[0], row[1]


def _tail(conn: psycopg.Connection) -> tuple[int, str]:
    row = conn.execute(
        """SELECT seq, hash FROM (
               SELECT seq, hash FROM audit_interactions
               UNION ALL SELECT seq, hash FROM audit_events
               UNION ALL SELECT seq, hash FROM audit_chain_anchor) AS t
           ORDER BY seq DESC LIMIT 1""").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS_HASH)


def append(conn: psycopg.Connection, table: str, record: dict[str, Any], *,
           replay: bool = False) -> int | None:
    """Append ``record`` to the chain in one transaction; returns its seq.

    ``replay`` (a spooled record) first checks the record's id: one already stored returns
    None and changes nothing.
    """
    return append_many(conn, [(table, record)], replay=replay)[0]


def append_many(conn: psycopg.Connection, items: list[tuple[str, dict[str, Any]]], *,
                replay: bool = False,
                then: Callable[[list[int | None]], list[tuple[str, dict[str, Any]]]] | None = None
                ) -> list[int | None]:
    """Append several records, in order, in one transaction; their seqs.

    The head lock is held from its SELECT to the COMMIT, and the inserts and one statement
    for the rest (the head update and the metrics) go out in one pipelined round trip: a
    batch costs one lock and one commit however many records it holds (see :mod:`.records`,
    which gathers them). ``then(seqs)`` returns the caller's own CTEs (``name AS (...)``,
    with their parameters), joined to that statement (a seq is None for a replayed record
    already stored): every statement is a wait for the event loop under gevent.
    """
    seqs: list[int | None] = []
    rows: dict[str, list[dict[str, Any]]] = {}
    # Inside the caller's transaction (the audit writer's), a nested one would only add a
    # savepoint and its release: two round trips that change nothing.
    inside = conn.info.transaction_status == TransactionStatus.INTRANS
    with nullcontext() if inside else conn.transaction():
        seq, prev_hash = _lock_head(conn)
        now = datetime.now(timezone.utc)
        for table, record in items:
            if replay and conn.execute(f"SELECT 1 FROM {table} WHERE id = %s",
                                       (record["id"],)).fetchone():
                seqs.append(None)
                continue
            seq += 1
            row = {**record, "seq": seq, "prev_hash": prev_hash, "recorded_at": now}
            row["hash"] = prev_hash = record_hash(table, row)
            rows.setdefault(table, []).append(row)
            seqs.append(seq)
        ctes = list(then(seqs)) if then is not None else []
        if not rows:
            if ctes:
                _execute_ctes(conn, ctes)
            return seqs
        ctes.insert(0, (_HEAD_CTE, {"head_seq": seq, "head_hash": prev_hash}))
        ctes.insert(1, metrics.count_statement([(table, row) for table, table_rows in rows.items()
                                                for row in table_rows]))
        with conn.pipeline(), conn.cursor() as cursor:
            for table, table_rows in rows.items():
                names = (*COLUMNS[table], "hash")
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(names)}) "
                    f"VALUES ({', '.join(f'%({n})s' for n in names)})",
                    [{n: row.get(n) for n in names} for row in table_rows])
            _execute_ctes(cursor, ctes)
    return seqs


_HEAD_CTE = "head AS (UPDATE audit_chain_head SET seq = %(head_seq)s, hash = %(head_hash)s)"


def _execute_ctes(conn: psycopg.Connection | psycopg.Cursor, ctes: list[tuple[str, dict[str, Any]]]
                  ) -> None:
    """Data-modifying CTEs as one statement (each runs to completion, read or not)."""
    params: dict[str, Any] = {}
    for _, values in ctes:
        params.update(values)
    conn.execute("WITH " + ",\n".join(sql for sql, _ in ctes) + "\nSELECT 1", params)


def _rows(conn: psycopg.Connection, table: str, after: int) -> Iterator[tuple[int, str, dict]]:
    cursor = conn.cursor(name=f"verify_{table}", row_factory=dict_row)
    cursor.itersize = 2000
    cursor.execute(f"SELECT * FROM {table} WHERE seq > %s ORDER BY seq", (after,))
    for row in cursor:
        yield row["seq"], table, row


def _name(table: str, row: dict[str, Any]) -> str:
    when = row["recorded_at"].astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"l'enregistrement n° {row['seq']} ({RECORD_NOUN[table]} {row['id']}, {when})"


@dataclass
class VerifyReport:
    """What :func:`verify` found. ``problems`` are French sentences, one per broken link."""

    checked: int = 0
    first_seq: int | None = None
    last_seq: int = 0
    head_hash: str = GENESIS_HASH
    anchor_seq: int = 0
    problems: list[str] = field(default_factory=list)
    # Records of this instance not in the chain yet (spooled) or refused by the database
    # (dead letters); filled in by the caller, which knows where the spool is.
    pending: int = 0
    dead: int = 0

    @property
    def ok(self) -> bool:
        """The records in the database are intact (what pruning needs)."""
        return not self.problems

    @property
    def complete(self) -> bool:
        """Intact, and no record of this instance is waiting outside the chain."""
        return self.ok and not self.pending and not self.dead

    def summary(self) -> str:
        if not self.ok:
            return (f"Chaîne d'audit rompue : {len(self.problems)} anomalie(s) sur "
                    f"{self.checked} enregistrement(s) vérifié(s).")
        if not self.complete:
            waiting = []
            if self.pending:
                waiting.append(f"{self.pending} enregistrement(s) en attente dans le spool "
                               "(lancez « audit flush » quand la base répond)")
            if self.dead:
                waiting.append(f"{self.dead} enregistrement(s) refusé(s) par la base, mis de côté "
                               "dans audit-dead.jsonl (à examiner)")
            return (f"Chaîne d'audit incomplète : les {self.checked} enregistrement(s) en base "
                    f"sont intègres, mais " + " et ".join(waiting) + ".")
        if not self.checked:
            return "Chaîne d'audit intègre : aucun enregistrement conservé."
        pruned = (f" ; les n° 1 à {self.anchor_seq} ont été purgés (ancre conservée)"
                  if self.anchor_seq else "")
        return (f"Chaîne d'audit intègre : {self.checked} enregistrement(s) vérifié(s), "
                f"n° {self.first_seq} à {self.last_seq}{pruned}. "
                f"Empreinte de tête : {self.head_hash}")


def verify(conn: psycopg.Connection, max_problems: int = 50) -> VerifyReport:
    """Walk the retained chain and report every edited, deleted or re-linked record."""
    report = VerifyReport()
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        anchor = conn.execute("SELECT seq, hash FROM audit_chain_anchor").fetchone()
        expected_seq, prev_hash = (anchor[0] + 1, anchor[1]) if anchor else (1, GENESIS_HASH)
        report.anchor_seq = expected_seq - 1
        prev_name: str | None = None
        merged = heapq.merge(_rows(conn, "audit_interactions", expected_seq - 1),
                             _rows(conn, "audit_events", expected_seq - 1),
                             key=lambda item: item[0])
        for seq, table, row in merged:
            report.checked += 1
            report.first_seq = report.first_seq or seq
            name = _name(table, row)
            if seq < expected_seq:
                report.problems.append(f"Le numéro {seq} est attribué deux fois ({name}).")
            elif seq > expected_seq:
                missing = (f"n° {expected_seq}" if seq == expected_seq + 1
                           else f"n° {expected_seq} à {seq - 1}")
                report.problems.append(
                    f"Enregistrement(s) supprimé(s) : {missing}, avant {name}.")
            elif row["prev_hash"] != prev_hash:
                before = prev_name or "l'ancre de purge"
                report.problems.append(
                    f"Lien rompu : {name} ne suit pas {before} (l'un des deux a été modifié).")
            if record_hash(table, row) != row["hash"]:
                report.problems.append(
                    f"Enregistrement modifié : {name} ne correspond plus à son empreinte.")
            prev_hash, prev_name, expected_seq = row["hash"], name, seq + 1
            report.last_seq = seq
            if len(report.problems) >= max_problems:
                report.problems.append("Vérification arrêtée : trop d'anomalies.")
                return report
        head = conn.execute("SELECT seq, hash FROM audit_chain_head").fetchone()
        last = expected_seq - 1
        if head is None:
            if last:
                report.problems.append("La tête de chaîne (audit_chain_head) a été supprimée.")
        elif head[0] > last:
            missing = f"n° {last + 1}" if head[0] == last + 1 else f"n° {last + 1} à {head[0]}"
            report.problems.append(
                f"Enregistrement(s) supprimé(s) en fin de chaîne : {missing}.")
        elif head[0] != last or head[1] != prev_hash:
            report.problems.append(
                f"La tête de chaîne ne correspond pas au dernier enregistrement (n° {last}).")
        report.head_hash = prev_hash
    return report


@dataclass
class PruneReport:
    """What :func:`prune` removed."""

    records: int = 0
    content_rows: int = 0
    anchor_seq: int | None = None
    cutoff: datetime | None = None

    def summary(self) -> str:
        when = self.cutoff.strftime("%Y-%m-%d %H:%M UTC") if self.cutoff else "?"
        if not self.records:
            text = f"Aucun enregistrement antérieur au {when} à purger."
        else:
            text = (f"{self.records} enregistrement(s) antérieur(s) au {when} purgé(s) ; "
                    f"la chaîne repart de l'ancre n° {self.anchor_seq}.")
        if self.content_rows:
            text += f" {self.content_rows} contenu(s) journalisé(s) supprimé(s)."
        return text


def prune(conn: psycopg.Connection, retention_days: int, content_retention_days: int,
          now: datetime | None = None) -> PruneReport:
    """Delete records older than the retention, keeping the rest verifiable (anchor)."""
    now = now or datetime.now(timezone.utc)
    report = PruneReport(cutoff=now - timedelta(days=retention_days))
    with conn.transaction():
        _lock_head(conn)  # no append interleaves with the cut
        boundary = conn.execute(
            """SELECT seq, hash FROM (
                   SELECT seq, hash, recorded_at FROM audit_interactions
                   UNION ALL SELECT seq, hash, recorded_at FROM audit_events) AS t
               WHERE recorded_at < %(cutoff)s ORDER BY seq DESC LIMIT 1""",
            {"cutoff": report.cutoff}).fetchone()
        if boundary is not None:
            seq, last_hash = boundary
            removed = 0
            for table in COLUMNS:
                removed += conn.execute(f"DELETE FROM {table} WHERE seq <= %s", (seq,)).rowcount
            conn.execute(
                """INSERT INTO audit_chain_anchor (seq, hash, pruned_at, pruned_records)
                   VALUES (%(seq)s, %(hash)s, %(now)s, %(removed)s)
                   ON CONFLICT (singleton) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash,
                       pruned_at = EXCLUDED.pruned_at,
                       pruned_records = audit_chain_anchor.pruned_records + EXCLUDED.pruned_records""",
                {"seq": seq, "hash": last_hash, "now": now, "removed": removed})
            report.records, report.anchor_seq = removed, seq
        report.content_rows = conn.execute(
            "DELETE FROM audit_content WHERE recorded_at < %s",
            (now - timedelta(days=content_retention_days),)).rowcount
    return report
