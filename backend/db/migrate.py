"""Ordered ``.sql`` migrations, applied once each and recorded in ``schema_migrations``.

Files are named ``NNN_what.sql`` and run in name order, each in its own transaction,
under an advisory lock so that several processes starting together apply them once.
A recorded migration whose file changed is reported, not silently re-run.
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import psycopg

from .server import check_server

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
LOCK_ID = 0x504C554D  # "PLUM"


def migration_files() -> list[Path]:
    return sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.sql"))


def _ensure_table(conn: psycopg.Connection) -> None:
    conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               version text PRIMARY KEY,
               checksum text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )


def _applied(conn: psycopg.Connection) -> dict[str, str]:
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]
    if not exists:
        return {}
    return dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())


def pending_migrations(conn: psycopg.Connection) -> list[str]:
    applied = _applied(conn)
    return [p.stem for p in migration_files() if p.stem not in applied]


def apply_migrations(url: str) -> list[str]:
    """Apply every pending migration; returns the versions applied now.

    A server below the production minimum (:mod:`backend.db.server`) is refused first.
    """
    done: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        check_server(conn)
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
        try:
            _ensure_table(conn)
            applied = _applied(conn)
            for path in migration_files():
                sql = path.read_text(encoding="utf-8")
                checksum = hashlib.sha256(sql.encode()).hexdigest()
                if path.stem in applied:
                    if applied[path.stem] != checksum:
                        log.warning("applied migration %s has changed since; not re-run", path.name)
                    continue
                with conn.transaction():
                    conn.execute(sql)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)",
                        (path.stem, checksum),
                    )
                log.info("migration applied", extra={"migration": path.name})
                done.append(path.stem)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))
    return done
