"""Shared pieces of the deploy/ checks: paths, the gateway's timeouts, gunicorn's resolved settings.

Each test module names the deploy/ files it checks in ``CHECKS``;
``test_every_deploy_file_is_checked`` fails when a file under deploy/ is in none of them.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent
ENTRY_POINT = "backend:create_app()"


def setting_default(env: str):
    """The default of one of Plume's settings (so deploy/ follows the code, not a copy)."""
    from backend.config import all_settings

    [setting] = [s for s in all_settings() if s.env == env]
    return setting.default


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_environment(database_url: str, **extra: str) -> dict[str, str]:
    """Environment for a real Plume process on the test database (dev sign-in, loopback)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PLUME_", "GUNICORN_")) and k not in {"DATABASE_URL", "PORT",
                                                                     "WEB_CONCURRENCY"}}
    env.update({"PLUME_ENV": "development", "PLUME_AUTH_MODE": "dev",
                "PLUME_AUDIT_HASH_KEY": "test-hash-key-for-deploy",
                "PLUME_LOAD_SAMPLE_CORPUS": "0", "DATABASE_URL": database_url, **extra})
    return env


@pytest.fixture(scope="session")
def gunicorn_settings(database_url: str) -> dict[str, str]:
    """deploy/gunicorn.conf.py as gunicorn resolves it (``--print-config`` also loads the app)."""
    result = subprocess.run(
        [str(VENV_BIN / "gunicorn"), "--print-config", "-c", "deploy/gunicorn.conf.py", ENTRY_POINT],
        cwd=ROOT, env=app_environment(database_url, WEB_CONCURRENCY="2"),
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    settings = {}
    for line in result.stdout.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            settings[name.strip()] = value.strip()
    return settings
