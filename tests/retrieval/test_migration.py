"""Migration 011: a database whose full-text vectors PostgreSQL generated keeps its data
and gets vectors from Plume's analyser, the one queries use."""
from __future__ import annotations

import hashlib

import psycopg

from backend import db, retrieval
from backend.auth import User
from backend.db.migrate import MIGRATIONS_DIR

TEXT = "Le salarié a été licencié pour faute grave ; l'employeur a respecté la procédure."


def _migrate_to_010(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_migrations (version text PRIMARY KEY, "
                     "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        for name in ("001_foundation", "010_case_law"):
            sql = (MIGRATIONS_DIR / f"{name}.sql").read_text(encoding="utf-8")
            conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)",
                         (name, hashlib.sha256(sql.encode()).hexdigest()))
        conn.execute(
            "INSERT INTO decisions (source_id, jurisdiction, chamber, number, decision_date, text, "
            "content_hash) VALUES ('old-1', 'Cour de cassation', 'Chambre sociale', '21-12.345', "
            "'2022-03-09', %(t)s, 'h')", {"t": TEXT})
        conn.execute(
            "INSERT INTO passages (decision_id, zone, ordinal, start_offset, end_offset, text, "
            "content_hash) SELECT id, 'motivations', 0, 0, %(n)s, %(t)s, 'p' FROM decisions",
            {"t": TEXT, "n": len(TEXT)})


def _lexemes(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return set(conn.execute("SELECT unnest(tsvector_to_array(tsv)) FROM passages").fetchall())


def test_postgresql_vectors_are_kept_then_recomputed_by_the_python_analyser(empty_database, make_app):
    _migrate_to_010(empty_database)
    before = _lexemes(empty_database)
    assert ("ete",) in before    # « été » folded after PostgreSQL's stop words were applied

    assert "011_text_analysis_in_python" in db.apply_migrations(empty_database)
    assert _lexemes(empty_database) == before          # nothing lost by the conversion

    app = make_app(DATABASE_URL=empty_database, EMBED_IN_BACKGROUND=False)
    with app.app_context():
        assert retrieval.ingest_paths([], progress=False).passages == 0   # refreshes first
        hits = retrieval.search("licencié pour faute", User(id="u", roles=frozenset(),
                                                             jurisdictions=frozenset()))
    after = _lexemes(empty_database)
    assert ("ete",) not in after and {("licenc",), ("faut",), ("grav",)} <= after
    assert [h["decision_id"] for h in hits] == ["old-1"]
    assert hits[0]["citation"] == "Cass. soc., 9 mars 2022, n° 21-12.345"
    with psycopg.connect(empty_database) as conn:
        assert conn.execute("SELECT analyser FROM text_analyser").fetchall() == [("plume-fr-1",)]
