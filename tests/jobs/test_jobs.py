"""Jobs run by in-process workers: steps, results, progress, failures, cancellation, owners,
blobs, bad input, and the lease that fences a worker out of a job it no longer holds."""
from __future__ import annotations

import hashlib
import io
import os
import time

import psycopg
import pytest

from backend import db, jobs
from backend.errors import NotFound, PayloadTooLarge, ValidationError
from backend.jobs import store
from tests.jobs.conftest import trace_lines
from tests.jobs.processes import wait_until

ALICE, BOB = "hash-alice", "hash-bob"


def finished(job_id: str, owner: str = ALICE, timeout: float = 20.0) -> jobs.Job:
    return wait_until(lambda: (job := jobs.get(job_id, owner)).finished and job, timeout)


def count_rows(table: str) -> int:
    with db.connection() as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_a_job_runs_its_steps_and_stores_each_result(jobs_app, start_worker, trace):
    job_id = jobs.submit("test.steps", ALICE, {"trace": str(trace), "steps": ["lire", "résumer"]})
    queued = jobs.get(job_id, ALICE)
    assert queued.state == "queued" and queued.to_dict()["progress"] == {
        "done": 0, "total": None, "message": None}

    start_worker()
    job = finished(job_id)

    assert job.state == "done", job
    assert job.result == {"results": [{"step": "lire", "length": 4},
                                      {"step": "résumer", "length": 7}]}
    assert (job.progress_done, job.progress_total, job.progress_message) == (
        2, 2, "Étape résumer terminée")
    assert job.attempts == 1 and job.error_code is None and job.finished_at >= job.started_at
    assert trace_lines(trace, job_id) == [
        line for line in trace_lines(trace, job_id) if "attempt=1" in line]
    assert [line.split()[0] for line in trace_lines(trace, job_id)] == ["step:lire", "step:résumer"]
    with db.connection() as conn:
        steps = conn.execute("SELECT key, state, result, attempts FROM job_steps "
                             "WHERE job_id = %s ORDER BY started_at", (job_id,)).fetchall()
    assert steps == [("lire", "done", {"step": "lire", "length": 4}, 1),
                     ("résumer", "done", {"step": "résumer", "length": 7}, 1)]
    as_json = job.to_dict()
    assert as_json["state"] == "done" and as_json["error"] is None and "params" not in as_json


def test_parallel_steps_run_concurrently_and_keep_their_order(jobs_app, start_worker, trace):
    job_id = jobs.submit("test.parallel", ALICE, {"trace": str(trace)})
    start_worker(threads=1)
    started = time.monotonic()
    job = finished(job_id)
    assert job.state == "done" and job.result == [i * i for i in range(8)]
    threads = {line.split("thread=")[1] for line in trace_lines(trace, job_id)}
    assert len(threads) == 4  # concurrency=4, never the worker's own thread
    assert time.monotonic() - started < 8 * 0.1 + 3


def test_a_failed_parallel_step_drops_the_pending_ones_and_the_retry_runs_only_the_missing(
        jobs_app, start_worker, trace):
    job_id = jobs.submit("test.parallel", ALICE, {"trace": str(trace), "fail": 1})
    start_worker(threads=1)
    job = finished(job_id)
    assert job.state == "done" and job.attempts == 2 and job.result == [i * i for i in range(8)]
    runs = [line.split()[:2] for line in trace_lines(trace, job_id)]
    first = [step for step, attempt in runs if attempt == "attempt=1"]
    again = [step for step, attempt in runs if attempt == "attempt=2"]
    assert len(first) < 8  # the parts not started when part 1 failed were dropped
    # Each part ran once in all, but the one that failed: it ran once more.
    assert sorted(first + again) == sorted([f"step:part:{i}" for i in range(8)] + ["step:part:1"])
    assert "step:part:1" in again


