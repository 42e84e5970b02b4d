"""Fixtures of the jobs tests: an app whose jobs are quick to lose and retry, in-process
workers, ``python -m backend worker`` processes on the test database, and a trace file."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from backend import jobs
from tests.jobs.processes import WorkerProcesses, WorkerThreads

# Short leases so that a dead worker's job is picked again within seconds.
FAST = {"JOB_HANDLERS": ["tests.jobs.handlers"], "JOB_LEASE_SECONDS": 1.5,
        "JOB_POLL_SECONDS": 0.2, "JOB_RETRY_DELAY": 0.0, "JOB_STOP_GRACE": 5.0}


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
    threads = WorkerThreads(jobs_app, 2)
    yield threads.start
    threads.stop_all()


@pytest.fixture
def spawn_worker(jobs_app, database_url: str, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start ``python -m backend worker`` processes on the test database; killed afterwards."""
    processes = WorkerProcesses(database_url, tmp_path, {"PLUME_JOB_HANDLERS": "tests.jobs.handlers"})
    yield processes.spawn
    processes.kill_all()
