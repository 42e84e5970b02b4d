"""deploy/systemd/plume.service: systemd accepts it and it runs what the README documents."""
from __future__ import annotations

import configparser
import shutil
import subprocess

from .conftest import DEPLOY, ROOT, setting_default

CHECKS = {"deploy/systemd/plume.service"}
UNIT = DEPLOY / "systemd" / "plume.service"
INSTALL_DIR = "/opt/plume"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def test_systemd_analyze_verify_finds_nothing_to_say(tmp_path):
    """Unknown keys or bad values only warn in systemd; here any message fails the test."""
    text = UNIT.read_text(encoding="utf-8").replace(INSTALL_DIR, str(ROOT))
    copy = tmp_path / "plume.service"
    copy.write_text(text, encoding="utf-8")
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: `make test` installs the Debian package systemd"
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == "", result.stderr


def test_unit_runs_the_documented_entry_point_after_migrating():
    service = unit()["Service"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "gunicorn -c deploy/gunicorn.conf.py 'backend:create_app()'" in readme
    assert service["ExecStart"] == (f"{INSTALL_DIR}/.venv/bin/gunicorn -c deploy/gunicorn.conf.py "
                                    "backend:create_app()")
    assert service["ExecStartPre"] == f"{INSTALL_DIR}/.venv/bin/python -m backend migrate"
    assert service["WorkingDirectory"] == INSTALL_DIR
    assert service["Type"] == "notify"  # gunicorn tells systemd when it is ready
    assert service["User"] not in {"", "root"}


def test_stopping_waits_for_open_streams(gunicorn_settings):
    service = unit()["Service"]
    stop_seconds = int(service["TimeoutStopSec"])
    assert stop_seconds > int(gunicorn_settings["graceful_timeout"])
    assert int(gunicorn_settings["graceful_timeout"]) > setting_default("PLUME_LLM_TIMEOUT_TOTAL")
    assert service["KillMode"] == "mixed"  # SIGTERM to gunicorn's master, which drains workers


def test_gunicorn_listens_where_nginx_sends():
    nginx = (DEPLOY / "nginx" / "plume.conf").read_text(encoding="utf-8")
    environment = [line.split("=", 1)[1] for line in UNIT.read_text(encoding="utf-8").splitlines()
                   if line.startswith("Environment=")]
    bind = [value.split("=", 1)[1] for value in environment if value.startswith("GUNICORN_BIND=")]
    assert bind == ["127.0.0.1:8000"]
    assert f"server {bind[0]};" in nginx