def test_a_step_that_keeps_failing_fails_the_job_after_bounded_attempts(make_app, trace):
    app = make_app(JOB_HANDLERS=["tests.jobs.handlers"], JOB_MAX_ATTEMPTS=3, JOB_RETRY_DELAY=0,
                   JOB_POLL_SECONDS=0.1)
    with app.app_context():
        job_id = jobs.submit("test.fails", ALICE, {"trace": str(trace)})
        worker = jobs.Worker(app, 1).start()
        try:
            job = finished(job_id)
        finally:
            worker.stop(grace=0)
        assert job.state == "failed"
        assert job.error_code == "traitement_echoue"
        assert job.error_message.startswith("Le traitement a échoué après 3 tentatives.")
        assert job.attempts == 3
        runs = [line.split()[0] for line in trace_lines(trace, job_id)]
        # The step that worked ran once; the broken one once per attempt.
        assert runs == ["step:fine", "step:broken", "step:broken", "step:broken"]
        with db.connection() as conn:
            broken = conn.execute("SELECT state, attempts, error_code FROM job_steps "
                                  "WHERE job_id = %s AND key = 'broken'", (job_id,)).fetchone()
        assert broken == ("failed", 3, "RuntimeError")
        assert job.to_dict()["error"] == {"code": "traitement_echoue",
                                          "message": job.error_message}


def test_a_failure_the_handler_names_fails_at_once_with_its_french_message(
        jobs_app, start_worker, trace):
    job_id = jobs.submit("test.refuses", ALICE, {"trace": str(trace)})
    start_worker()
    job = finished(job_id)
    assert job.state == "failed" and job.attempts == 1
    assert job.error_code == "fichier_chiffre"
    assert job.error_message == "Le fichier « pièce 3.pdf » est chiffré : retirez le mot de passe."
    assert len(trace_lines(trace, job_id)) == 1


def test_a_queued_job_cancelled_never_runs(jobs_app, start_worker, trace):
    job_id = jobs.submit("test.steps", ALICE, {"trace": str(trace), "steps": ["a"]})
    cancelled = jobs.cancel(job_id, ALICE)
    assert cancelled.state == "cancelled" and cancelled.cancel_requested and cancelled.finished
    start_worker()
    other = jobs.submit("test.steps", ALICE, {"trace": str(trace), "steps": ["b"]})
    assert finished(other).state == "done"
    assert trace_lines(trace, job_id) == []
    assert jobs.get(job_id, ALICE).state == "cancelled"
    assert jobs.cancel(job_id, ALICE).state == "cancelled"  # again: unchanged, no error


@pytest.mark.parametrize("inside", [False, True], ids=["between-steps", "inside-a-step"])
def test_a_running_job_stops_when_cancelled(make_app, trace, inside):
    from tests.jobs.conftest import FAST

    # A long lease: heartbeats come every 20 s, so a prompt stop shows NOTIFY brought the cancel.
    app = make_app(**{**FAST, "JOB_LEASE_SECONDS": 60.0})
    with app.app_context():
        job_id = jobs.submit("test.endless", ALICE, {"trace": str(trace), "inside": inside})
        worker = jobs.Worker(app, 1).start()
        try:
            marker = "step:watch" if inside else "step:tick:3"
            wait_until(lambda: any(line.startswith(marker) for line in trace_lines(trace, job_id)))
            asked = time.monotonic()
            assert jobs.cancel(job_id, ALICE).state == "running"  # asked; the worker stops it
            job = finished(job_id, timeout=10)
            stopped_after = time.monotonic() - asked
            assert job.state == "cancelled" and job.cancel_requested
            assert stopped_after < 5.0
            count = len(trace_lines(trace, job_id))
            time.sleep(0.3)
            assert len(trace_lines(trace, job_id)) == count  # nothing runs after it
            if inside:
                assert trace_lines(trace, job_id)[-1].startswith("saw-cancel")
            with db.connection() as conn:
                assert conn.execute("SELECT count(*) FROM job_steps WHERE job_id = %s "
                                    "AND state = 'running'", (job_id,)).fetchone()[0] == 0
        finally:
            worker.stop(grace=0)


def test_a_job_deleted_while_running_stops_and_its_worker_goes_on(jobs_app, start_worker, trace):
    doomed = jobs.submit("test.endless", ALICE, {"trace": str(trace)})
    start_worker(threads=1)
    wait_until(lambda: len(trace_lines(trace, doomed)) >= 3)
    jobs.delete(doomed, ALICE)
    count = wait_until(lambda: (n := len(trace_lines(trace, doomed))) and (
        time.sleep(0.3) or len(trace_lines(trace, doomed)) == n) and n, timeout=5)
    assert count >= 3
    after = jobs.submit("test.steps", ALICE, {"trace": str(trace), "steps": ["a"]})
    assert finished(after).state == "done"  # the thread was freed for the next job
    assert count_rows("jobs") == 1


