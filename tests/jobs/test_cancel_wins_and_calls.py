"""Cancel wins over a success being recorded (the seal), and host calls counted by every run,
those a dead worker left in flight included."""
from __future__ import annotations

import signal

from backend import db, jobs
from tests.jobs.conftest import trace_lines
from tests.jobs.processes import wait_until

ALICE = "hash-alice"


def finished(job_id: str, timeout: float = 30.0) -> jobs.Job:
    return wait_until(lambda: (job := jobs.get(job_id, ALICE)).finished and job, timeout)


def test_a_cancel_accepted_during_the_last_step_ends_cancelled_never_done(
        jobs_app, start_worker, trace):
    job_id = jobs.submit("test.cancel-last", ALICE, {"trace": str(trace)})
    start_worker()
    job = finished(job_id)
    assert trace_lines(trace, job_id)[0].startswith("step:last")  # the step did finish
    assert job.state == "cancelled" and job.cancel_requested
    assert job.result is None


def test_a_cancel_after_the_seal_is_refused_and_the_job_ends_done(jobs_app, start_worker, trace,
                                                                  tmp_path):
    gate = tmp_path / "gate"
    job_id = jobs.submit("test.sealed", ALICE, {"trace": str(trace), "gate": str(gate)})
    start_worker()
    wait_until(lambda: trace_lines(trace, job_id))
    refused = jobs.cancel(job_id, ALICE)
    assert refused.state == "running" and not refused.cancel_requested
    gate.touch()
    job = finished(job_id)
    assert job.state == "done" and job.result == {"ok": True} and not job.cancel_requested


def test_a_failed_call_is_noted_but_not_counted(jobs_app, start_worker, trace):
    job_id = jobs.submit("test.calls", ALICE, {"trace": str(trace), "calls": 3, "fail": 2})
    start_worker()
    assert finished(job_id).state == "failed"
    with db.connection() as conn:
        states = conn.execute("SELECT step, state FROM job_calls WHERE job_id = %s ORDER BY id",
                              (job_id,)).fetchall()
    assert states == [("call:0", "answered"), ("call:1", "answered"), ("call:2", "failed")]
    assert jobs.spent(job_id) == [{"prompt_tokens": 10, "completion_tokens": 5}] * 2


def test_a_call_in_flight_when_its_worker_dies_is_counted_with_its_repeat(
        jobs_app, spawn_worker, trace):
    job_id = jobs.submit("test.calls", ALICE, {"trace": str(trace), "calls": 3, "hang": 1})
    first = spawn_worker()
    wait_until(lambda: any(line.startswith("call:1") for line in trace_lines(trace, job_id)),
               timeout=30)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    spawn_worker()
    job = finished(job_id, timeout=60)
    assert job.state == "done" and job.attempts == 2
    # Four calls reached the « host »: 0, 1 (cut by the kill), 1 again, 2. All four are counted,
    # the lost one with what was known before it was sent.
    answered = {"prompt_tokens": 10, "completion_tokens": 5}
    assert job.result["spent"] == [answered, {"prompt_tokens": 10, "estimated": True},
                                   answered, answered]
    assert jobs.spent(job_id) == job.result["spent"]
