"""What the jobs room gives use cases besides the basics: a chosen id, 403 apart from 404,
progress in the use case's own terms, the held flag, steps' results for a handler that adds
them up."""
from __future__ import annotations

import uuid

import pytest

from backend import jobs
from backend.errors import Forbidden, NotFound, ValidationError
from tests.jobs.processes import wait_until

ALICE, BOB = "hash-alice", "hash-bob"


def test_a_job_may_take_the_id_its_caller_chose(jobs_app, trace):
    chosen = str(uuid.uuid4())
    assert jobs.submit("test.once", ALICE, {"trace": str(trace)}, job_id=chosen) == chosen
    with pytest.raises(ValidationError):
        jobs.submit("test.once", ALICE, {"trace": str(trace)}, job_id="pas-un-uuid")


def test_check_owner_tells_someone_elses_job_from_no_job(jobs_app, trace):
    job_id = jobs.submit("test.once", ALICE, {"trace": str(trace)}, hold=True)
    jobs.check_owner(job_id, ALICE, kind="test.once")
    with pytest.raises(Forbidden) as caught:
        jobs.check_owner(job_id, BOB, kind="test.once")
    assert caught.value.status == 403
    for unknown in (str(uuid.uuid4()), "pas-un-uuid"):
        with pytest.raises(NotFound):
            jobs.check_owner(unknown, ALICE)
    with pytest.raises(NotFound):  # another kind's job is not one of these
        jobs.check_owner(job_id, ALICE, kind="test.steps")
    with pytest.raises(NotFound):  # get() still answers 404 to anyone else
        jobs.get(job_id, BOB)


def test_held_jobs_say_so_until_started(jobs_app, trace):
    job_id = jobs.submit("test.once", ALICE, {"trace": str(trace)}, hold=True)
    assert jobs.get(job_id, ALICE).held is True
    assert jobs.start_held(job_id, ALICE).held is False


def test_progress_detail_and_step_results_reach_the_use_case(jobs_app, start_worker, trace):
    @jobs.handler("test.detail")
    def run(ctx: jobs.JobContext) -> dict:
        ctx.step("a", lambda: {"usage": 3})
        ctx.step("b", lambda: {"usage": 4})
        ctx.progress(2, 2, "Fini", detail={"pages_read": 12})
        return {"sum": sum(r["usage"] for r in ctx.results().values()),
                "last": ctx.last_attempt, "only_a": list(ctx.results("a"))}

    try:
        job_id = jobs.submit("test.detail", ALICE, {})
        start_worker()
        job = wait_until(lambda: (j := jobs.get(job_id, ALICE)).finished and j)
        assert job.state == "done", job
        assert job.result == {"sum": 7, "last": False, "only_a": ["a"]}
        assert job.progress_detail == {"pages_read": 12}
        assert job.to_dict()["progress"] == {"done": 2, "total": 2, "message": "Fini"}
    finally:
        from backend.jobs.worker import HANDLERS
        HANDLERS.pop("test.detail", None)