def test_another_user_can_neither_see_nor_cancel_nor_delete_a_job(jobs_app, trace):
    job_id = jobs.submit("test.steps", ALICE, {"trace": str(trace), "steps": ["a"]})
    for attempt in (lambda: jobs.get(job_id, BOB), lambda: jobs.cancel(job_id, BOB),
                    lambda: jobs.delete(job_id, BOB), lambda: jobs.get("pas-un-id", ALICE),
                    lambda: jobs.wait_for_change(job_id, BOB, 0, timeout=0)):
        with pytest.raises(NotFound) as caught:
            attempt()
        assert caught.value.status == 404
        assert caught.value.to_dict() == {
            "error": "traitement_introuvable",
            "message": "Ce traitement n'existe pas ou n'est pas le vôtre."}
    assert jobs.list_for(BOB) == []
    assert [job.id for job in jobs.list_for(ALICE)] == [job_id]
    assert jobs.get(job_id, ALICE).state == "queued" and not jobs.get(job_id, ALICE).cancel_requested


def test_list_for_shows_newest_first_and_filters_by_kind(jobs_app, trace):
    first = jobs.submit("test.steps", ALICE, {"trace": str(trace), "steps": []})
    second = jobs.submit("test.once", ALICE, {"trace": str(trace)})
    assert [job.id for job in jobs.list_for(ALICE)] == [second, first]
    assert [job.id for job in jobs.list_for(ALICE, kind="test.steps")] == [first]


def test_delete_removes_the_job_its_steps_and_its_files(jobs_app, start_worker, trace):
    job_id = jobs.submit("test.steps", ALICE, {"trace": str(trace), "steps": ["a"]},
                         blobs={"pièce.pdf": b"%PDF-1.7 " * 1000})
    start_worker()
    assert finished(job_id).state == "done"
    jobs.delete(job_id, ALICE)
    with pytest.raises(NotFound):
        jobs.get(job_id, ALICE)
    assert [count_rows(t) for t in ("jobs", "job_steps", "job_blobs", "job_blob_chunks")] == [
        0, 0, 0, 0]


def test_files_are_stored_in_chunks_and_read_back_intact(jobs_app, start_worker, trace):
    audio = os.urandom(int(2.5 * store.CHUNK_BYTES))
    job_id = jobs.submit("test.digest", ALICE, {"trace": str(trace)}, blobs={
        "audience.ogg": jobs.Blob(io.BytesIO(audio), "audio/ogg"), "vide.txt": b""})
    assert count_rows("job_blob_chunks") == 3  # 1 MiB chunks; the empty file has none
    start_worker()
    job = finished(job_id)
    expected = hashlib.sha256(audio).hexdigest()
    assert job.result == {
        "audience.ogg": {"sha256": expected, "size": len(audio), "stored": expected,
                         "content_type": "audio/ogg"},
        "vide.txt": {"sha256": hashlib.sha256(b"").hexdigest(), "size": 0,
                     "stored": hashlib.sha256(b"").hexdigest(), "content_type": None}}
    assert b"".join(store.iter_blob(job_id, "audience.ogg")) == audio
    with pytest.raises(NotFound):
        jobs.open_blob(job_id, ALICE, "absent.pdf")
    with pytest.raises(NotFound):
        jobs.open_blob(job_id, BOB, "audience.ogg")
    with pytest.raises(NotFound):
        jobs.blob_infos(job_id, BOB)
    assert [(b.name, b.size) for b in jobs.blob_infos(job_id, ALICE)] == [
        ("audience.ogg", len(audio)), ("vide.txt", 0)]
    with jobs.open_blob(job_id, ALICE, "audience.ogg") as stream:
        assert stream.read(10) == audio[:10] and stream.read() == audio[10:]


