"""Migrations apply once, in order, and are recorded."""
from __future__ import annotations

import psycopg

from backend import db
from backend.db.migrate import migration_files


def test_migrations_are_recorded_and_idempotent(database_url):
    assert db.apply_migrations(database_url) == []  # the session fixture applied them
    with psycopg.connect(database_url) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
        assert versions == [p.stem for p in migration_files()]
        assert conn.execute("SELECT extname FROM pg_extension WHERE extname='vector'").fetchone()


def test_accent_folding_is_available_for_french_search(database_url):
    with psycopg.connect(database_url) as conn:
        folded = conn.execute("SELECT plume_unaccent('Décision rendue à Besançon, œuvre')").fetchone()[0]
    assert folded == "Decision rendue a Besancon, oeuvre"
