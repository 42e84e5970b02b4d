"""Job workers for the tests of every room that runs jobs (jobs, dossiers, hearings): in-process
worker threads, and real ``python -m backend worker`` processes on the test database, which a
test may kill (SIGKILL) to see another one resume the job."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from backend import jobs

ROOT = Path(__file__).resolve().parents[2]
# Short leases so that a dead worker's job is picked again within seconds.
LEASE_SECONDS, POLL_SECONDS = 1.5, 0.2


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, every: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate}")
        time.sleep(every)


class WorkerThreads:
    """In-process workers on a test app; stopped (their jobs handed back) by :meth:`stop_all`."""

    def __init__(self, app: Any, threads: int):
        self.app, self.threads, self.workers = app, threads, []

    def start(self, threads: int | None = None, app: Any = None, name: str | None = None
              ) -> jobs.Worker:
        worker = jobs.Worker(app or self.app, threads or self.threads, name=name).start()
        self.workers.append(worker)
        return worker

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.stop(grace=0)


class WorkerProcesses:
    """``python -m backend worker`` processes, each logging to ``log_dir/worker-N.log``.

    ``settings`` (environment names) come on top of a development configuration with quick
    leases; ``own_data_dir`` gives each process its own ``PLUME_DATA_DIR``, as two machines."""

    def __init__(self, database_url: str, log_dir: Path, settings: dict[str, str], *,
                 own_data_dir: bool = False):
        self.database_url, self.log_dir, self.settings = database_url, log_dir, settings
        self.own_data_dir = own_data_dir
        self.processes: list[subprocess.Popen] = []

    def spawn(self, threads: int = 1, **settings: str) -> subprocess.Popen:
        index = len(self.processes)
        env = {key: value for key, value in os.environ.items() if not key.startswith("PLUME_")}
        env.update({
            "DATABASE_URL": self.database_url, "PLUME_ENV": "development", "PLUME_AUTH_MODE": "dev",
            "PLUME_LOAD_SAMPLE_CORPUS": "0", "PLUME_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
            "PLUME_JOB_POLL_SECONDS": str(POLL_SECONDS), "PLUME_JOB_RETRY_DELAY": "0",
            "PLUME_JOB_WORKERS": str(threads), **self.settings, **settings})
        if self.own_data_dir:
            env["PLUME_DATA_DIR"] = str(self.log_dir / f"worker-{index}")
        log = open(self.log_dir / f"worker-{index}.log", "w")
        process = subprocess.Popen([sys.executable, "-m", "backend", "worker"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        process.log_path = log.name  # type: ignore[attr-defined]
        self.processes.append(process)
        return process

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
