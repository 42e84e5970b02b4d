"""deploy/gunicorn.conf.py: loads, holds long streams, and serves Plume for real."""
from __future__ import annotations

import re
import signal
import subprocess
import time

import requests

from .conftest import (DEPLOY, ENTRY_POINT, ROOT, VENV_BIN, app_environment, free_port,
                       setting_default)

CHECKS = {"deploy/gunicorn.conf.py"}


def test_check_config_loads_the_config_and_the_app(database_url):
    result = subprocess.run(
        [str(VENV_BIN / "gunicorn"), "--check-config", "-c", "deploy/gunicorn.conf.py", ENTRY_POINT],
        cwd=ROOT, env=app_environment(database_url), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]


def test_threaded_workers_hold_the_gateways_target_of_open_streams(gunicorn_settings):
    assert gunicorn_settings["worker_class"] == "gthread"
    # Two cores, two workers: 200 concurrent streams per instance (issue 3's target).
    assert int(gunicorn_settings["workers"]) * int(gunicorn_settings["threads"]) >= 200
    # Each worker opens its own database pool after the fork.
    assert gunicorn_settings["preload_app"] == "False"


def test_timeouts_fit_the_gateway_and_the_proxy(gunicorn_settings):
    longest_call = setting_default("PLUME_LLM_TIMEOUT_TOTAL")
    assert int(gunicorn_settings["graceful_timeout"]) > longest_call
    nginx = (DEPLOY / "nginx" / "plume.conf").read_text(encoding="utf-8")
    upstream_idle = int(re.search(r"upstream plume_backend \{[^}]*keepalive_timeout (\d+)s;",
                                  nginx).group(1))
    assert int(gunicorn_settings["keepalive"]) > upstream_idle


def test_access_lines_come_from_plume_only(gunicorn_settings):
    assert gunicorn_settings["accesslog"] == "None"
    assert gunicorn_settings["errorlog"] == "-"


def test_gunicorn_serves_plume_with_this_config_and_stops_cleanly(database_url):
    port = free_port()
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", ENTRY_POINT], cwd=ROOT,
        env=app_environment(database_url, GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1",
                            GUNICORN_THREADS="4"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                # The port is bound before the worker has loaded the app: wait for it.
                health = requests.get(f"{base}/healthz", timeout=(2, 90))
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stderr.read()[-3000:]
                time.sleep(0.1)
        assert health.status_code == 200
        assert requests.get(f"{base}/readyz", timeout=5).status_code == 200
        pane = requests.get(f"{base}/addin/word/", timeout=5)
        assert pane.status_code == 200 and "Plume" in pane.text
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr[-3000:]