@pytest.mark.parametrize("call, field, code", [
    (lambda: jobs.submit("inconnu", ALICE, {}), "kind", "traitement_inconnu"),
    (lambda: jobs.submit("test.once", "", {}), "owner", "requete_invalide"),
    (lambda: jobs.submit("test.once", ALICE, {"when": {1, 2}}), "params", "requete_invalide"),
    (lambda: jobs.submit("test.once", ALICE, {"x": float("nan")}), "params", "requete_invalide"),
    (lambda: jobs.submit("test.once", ALICE, {"text": "mot " * 20_000}), "params",
     "requete_invalide"),
    (lambda: jobs.submit("test.once", ALICE, {}, blobs={"ok.pdf": b"x", "a\nb": b"y"}), "blobs",
     "requete_invalide"),
    (lambda: jobs.submit("test.once", ALICE, {}, blobs={"texte.txt": "pas des octets"}), "blobs",
     "requete_invalide"),
    (lambda: jobs.submit("test.once", ALICE, {}, max_attempts=0), "max_attempts",
     "requete_invalide"),
], ids=["unknown-kind", "no-owner", "not-json", "nan", "params-too-large", "bad-blob-name",
        "str-blob", "no-attempt"])
def test_bad_input_to_submit_is_refused_and_leaves_nothing(jobs_app, call, field, code):
    with pytest.raises(ValidationError) as caught:
        call()
    assert caught.value.status == 400 and caught.value.code == code
    assert caught.value.extra == {"field": field}
    assert caught.value.message and caught.value.detail  # French for the user, English for logs
    assert [count_rows(t) for t in ("jobs", "job_blobs", "job_blob_chunks")] == [0, 0, 0]


def test_files_over_the_limit_are_refused_and_leave_nothing(make_app):
    app = make_app(JOB_HANDLERS=["tests.jobs.handlers"], JOB_MAX_INPUT_BYTES=3 * 1024 * 1024)
    with app.app_context():
        with pytest.raises(PayloadTooLarge) as caught:
            jobs.submit("test.digest", ALICE, {}, blobs={
                "a.pdf": os.urandom(2 * 1024 * 1024),
                "b.pdf": io.BytesIO(os.urandom(int(1.5 * 1024 * 1024)))})
        assert caught.value.status == 413 and caught.value.code == "fichiers_trop_volumineux"
        assert caught.value.message == ("Les fichiers de ce traitement dépassent la taille "
                                        "permise (3 Mo au total).")
        assert [count_rows(t) for t in ("jobs", "job_blobs", "job_blob_chunks")] == [0, 0, 0]


def test_wait_for_change_returns_at_the_next_progress(jobs_app, start_worker, trace):
    job_id = jobs.submit("test.endless", ALICE, {"trace": str(trace)})
    seen = jobs.get(job_id, ALICE)
    quiet = time.monotonic()
    assert jobs.wait_for_change(job_id, ALICE, seen.version, timeout=0.3).version == seen.version
    assert time.monotonic() - quiet >= 0.3
    start_worker()
    changed = jobs.wait_for_change(job_id, ALICE, seen.version, timeout=10)
    assert changed.version > seen.version and changed.state == "running"
    jobs.cancel(job_id, ALICE)
    assert finished(job_id).state == "cancelled"


def test_a_worker_that_lost_its_lease_can_write_nothing_for_the_job(jobs_app, trace):
    job_id = jobs.submit("test.steps", ALICE, {"trace": str(trace), "steps": ["a"]})
    stale = store.pick(["test.steps"], "paused-worker", lease=0.1)
    assert stale["id"] == job_id and stale["attempts"] == 1
    time.sleep(0.2)
    fresh = store.pick(["test.steps"], "other-worker", lease=30)
    assert fresh["id"] == job_id and fresh["attempts"] == 2
    token = stale["lease_token"]
    assert not store.step_started(job_id, token, "a")
    assert not store.progress(job_id, token, 1, 1, "?")
    assert not store.finish(job_id, token, "done", result={"from": "stale"})
    assert not store.release(job_id, token)
    assert store.heartbeat({job_id: token}, 30) == {}
    assert store.step_started(job_id, fresh["lease_token"], "a")
    assert jobs.get(job_id, ALICE).state == "running"


def test_a_job_whose_last_allowed_run_died_is_failed_as_interrupted(jobs_app, start_worker, trace):
    job_id = jobs.submit("test.steps", ALICE, {"trace": str(trace), "steps": ["a"]},
                         max_attempts=1)
    assert store.pick(["test.steps"], "died", lease=0.1)["id"] == job_id  # and never runs it
    start_worker()
    job = finished(job_id)
    assert job.state == "failed" and job.error_code == "traitement_interrompu"
    assert job.error_message.startswith("Le traitement a été interrompu 1 fois")
    assert trace_lines(trace, job_id) == []


