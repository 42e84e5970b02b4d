"""Retention: each kind declares how long its jobs are kept; workers purge every kind on one
schedule, one at a time across workers, and a purge that fails is logged and tried again.

The test kinds get their retention here (``kept``), read from settings of their own
(``TEST_KEEP_HOURS``…), as a use case's kind reads ``DOSSIER_RETENTION_DAYS``."""
from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any, Iterator

import psycopg
import pytest

from backend import db, jobs
from backend.config import load
from backend.jobs import retention
from backend.settings import ConfigError
from tests.jobs import handlers
from tests.jobs.conftest import FAST
from tests.jobs.processes import wait_until

ALICE = "hash-alice"
HOUR = timedelta(hours=1)
TABLES = ("job_steps", "job_blobs", "job_blob_chunks", "job_calls")


@pytest.fixture
def kept() -> Iterator[None]:
    """test.steps and test.endless kept TEST_KEEP_HOURS, test.digest TEST_DIGEST_KEEP_HOURS;
    test.once declares no retention (kept for ever). Registered as at import, then undone."""
    declared = {"test.steps": (handlers.run_steps, "TEST_KEEP_HOURS"),
                "test.endless": (handlers.run_endless, "TEST_KEEP_HOURS"),
                "test.digest": (handlers.run_digest, "TEST_DIGEST_KEEP_HOURS")}
    for kind, (fn, setting) in declared.items():
        jobs.handler(kind, retention=jobs.Retention(setting, HOUR))(fn)
    yield
    for kind, (fn, _) in declared.items():
        jobs.handler(kind)(fn)


@pytest.fixture
def app(make_app, kept) -> Iterator[Any]:
    app = make_app(**FAST, TEST_KEEP_HOURS=1, TEST_DIGEST_KEEP_HOURS=2)
    with app.app_context():
        yield app


def finished(job_id: str, timeout: float = 20.0) -> jobs.Job:
    return wait_until(lambda: (job := jobs.get(job_id, ALICE)).finished and job, timeout)


def age(job_id: str, **columns: float) -> None:
    """Move a job's times back by so many hours (``finished_at=2``: it finished 2 h ago)."""
    sets = ", ".join(f"{name} = now() - make_interval(secs => %({name})s * 3600)"
                     for name in columns)
    with db.connection() as conn:
        conn.execute(f"UPDATE jobs SET {sets} WHERE id = %(id)s", {**columns, "id": job_id})


def left(job_ids: list[str]) -> set[str]:
    with db.connection() as conn:
        rows = conn.execute("SELECT id::text FROM jobs WHERE id::text = ANY(%s)", (job_ids,))
        return {row[0] for row in rows}


def rows_of(job_id: str) -> dict[str, int]:
    with db.connection() as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table} WHERE job_id = %s",
                                    (job_id,)).fetchone()[0] for table in TABLES}


def expired_jobs(count: int, kind: str = "test.steps") -> list[str]:
    """``count`` jobs cancelled while queued (finished at once), each with a file, finished
    two days ago."""
    ids = []
    for _ in range(count):
        job_id = jobs.submit(kind, ALICE, {"steps": []}, blobs={"pièce.pdf": b"%PDF-1.7" * 100})
        jobs.cancel(job_id, ALICE)
        age(job_id, finished_at=48)
        ids.append(job_id)
    return ids


@pytest.fixture
def worker(app) -> Iterator[jobs.Worker]:
    """One job thread, no purge of its own: the tests purge when they choose."""
    worker = jobs.Worker(app, 1).start()
    yield worker
    worker.stop(grace=0)


