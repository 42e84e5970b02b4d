"""Migration 060: a database whose full-text vectors Plume's Python analyser made keeps its
passages, and gets vectors, lengths and counts from PostgreSQL's analysis, the one queries use."""
from __future__ import annotations

import hashlib

import psycopg

from backend import db, retrieval
from backend.auth import User
from backend.db.migrate import MIGRATIONS_DIR, migration_files

TEXT = "Le salarié a été licencié pour faute grave ; l'employeur a respecté la procédure."


def _migrate_before_060(url: str) -> None:
    """Every migration before 060, then a passage as the Python analyser stored it."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_migrations (version text PRIMARY KEY, "
                     "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        for path in migration_files():
            if path.stem >= "060":
                break
            sql = path.read_text(encoding="utf-8")
            conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)",
                         (path.stem, hashlib.sha256(sql.encode()).hexdigest()))
        conn.execute(
            "INSERT INTO decisions (source_id, jurisdiction, chamber, number, decision_date, text, "
            "content_hash) VALUES ('old-1', 'Cour de cassation', 'Chambre sociale', '21-12.345', "
            "'2022-03-09', %(t)s, 'h')", {"t": TEXT})
        # What lexical.analyse stored: its own lexemes (« licenci », « ete » for « été »).
        conn.execute(
            "INSERT INTO passages (decision_id, zone, ordinal, start_offset, end_offset, text, "
            "content_hash, tsv, terms) SELECT id, 'motivations', 0, 0, %(n)s, %(t)s, 'p', "
            "'salari:2 ete:4 licenci:5 faut:7 grav:8 employeur:10 respect:12 procedur:14', 8 "
            "FROM decisions", {"t": TEXT, "n": len(TEXT)})
        conn.execute("INSERT INTO lexeme_counts_total (passages, terms) VALUES (1, 8)")


def test_vectors_made_in_python_are_generated_again_by_postgresql(empty_database, make_app):
    _migrate_before_060(empty_database)
    assert (MIGRATIONS_DIR / "060_text_analysis_in_sql.sql").exists()
    assert "060_text_analysis_in_sql" in db.apply_migrations(empty_database)

    with psycopg.connect(empty_database) as conn:
        lexemes = set(conn.execute("SELECT unnest(tsvector_to_array(tsv)) FROM passages").fetchall())
        assert ("ete",) not in lexemes and {("licenc",), ("faut",), ("grav",)} <= lexemes
        assert conn.execute("SELECT terms FROM passages").fetchone()[0] == len(TEXT.split())
        assert conn.execute("SELECT passages, terms FROM lexeme_counts_total").fetchone() == (
            1, len(TEXT.split()))
        assert conn.execute("SELECT passages FROM lexeme_counts WHERE lexeme = 'licenc'").fetchone() == (1,)
        assert conn.execute("SELECT to_regclass('text_analyser')").fetchone()[0] is None
        assert conn.execute("SELECT to_regclass('passages_tsv_idx')").fetchone()[0] is not None

    app = make_app(DATABASE_URL=empty_database, EMBED_IN_BACKGROUND=False)
    with app.app_context():
        hits = retrieval.search("licencié pour faute", User(id="u", roles=frozenset(),
                                                             jurisdictions=frozenset()))
    assert [h["decision_id"] for h in hits] == ["old-1"]
    assert [TEXT[a:b] for a, b in hits[0]["marks"]] == ["licencié", "faute"]
