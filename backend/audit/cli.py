"""``python -m backend audit verify|prune|flush``: the operator's side of record-keeping.

Both read and write through a direct connection (not the request pool) so that ``verify``
sees one consistent snapshot of the whole chain. They run unattended every night (deploy/:
Kubernetes CronJob, systemd timer), so each ends with one structured log line for the log
pipeline besides its French summary, and a broken chain exits 1 for the scheduler to report.
"""
from __future__ import annotations

import logging
import sys

import click
import psycopg
from flask import current_app
from flask.cli import with_appcontext

from .. import db
from . import chain, records, spool

logger = logging.getLogger(__name__)


@click.group("audit")
def audit_group() -> None:
    """AI Act records: verify the hash chain, enforce retention."""


def _connect() -> psycopg.Connection:
    return psycopg.connect(db.database_url(), autocommit=True)


@audit_group.command("verify")
@with_appcontext
def verify_command() -> None:
    """Check every retained record against the hash chain; exit 1 if one was altered, or if
    records of this instance wait in the spool or were refused (dead letters)."""
    with _connect() as conn:
        report = chain.verify(conn)
    waiting = spool.status(current_app._get_current_object())  # type: ignore[attr-defined]
    report.pending, report.dead = waiting.pending, waiting.dead
    for problem in report.problems:
        click.echo(f"  - {problem}", err=True)
    fields = {"checked": report.checked, "first_seq": report.first_seq, "last_seq": report.last_seq,
              "anchor_seq": report.anchor_seq, "problems": len(report.problems),
              "spool_pending": report.pending, "spool_dead": report.dead}
    if not report.ok:
        logger.error("audit chain broken", extra=fields)
        click.echo(report.summary(), err=True)
        sys.exit(1)
    if not report.complete:
        logger.error("audit chain incomplete: records outside the chain", extra=fields)
        click.echo(report.summary(), err=True)
        sys.exit(1)
    logger.info("audit chain verified", extra={**fields, "head_hash": report.head_hash})
    click.echo(report.summary())


@audit_group.command("prune")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Retention in days (default PLUME_AUDIT_RETENTION_DAYS).")
@click.option("--force", is_flag=True,
              help="Prune even if the chain does not verify (the evidence is then lost).")
@with_appcontext
def prune_command(days: int | None, force: bool) -> None:
    """Delete records older than the retention, keeping the chain verifiable."""
    config = current_app.config
    days = days or config["AUDIT_RETENTION_DAYS"]
    with _connect() as conn:
        report = chain.verify(conn)
        if not report.ok and not force:
            for problem in report.problems:
                click.echo(f"  - {problem}", err=True)
            click.echo("Purge refusée : la chaîne d'audit est rompue. Conservez-la pour examen "
                       "(ou relancez avec --force).", err=True)
            logger.error("audit prune refused: broken chain",
                         extra={"checked": report.checked, "problems": len(report.problems)})
            sys.exit(1)
        result = chain.prune(conn, days, config["AUDIT_CONTENT_RETENTION_DAYS"])
    logger.info("audit records pruned", extra={
        "records": result.records, "content_rows": result.content_rows,
        "anchor_seq": result.anchor_seq, "retention_days": days,
        "cutoff": result.cutoff.isoformat() if result.cutoff else None})
    click.echo(result.summary())


@audit_group.command("flush")
@with_appcontext
def flush_command() -> None:
    """Write records spooled while the database was unreachable; set aside (dead letters)
    any the database refuses, so they never hold up the others. Exit 1 if some are left."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    result = spool.flush(app, lambda table, record: records._append_once(app, table, record,
                                                                         replay=True))
    lines = []
    if result.stored:
        lines.append(f"{result.stored} enregistrement(s) en attente écrit(s) dans la base.")
    if result.dead:
        lines.append(f"{result.dead} enregistrement(s) refusé(s) par la base, mis de côté dans "
                     f"{spool.dead_path(app)}.")
    if result.left:
        lines.append(f"{result.left} enregistrement(s) toujours en attente : la base ne répond pas.")
    click.echo("\n".join(lines) or "Aucun enregistrement en attente.")
    if result.left:
        sys.exit(1)