def test_expired_jobs_of_each_kind_go_with_their_steps_and_files_and_the_rest_stays(
        app, worker, trace):
    old = jobs.submit("test.steps", ALICE, {"trace": str(trace), "steps": ["lire", "résumer"]},
                      blobs={"conclusions.pdf": b"%PDF" * 300_000})
    recent = jobs.submit("test.steps", ALICE, {"trace": str(trace), "steps": ["lire"]})
    digest = jobs.submit("test.digest", ALICE, {}, blobs={"audience.wav": b"RIFF" * 1000})
    forever = jobs.submit("test.once", ALICE, {"trace": str(trace)})
    for job_id in (old, recent, digest, forever):
        assert finished(job_id).state == "done"
    running = jobs.submit("test.endless", ALICE, {"trace": str(trace)})
    wait_until(lambda: jobs.get(running, ALICE).state == "running")
    waiting = jobs.submit("test.steps", ALICE, {"trace": str(trace), "steps": []})  # the one
    # thread is busy: it stays queued
    abandoned = jobs.submit("test.digest", ALICE, {}, hold=True, blobs={"a.webm": b"\x1a" * 10})
    uploading = jobs.submit("test.digest", ALICE, {}, hold=True)
    jobs.append_blob(uploading, ALICE, "b.webm", b"\x1a" * 10, offset=0)
    assert rows_of(old)["job_steps"] == 2 and rows_of(old)["job_blob_chunks"] == 2

    age(old, finished_at=1.5)                            # kept 1 h: expired
    age(recent, finished_at=0.5)                         # kept 1 h: not yet
    age(digest, finished_at=2.5)                         # kept 2 h: expired
    age(forever, finished_at=24 * 365)                   # no retention: kept
    age(running, created_at=24 * 30, started_at=24 * 30)  # running for a month: kept
    age(waiting, created_at=24 * 30)                     # queued for a month: kept
    age(abandoned, created_at=3, updated_at=3)           # no part for 3 h: expired
    age(uploading, created_at=3)                         # its last part just now: kept

    purged = jobs.purge_expired()
    assert purged is not None and purged.failed == []
    assert purged.counts["test.steps"] == 1 and purged.counts["test.digest"] == 2
    assert purged.counts["test.endless"] == 0 and "test.once" not in purged.counts
    everyone = [old, recent, digest, forever, running, waiting, abandoned, uploading]
    assert left(everyone) == {recent, forever, running, waiting, uploading}
    for job_id in (old, digest, abandoned):
        assert rows_of(job_id) == dict.fromkeys(TABLES, 0), job_id
    assert rows_of(recent)["job_steps"] == 1 and rows_of(uploading)["job_blob_chunks"] == 1
    assert jobs.get(running, ALICE).state == "running" and running in worker.active
    assert jobs.purge_expired(["test.steps"]).counts == {"test.steps": 0}  # nothing left to do


def test_only_one_worker_purges_at_a_time(app, database_url, caplog):
    caplog.set_level(logging.INFO, logger="backend.jobs")
    expired = expired_jobs(6)
    worker = jobs.Worker(app, 1, name="w1", purge=True)  # not started: its turns by hand
    with psycopg.connect(database_url, autocommit=True) as other:  # another worker is purging
        other.execute("SELECT pg_advisory_lock(%s)", (retention.PURGE_LOCK,))
        assert worker.purge_turn() is None
        assert "job purge skipped: another worker is purging" in caplog.messages
        assert left(expired) == set(expired)

        # A command waits for the purge under way, then purges.
        done: list[Any] = []
        command = threading.Thread(target=lambda: done.append(
            _in(app, lambda: jobs.purge_expired(["test.steps"]))))
        command.start()
        wait_until(lambda: other.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone()[0] == 1)
        assert left(expired) == set(expired)
        other.execute("SELECT pg_advisory_unlock(%s)", (retention.PURGE_LOCK,))
        command.join(timeout=30)
    assert done[0].counts == {"test.steps": 6} and left(expired) == set()


