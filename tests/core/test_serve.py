"""`serve` end to end, as `make run` uses it: fresh database, sample corpus, HTTPS, probes, add-in."""
from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg

from ..conftest import ctrl_c_delivered, free_port

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DECISIONS = 307


def wait_for(url: str, context: ssl.SSLContext, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early:\n{process.stdout.read()}")
        try:
            urllib.request.urlopen(url, context=context, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds}s")


def test_serve_migrates_loads_sample_corpus_and_serves_https(empty_database, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUME_")}
    env.update({"PLUME_ENV": "development", "DATABASE_URL": empty_database,
                "PLUME_DATA_DIR": str(tmp_path), "PORT": str(port),
                "PLUME_EMBED_IN_BACKGROUND": "0", "PLUME_LLM_DEMO": "0"})
    process = subprocess.Popen([sys.executable, "-m", "backend", "serve"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               preexec_fn=ctrl_c_delivered)
    try:
        deadline = time.monotonic() + 300
        while not (tmp_path / "tls" / "plume-dev-ca.pem").exists():
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "no certificate after 300 s"
            time.sleep(0.3)
        context = ssl.create_default_context(cafile=str(tmp_path / "tls" / "plume-dev-ca.pem"))
        base = f"https://localhost:{port}"
        wait_for(f"{base}/healthz", context, process, 120)

        ready = json.load(urllib.request.urlopen(f"{base}/readyz", context=context))
        assert ready["status"] == "ok"
        page = urllib.request.urlopen(f"{base}/addin/word/", context=context)
        assert page.status == 200 and "text/html" in page.headers["Content-Type"]
        with psycopg.connect(empty_database) as conn:
            count = conn.execute("SELECT count(*) FROM decisions").fetchone()[0]
        assert count == SAMPLE_DECISIONS
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert "Plume écoute sur https://localhost" in output
    assert "certutil" in output  # how to trust the development certificate
    assert "manifest" in output  # how to sideload the manifests
