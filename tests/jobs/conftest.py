"""Fixtures of the jobs tests: an app whose jobs are quick to lose and retry, in-process
workers, ``python -m backend worker`` processes on the test database, and a trace file."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from backend import jobs

ROOT = Path(__file__).resolve().parents[2]
# Short leases so that a dead worker's job is picked again within seconds.
FAST = {"JOB_HANDLERS": ["tests.jobs.handlers"], "JOB_LEASE_SECONDS": 1.5,
        "JOB_POLL_SECONDS": 0.2, "JOB_RETRY_DELAY": 0.0, "JOB_STOP_GRACE": 5.0}


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0, every: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate}")
        time.sleep(every)


@pytest.fixture
def jobs_app(make_app) -> Iterator[Any]:
    app = make_app(**FAST)
    with app.app_context():
        yield app


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    path = tmp_path / "trace.log"
    path.touch()
    return path


def trace_lines(path: Path, job_id: str | None = None) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split(" ", 1)[1] for line in lines if job_id is None or line.startswith(job_id)]


@pytest.fixture
def start_worker(jobs_app) -> Iterator[Callable[..., jobs.Worker]]:
    """Start an in-process worker on the test app; stopped (jobs handed back) afterwards."""
    workers: list[jobs.Worker] = []

    def start(threads: int = 2, name: str | None = None) -> jobs.Worker:
        worker = jobs.Worker(jobs_app, threads, name=name).start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop(grace=0)


@pytest.fixture
def spawn_worker(jobs_app, database_url: str, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start ``python -m backend worker`` processes on the test database; killed afterwards."""
    processes: list[subprocess.Popen] = []

    def spawn(threads: int = 1, **settings: str) -> subprocess.Popen:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PLUME_")}
        env.update({
            "DATABASE_URL": database_url, "PLUME_ENV": "development", "PLUME_AUTH_MODE": "dev",
            "PLUME_LOAD_SAMPLE_CORPUS": "0", "PLUME_JOB_HANDLERS": "tests.jobs.handlers",
            "PLUME_JOB_LEASE_SECONDS": str(FAST["JOB_LEASE_SECONDS"]),
            "PLUME_JOB_POLL_SECONDS": str(FAST["JOB_POLL_SECONDS"]),
            "PLUME_JOB_RETRY_DELAY": "0", "PLUME_JOB_WORKERS": str(threads), **settings,
        })
        log = open(tmp_path / f"worker-{len(processes)}.log", "w")
        process = subprocess.Popen([sys.executable, "-m", "backend", "worker"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        process.log_path = log.name  # type: ignore[attr-defined]
        processes.append(process)
        return process

    yield spawn
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