def test_two_workers_purging_at_once_delete_each_job_once(app, caplog):
    caplog.set_level(logging.INFO, logger="backend.jobs")
    expired = expired_jobs(20) + expired_jobs(5, kind="test.digest")
    workers = [jobs.Worker(app, 1, name=f"w{i}", purge=True) for i in range(2)]
    start = threading.Barrier(2)
    turns: list[Any] = []

    def turn(worker: jobs.Worker) -> None:
        start.wait()
        turns.append(_in(app, worker.purge_turn))

    threads = [threading.Thread(target=turn, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(turns) == 2 and left(expired) == set()
    purges = [t for t in turns if t is not None]  # the other skipped, or found nothing left
    assert sum(p.counts["test.steps"] for p in purges) == 20
    assert sum(p.counts["test.digest"] for p in purges) == 5
    deleted = [r for r in caplog.records if r.getMessage() == "expired jobs deleted"]
    assert sorted((r.kind, r.count) for r in deleted) == [("test.digest", 5), ("test.steps", 20)]


def test_a_failing_purge_is_logged_and_tried_again_at_the_next_turn(make_app, kept, trace, caplog):
    caplog.set_level(logging.INFO, logger="backend.jobs")
    # A purge every 0.3 s; test.steps' retention setting is unreadable, test.digest's fine.
    app = make_app(**FAST, JOB_PURGE_MINUTES=0.005, TEST_KEEP_HOURS="beaucoup",
                   TEST_DIGEST_KEEP_HOURS=2)
    with app.app_context():
        broken, fine = expired_jobs(1), expired_jobs(1, kind="test.digest")
        worker = jobs.Worker(app, 1, purge=True).start()
        try:
            wait_until(lambda: not left(fine))  # the other kinds are purged all the same
            wait_until(lambda: sum(r.getMessage() == "job purge failed" and r.kind == "test.steps"
                                   for r in caplog.records) >= 2)  # logged, and tried again
            failed = next(r for r in caplog.records if r.getMessage() == "job purge failed")
            assert failed.levelno == logging.ERROR and "beaucoup" in failed.exc_text
            assert left(broken) == set(broken)
            # The worker goes on with its jobs meanwhile.
            job_id = jobs.submit("test.once", ALICE, {"trace": str(trace)})
            assert finished(job_id).state == "done"

            app.config["TEST_KEEP_HOURS"] = 1  # mended: the next turn purges
            wait_until(lambda: not left(broken))
            assert any(t.name == "plume-job-purge" and t.is_alive() for t in worker._threads)
        finally:
            worker.stop(grace=0)


def test_a_database_out_of_reach_fails_the_turn_not_the_worker(make_app, caplog):
    app = make_app(**FAST, DATABASE_URL="postgresql://plume@127.0.0.1:1/plume")
    with app.app_context():
        assert jobs.Worker(app, 1, purge=True).purge_turn() is None
    assert "job purge failed; tried again at the next turn" in caplog.messages


def test_the_purge_command_purges_now_and_names_each_kinds_retention(app):
    expired_jobs(2), expired_jobs(1, kind="test.digest")
    result = app.test_cli_runner().invoke(args=["jobs", "purge"])
    assert result.exit_code == 0, result.output
    assert "test.steps : 2 supprimé(s), conservés 1 heure (PLUME_TEST_KEEP_HOURS)." in result.output
    assert "test.digest : 1 supprimé(s), conservés 2 heures (PLUME_TEST_DIGEST_KEEP_HOURS)." \
        in result.output
    assert "dossier : 0 supprimé(s), conservés 30 jours (PLUME_DOSSIER_RETENTION_DAYS)." \
        in result.output
    assert "transcription : 0 supprimé(s)" in result.output

    one = app.test_cli_runner().invoke(args=["jobs", "purge", "--kind", "test.steps"])
    said = [line for line in one.output.splitlines() if not line.startswith("{")]  # not logs
    assert one.exit_code == 0 and said == [
        "test.steps : 0 supprimé(s), conservés 1 heure (PLUME_TEST_KEEP_HOURS)."]
    refused = app.test_cli_runner().invoke(args=["jobs", "purge", "--kind", "test.once"])
    assert refused.exit_code == 2 and "aucune conservation déclarée pour test.once" in refused.output


def test_the_purge_interval_keeps_its_former_name(make_app):
    def every(**settings: Any) -> float:
        return jobs.Worker(make_app(**settings), 1).purge_every

    assert every() == 3600.0
    assert every(HEARING_PURGE_MINUTES=15) == 900.0      # a deployment that set the old name
    assert every(JOB_PURGE_MINUTES=5, HEARING_PURGE_MINUTES=15) == 300.0
    environ = {"PLUME_ENV": "development", "PLUME_HEARING_PURGE_MINUTES": "20"}
    assert retention.purge_seconds(load(environ=environ)) == 1200.0
    for name in ("PLUME_JOB_PURGE_MINUTES", "PLUME_HEARING_PURGE_MINUTES"):
        with pytest.raises(ConfigError, match=f"{name}=0.0 must be more than 0"):
            load(environ={"PLUME_ENV": "development", name: "0"})


def _in(app: Any, fn: Any) -> Any:
    with app.app_context():
        return fn()
