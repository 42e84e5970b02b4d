"""The command line: plain-words failures, migrations, and the development certificate."""
from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path

from backend import devcert

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("PLUME_") and k not in {"DATABASE_URL", "PORT"}}
    return subprocess.run([sys.executable, "-m", "backend", *args], cwd=ROOT,
                          env={**clean, **(env or {})}, capture_output=True, text=True, timeout=120)


def test_bad_setting_stops_with_plain_words_and_exit_2():
    result = run_cli("migrate", env={"PLUME_ENV": "development", "PORT": "soixante"})
    assert result.returncode == 2
    assert "Configuration invalide" in result.stderr and "PORT='soixante'" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_without_entra_ids_refuses_to_start():
    result = run_cli("migrate")
    assert result.returncode == 2
    assert "PLUME_AUTH_TENANT_ID" in result.stderr


def test_migrate_command_is_idempotent(database_url):
    env = {"PLUME_ENV": "development", "DATABASE_URL": database_url}
    result = run_cli("migrate", env=env)
    assert result.returncode == 0, result.stderr
    assert "Base de données à jour." in result.stdout


def test_settings_command_prints_the_table():
    result = run_cli("settings", env={"PLUME_ENV": "development"})
    assert result.returncode == 0
    assert "| `PLUME_LLM_BASE_URL` |" in result.stdout


def test_dev_certificate_is_trusted_through_its_ca_and_reused(tmp_path):
    cert, key, ca = devcert.ensure_certificate(str(tmp_path))
    assert devcert.ensure_certificate(str(tmp_path)) == (cert, key, ca)
    mtime = Path(cert).stat().st_mtime

    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve_once() -> None:
        conn, _ = listener.accept()
        with server_ctx.wrap_socket(conn, server_side=True) as tls:
            tls.sendall(b"ok")

    thread = threading.Thread(target=serve_once, daemon=True)
    thread.start()
    client_ctx = ssl.create_default_context(cafile=ca)
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with client_ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.recv(2) == b"ok"
    thread.join(5)
    listener.close()
    assert Path(cert).stat().st_mtime == mtime
