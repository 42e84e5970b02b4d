"""How long the upgrade of an old embedded data folder (PostgreSQL 16 → 18) takes, by size.

    .venv/bin/python bench/db_upgrade.py                  # 10,000 and 100,000 passages
    .venv/bin/python bench/db_upgrade.py --sizes 300000

For each size: a data folder made by the old embedded server (pgserver: PostgreSQL 16.2,
pgvector 0.6.2), migrated as the last Plume on it was (through 030), holding that many
passages (8 per decision, 384-dimension vectors around 200 topic centres, French text) in a
temporary folder; then Plume's own start on it (``backend.db.embedded.ensure_server``), timed.
Figures are printed; nothing is asserted.
"""
from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pgserver  # noqa: E402
import psycopg  # noqa: E402

from backend.db import embedded  # noqa: E402
from backend.db.migrate import migration_files  # noqa: E402
from backend.db.upgrade import PG16_MIGRATIONS  # noqa: E402

PASSAGES_PER_DECISION = 8


def make_old_folder(data_dir: Path, passages: int) -> float:
    """The old folder with ``passages`` rows; returns the seconds it took."""
    began = time.monotonic()
    server = pgserver.get_server(data_dir / "pg", cleanup_mode="stop")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_migrations (version text PRIMARY KEY, checksum text "
                     "NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        for path in migration_files():
            if path.stem not in PG16_MIGRATIONS:
                continue
            text = path.read_text(encoding="utf-8")
            conn.execute(text)
            conn.execute("INSERT INTO schema_migrations VALUES (%s, %s)",
                         (path.stem, hashlib.sha256(text.encode()).hexdigest()))
        decisions = passages // PASSAGES_PER_DECISION
        conn.execute(
            "INSERT INTO decisions (source_id, jurisdiction, text, content_hash) "
            "SELECT 'd' || g, 'Cour d''appel ' || (g %% 40), "
            "'La cour confirme le jugement entrepris ' || g, md5(g::text) "
            "FROM generate_series(1, %s) g", (decisions,))
        # Vectors: a topic centre plus noise, normalised, computed in SQL to stay fast.
        conn.execute("CREATE TEMP TABLE centres AS SELECT t, array_agg(random() - 0.5) AS c "
                     "FROM generate_series(0, 199) t, generate_series(1, 384) d GROUP BY t")
        conn.execute(
            "INSERT INTO passages (decision_id, zone, ordinal, start_offset, end_offset, text, "
            "content_hash, tsv, embedding) "
            "SELECT d.id, 'motivations', o, 0, 40, 'Attendu que le bail commercial ' || d.id, "
            "md5(d.id || '-' || o), to_tsvector('french', 'Attendu que le bail commercial'), "
            "(SELECT array_agg(x + (random() - 0.5) * 0.3)::vector FROM unnest(c.c) x) "
            "FROM decisions d CROSS JOIN generate_series(0, %s) o "
            "JOIN centres c ON c.t = (d.id * 7 + o) %% 200", (PASSAGES_PER_DECISION - 1,))
    server.cleanup()
    return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", module="platformdirs")
    print("passages | make old folder (s) | upgrade + start (s) | old folder (MB)")
    for size in (int(s) for s in args.sizes.split(",")):
        data_dir = Path(tempfile.mkdtemp(prefix="plume-up-"))
        try:
            made = make_old_folder(data_dir, size)
            megabytes = sum(f.stat().st_size for f in (data_dir / "pg").rglob("*")
                            if f.is_file()) / 1e6
            began = time.monotonic()
            embedded.ensure_server(str(data_dir))
            upgraded = time.monotonic() - began
            embedded.stop_server(str(data_dir))
            print(f"{size:>8} | {made:>19.1f} | {upgraded:>19.1f} | {megabytes:>15.0f}", flush=True)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