def test_a_job_cancelled_while_its_worker_was_dead_ends_cancelled(jobs_app, start_worker, trace):
    job_id = jobs.submit("test.steps", ALICE, {"trace": str(trace), "steps": ["a"]})
    store.pick(["test.steps"], "died", lease=0.3)
    assert jobs.cancel(job_id, ALICE).state == "running"
    start_worker()
    assert finished(job_id).state == "cancelled"
    assert trace_lines(trace, job_id) == []


def test_jobs_table_refuses_unknown_states(jobs_app):
    with pytest.raises(psycopg.errors.CheckViolation):
        with db.connection() as conn:
            conn.execute("INSERT INTO jobs (id, owner, kind, state, max_attempts) "
                         "VALUES (gen_random_uuid(), 'x', 'k', 'interrupted', 1)")


def jobs_serve_hooks(app) -> list:
    """The hooks ``serve`` runs that come from the jobs room (not the demo model's, say)."""
    return [hook for hook in app.extensions["plume.serve_hooks"]
            if hook.__module__ == "backend.jobs"]


@pytest.mark.parametrize("in_serve", [True, False])
def test_serve_runs_a_worker_in_its_own_process_unless_told_not_to(make_app, trace, in_serve):
    from tests.jobs.conftest import FAST

    app = make_app(**FAST, JOB_WORKER_IN_SERVE=in_serve)
    with app.app_context():
        job_id = jobs.submit("test.steps", ALICE, {"trace": str(trace), "steps": ["a"]})
        with db.connection() as conn:  # a hearing past its retention (48 h)
            expired = conn.execute(
                "INSERT INTO jobs (id, owner, kind, state, max_attempts, finished_at) VALUES "
                "(gen_random_uuid(), %s, 'transcription', 'done', 1, now() - interval '3 days') "
                "RETURNING id::text", (ALICE,)).fetchone()[0]
        [hook] = jobs_serve_hooks(app)
        hook(app)  # what `serve` does before it listens
        worker = app.extensions["plume.jobs"]["worker"]
        try:
            if in_serve:
                assert worker.threads == app.config["JOB_WORKERS"] == 2
                assert finished(job_id).state == "done"
                wait_until(lambda: count_rows("jobs") == 1)  # its purge at start took the hearing
            else:
                assert worker is None
                time.sleep(0.5)
                assert jobs.get(job_id, ALICE).state == "queued"
                assert jobs.get(expired, ALICE).state == "done"  # no worker, no purge
        finally:
            if worker is not None:
                worker.stop(grace=0)


