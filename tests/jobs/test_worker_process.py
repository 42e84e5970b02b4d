"""Real ``python -m backend worker`` processes on the test database: killed with SIGKILL in the
middle of a step, stopped with SIGTERM, and competing with each other for the same jobs."""
from __future__ import annotations

import json
import signal
import time
from collections import Counter

import pytest

from backend import db, jobs
from tests.jobs.conftest import FAST, trace_lines
from tests.jobs.processes import wait_until

OWNER = "hash-greffe"


def started(trace, job_id: str, what: str) -> bool:
    return any(line.startswith(what) for line in trace_lines(trace, job_id))


def steps_of(job_id: str) -> dict[str, tuple[str, int]]:
    with db.connection() as conn:
        rows = conn.execute("SELECT key, state, attempts FROM job_steps WHERE job_id = %s",
                            (job_id,)).fetchall()
    return {key: (state, attempts) for key, state, attempts in rows}


def test_a_job_whose_worker_is_killed_resumes_on_another_after_its_last_finished_step(
        jobs_app, spawn_worker, trace):
    job_id = jobs.submit("test.steps", OWNER, {
        "trace": str(trace), "steps": ["lire", "résumer", "rédiger"], "slow": "résumer"})
    first = spawn_worker()
    wait_until(lambda: started(trace, job_id, "step:résumer"), timeout=30)
    assert steps_of(job_id) == {"lire": ("done", 1), "résumer": ("running", 1)}

    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    killed = time.monotonic()
    assert jobs.get(job_id, OWNER).state == "running"  # as the dead worker left it

    second = spawn_worker()
    job = wait_until(lambda: (j := jobs.get(job_id, OWNER)).finished and j, timeout=30)
    resumed_after = time.monotonic() - killed

    assert job.state == "done" and job.attempts == 2
    assert [r["step"] for r in job.result["results"]] == ["lire", "résumer", "rédiger"]
    runs = [line.split()[:3] for line in trace_lines(trace, job_id)]
    first_pid, second_pid = f"pid={first.pid}", f"pid={second.pid}"
    # « lire » finished before the kill: it is not run again; « résumer » was cut: run again.
    assert runs == [["step:lire", "attempt=1", first_pid],
                    ["step:résumer", "attempt=1", first_pid],
                    ["step:résumer", "attempt=2", second_pid],
                    ["step:rédiger", "attempt=2", second_pid]]
    assert steps_of(job_id) == {"lire": ("done", 1), "résumer": ("done", 2),
                                "rédiger": ("done", 1)}
    # A new process starts (~3 s here) and the lease (1.5 s) expires meanwhile.
    assert resumed_after < 15
    print(f"killed → done in {resumed_after:.1f} s (lease {FAST['JOB_LEASE_SECONDS']} s)")


@pytest.mark.parametrize("grace, step_ends_in_time", [(5.0, True), (0.3, False)],
                         ids=["step-finishes", "grace-runs-out"])
def test_sigterm_lets_the_step_finish_or_hands_the_job_back_at_once(
        jobs_app, spawn_worker, start_worker, trace, grace, step_ends_in_time):
    job_id = jobs.submit("test.steps", OWNER, {
        "trace": str(trace), "steps": ["a", "b", "c"], "slow": "b",
        "slow_s": 1.5 if step_ends_in_time else 60})
    process = spawn_worker(PLUME_JOB_STOP_GRACE=str(grace))
    wait_until(lambda: started(trace, job_id, "step:b"), timeout=30)

    stopping = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=grace + 10) == 0
    stopped_in = time.monotonic() - stopping
    with db.connection() as conn:
        state, attempts, token = conn.execute(
            "SELECT state, attempts, lease_token FROM jobs WHERE id = %s", (job_id,)).fetchone()
    # Handed back now, not after the lease: queued, and the interrupted run is not counted.
    assert (state, attempts, token) == ("queued", 0, None)
    log_lines = [json.loads(line) for line in open(process.log_path, encoding="utf-8")
                 if line.startswith("{")]
    assert any(entry["message"] == "job worker stopped" for entry in log_lines)
    # (How long the stop took depends on when the test saw the step start: only bounded above.)
    assert stopped_in < grace + 5
    if step_ends_in_time:  # the worker waited for the step it was in, and stored its result
        assert steps_of(job_id) == {"a": ("done", 1), "b": ("done", 1)}
    else:
        assert steps_of(job_id)["b"][0] == "running"

    start_worker()
    job = wait_until(lambda: (j := jobs.get(job_id, OWNER)).finished and j, timeout=20)
    assert job.state == "done"
    runs = Counter(line.split()[0] for line in trace_lines(trace, job_id))
    assert runs == {"step:a": 1, "step:b": 1 if step_ends_in_time else 2, "step:c": 1}


def test_a_stopping_worker_keeps_its_lease_while_a_step_outlasts_it(
        jobs_app, spawn_worker, start_worker, trace):
    job_id = jobs.submit("test.steps", OWNER, {
        "trace": str(trace), "steps": ["a", "b", "c"], "slow": "b", "slow_s": 4.0})
    process = spawn_worker(PLUME_JOB_STOP_GRACE="15")
    wait_until(lambda: started(trace, job_id, "step:b"), timeout=30)
    start_worker()  # a competitor, ready to take the job the moment its lease (1.5 s) lapses
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0

    job = wait_until(lambda: (j := jobs.get(job_id, OWNER)).finished and j, timeout=20)
    assert job.state == "done" and job.attempts == 1  # the handed-back run is not counted
    runs = [line.split()[:3] for line in trace_lines(trace, job_id)]
    # The heartbeat went on during the 4 s step, so the competitor waited and ran only « c ».
    assert [run[0] for run in runs] == ["step:a", "step:b", "step:c"]
    assert runs[1][2] == f"pid={process.pid}" and runs[2][2] != f"pid={process.pid}"


def test_competing_workers_never_run_the_same_job_twice(jobs_app, spawn_worker, start_worker,
                                                         trace):
    processes = [spawn_worker(threads=3), spawn_worker(threads=3)]
    for process in processes:
        wait_until(lambda: "job worker started" in open(process.log_path).read(), timeout=30)
    start_worker(threads=3)
    # Submitted while nine threads in three processes wait: each job wakes them all.
    ids = [jobs.submit("test.once", OWNER, {"trace": str(trace)}) for _ in range(40)]
    wait_until(lambda: all(jobs.get(i, OWNER).finished for i in ids), timeout=60)

    lines = trace_lines(trace)
    runs = Counter(line.split(" ", 1)[0] for line in open(trace, encoding="utf-8"))
    assert set(runs) == set(ids) and set(runs.values()) == {1}, runs.most_common(3)
    jobs_by = [jobs.get(i, OWNER) for i in ids]
    assert {(j.state, j.attempts) for j in jobs_by} == {("done", 1)}
    pids = Counter(line.split("pid=")[1].split()[0] for line in lines)
    assert len(pids) == 3, pids  # they did compete
    print(f"jobs per process: {dict(pids)}")
    for process in processes:
        assert process.poll() is None  # nobody crashed