def test_the_worker_command_refuses_an_unmigrated_database(empty_database):
    import subprocess
    import sys

    from tests.jobs.processes import ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUME_")}
    env.update(DATABASE_URL=empty_database, PLUME_ENV="development")
    done = subprocess.run([sys.executable, "-m", "backend", "worker"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "lancez `python -m backend migrate`" in done.stderr


def test_a_held_job_takes_its_file_in_parts_and_runs_once_started(make_app, trace):
    from backend.errors import AppError
    from tests.jobs.conftest import FAST

    app = make_app(**{**FAST, "JOB_MAX_INPUT_BYTES": 4 * 1024 * 1024})
    with app.app_context():
        job_id = jobs.submit("test.digest", ALICE, {"trace": str(trace)}, hold=True)
        worker = jobs.Worker(app, 1).start()
        try:
            parts = [os.urandom(1_500_000), os.urandom(1_048_576), b"fin"]
            size = 0
            size = jobs.append_blob(job_id, ALICE, "audience.webm", parts[0], offset=size,
                                    content_type="audio/webm")
            # The second part is lost on the way and sent again from the wrong place:
            with pytest.raises(AppError) as caught:
                jobs.append_blob(job_id, ALICE, "audience.webm", parts[1], offset=0)
            assert caught.value.status == 409 and caught.value.to_dict() == {
                "error": "envoi_decale", "size": 1_500_000,
                "message": "Cette partie du fichier ne suit pas la précédente ; reprenez "
                           "l'envoi à l'octet 1500000."}
            with pytest.raises(NotFound):
                jobs.append_blob(job_id, BOB, "audience.webm", parts[1], offset=size)
            with pytest.raises(PayloadTooLarge):
                jobs.append_blob(job_id, ALICE, "audience.webm", os.urandom(3_000_000),
                                 offset=size)
            for part in parts[1:]:
                size = jobs.append_blob(job_id, ALICE, "audience.webm", io.BytesIO(part),
                                        offset=size)
            assert size == sum(map(len, parts))
            time.sleep(0.5)
            assert jobs.get(job_id, ALICE).state == "queued"  # held: no worker took it

            assert jobs.start_held(job_id, ALICE).state == "queued"
            job = finished(job_id)
            whole = b"".join(parts)
            assert job.state == "done" and job.result == {"audience.webm": {
                "sha256": hashlib.sha256(whole).hexdigest(), "size": len(whole), "stored": None,
                "content_type": "audio/webm"}}
            with pytest.raises(AppError) as caught:
                jobs.append_blob(job_id, ALICE, "audience.webm", b"trop tard", offset=size)
            assert caught.value.status == 409 and caught.value.code == "envoi_clos"
            assert jobs.start_held(job_id, ALICE).state == "done"  # again: unchanged
        finally:
            worker.stop(grace=0)


def test_a_user_with_many_jobs_does_not_hold_up_another(jobs_app, start_worker, trace):
    busy = [jobs.submit("test.endless", ALICE, {"trace": str(trace)}) for _ in range(4)]
    other = jobs.submit("test.steps", BOB, {"trace": str(trace), "steps": ["a"]})
    start_worker(threads=2)  # one thread takes Alice's oldest job, the other Bob's, not hers
    bob = finished(other, BOB, timeout=10)
    assert bob.state == "done"
    time.sleep(0.3)  # the thread Bob's job freed takes Alice's second one
    started = [jobs.get(job_id, ALICE).started_at for job_id in busy]
    assert started[0] is not None  # her oldest job went first, with Bob's beside it
    assert started[1] > bob.finished_at and started[2:] == [None, None]
    for job_id in busy:
        jobs.cancel(job_id, ALICE)


def printed(result) -> list[str]:
    """What a command printed, without the JSON log lines that other tests' worker threads,
    still stopping, write to the same captured stdout."""
    return [line for line in result.output.splitlines() if not line.startswith('{"time": ')]


def test_jobs_status_shows_the_queue_and_dead_workers_leases(jobs_app, trace):
    runner = jobs_app.test_cli_runner()
    assert printed(runner.invoke(args=["jobs", "status"])) == ["Aucun traitement."]
    jobs.submit("test.once", ALICE, {"trace": str(trace)})
    jobs.submit("test.once", BOB, {"trace": str(trace)})
    jobs.submit("test.steps", ALICE, {"trace": str(trace), "steps": ["a"]})
    store.pick(["test.steps"], "died", lease=0.01)
    time.sleep(0.05)
    lines = printed(runner.invoke(args=["jobs", "status"]))
    assert lines[0].split() == ["type", "état", "nombre", "plus", "ancien", "bail", "expiré"]
    assert [line.split() for line in lines[1:]] == [
        ["test.once", "queued", "2", "0", "s", "0"],
        ["test.steps", "running", "1", "0", "s", "1"]]


def test_a_kind_limited_per_process_runs_one_at_a_time_while_others_go_on(
        jobs_app, start_worker, trace):
    solos = [jobs.submit("test.solo", ALICE, {"trace": str(trace)}) for _ in range(3)]
    quick = [jobs.submit("test.steps", BOB, {"trace": str(trace), "steps": ["a"]})
             for _ in range(3)]
    start_worker(threads=3)
    for job_id in quick:
        assert finished(job_id, BOB).state == "done"
    quick_done = time.monotonic()
    for job_id in solos:
        assert finished(job_id).state == "done"
    spans = sorted(
        (float(lines[0].split()[1]), float(lines[1].split()[1]))
        for lines in (trace_lines(trace, job_id) for job_id in solos))
    assert all(end <= next_begin for (_, end), (next_begin, _) in zip(spans, spans[1:]))
    assert quick_done < spans[-1][0]  # Bob's jobs did not wait behind the solos


def test_a_per_process_limit_must_be_positive():
    with pytest.raises(ValueError):
        jobs.handler("test.none", per_process=0)
