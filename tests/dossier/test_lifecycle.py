"""A dossier's life as a job: a worker killed in the middle (a real ``python -m backend
worker`` process) and another that finishes it, cancelled, deleted with its files, refused
by the quota before any model call."""
from __future__ import annotations

import re
import signal
import time

from backend import db, jobs
from tests.dossier.conftest import FAST, finished, model_reply, upload
from tests.jobs.processes import WorkerThreads, wait_until
from tests.dossier.files import good_dossier, note_txt
from tests.fakes.upstream import Behaviour


def chat_calls(fake_llm) -> list:
    return [r for r in fake_llm.requests if r.path.endswith("/chat/completions")]


def rows(sql: str, *args) -> list:
    with db.connection() as conn:
        return conn.execute(sql, args).fetchall()


def many_parts() -> dict[str, bytes]:
    """Enough text for several model calls with a small context window."""
    return {f"piece-{n}.txt": (f"Pièce {n}. " + "Le demandeur expose les faits de la cause. " * 120
                               ).encode() for n in range(1, 7)}


def test_a_dossier_survives_its_worker_being_killed(client, fake_llm, spawn_worker, make_app):
    fake_llm.token_delay = 0.05  # each call takes a few seconds: the kill lands in one
    created = upload(client, many_parts(), start="false").get_json()
    first = spawn_worker(PLUME_LLM_CONTEXT_TOKENS="3000", PLUME_DOSSIER_MAP_CONCURRENCY="2")
    time.sleep(0.5)
    client.post(f"/api/v1/dossiers/{created['id']}/start")
    wait_until(lambda: rows("SELECT count(*) FROM job_steps WHERE job_id = %s AND key LIKE "
                            "'map:%%' AND state = 'done'", created["id"])[0][0] >= 1, timeout=60)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    # What the dead worker left: the steps it had finished, and those it was in.
    in_flight = rows("SELECT count(*) FROM job_steps WHERE job_id = %s AND key LIKE 'map:%%' "
                     "AND state = 'running'", created["id"])[0][0]
    done_before = rows("SELECT key FROM job_steps WHERE job_id = %s AND state = 'done'",
                       created["id"])
    calls_at_kill = len(chat_calls(fake_llm))

    spawn_worker(PLUME_LLM_CONTEXT_TOKENS="3000", PLUME_DOSSIER_MAP_CONCURRENCY="2")
    dossier = finished(client, created["id"], timeout=120)
    assert dossier["state"] == "done", dossier
    steps = dict(rows("SELECT key, attempts FROM job_steps WHERE job_id = %s", created["id"]))
    parts = [k for k in steps if k.startswith("map:")]
    # Steps finished before the kill ran once; only those in flight ran again.
    assert all(steps[key] == 1 for (key,) in done_before)
    repeated = sum(1 for key in parts if steps[key] > 1)
    assert repeated <= in_flight
    assert len(chat_calls(fake_llm)) - calls_at_kill == len(parts) - len(
        [k for (k,) in done_before if k.startswith("map:")])
    # One record, finished by the second worker.
    assert rows("SELECT id::text, outcome FROM audit_interactions") == [(created["id"], "ok")]
    assert rows("SELECT count(*) FROM audit_open") == [(0,)]
    # The calls cut by the kill were served by the host: the record counts them and their
    # repeats (every call the host received), their prompts from the estimate noted before sending.
    # A step the kill caught between its start and its request ran again without a repeated
    # call, and one caught between noting its call and sending it is counted unserved: bounds.
    served = chat_calls(fake_llm)
    assert len(parts) <= len(served) <= len(parts) + repeated
    (model_calls, runs), = rows("SELECT model_calls, runs FROM dossier_measures")
    assert runs == 2 and len(served) <= model_calls <= len(parts) + repeated
    (prompt, completion), = rows("SELECT prompt_tokens, completion_tokens FROM audit_interactions")
    host_prompts = sum(len(str(m["content"])) // 4 + 1 for r in served for m in [
        {"content": "".join(x["content"] for x in r.json["messages"])}])
    assert prompt >= 0.8 * host_prompts and completion > 0


def test_cancel_a_queued_dossier_and_a_running_one(client, fake_llm, start_worker):
    held = upload(client, {"note.txt": note_txt()}, start="false").get_json()
    cancelled = client.post(f"/api/v1/dossiers/{held['id']}/cancel").get_json()
    assert cancelled["state"] == "cancelled"

    fake_llm.token_delay = 0.2
    running = upload(client, many_parts()).get_json()
    start_worker()
    wait_until(lambda: chat_calls(fake_llm))
    assert client.post(f"/api/v1/dossiers/{running['id']}/cancel").status_code == 200
    assert finished(client, running["id"])["state"] == "cancelled"
    synthesis = client.get(f"/api/v1/dossiers/{running['id']}/synthesis")
    assert synthesis.status_code == 409 and synthesis.get_json()["error"] == "synthese_non_prete"
    records = dict(rows("SELECT id::text, outcome FROM audit_interactions"))
    assert records == {held["id"]: "stopped", running["id"]: "stopped"}


def test_delete_removes_the_job_its_steps_and_its_files(client, start_worker):
    created = upload(client, good_dossier()).get_json()
    start_worker()
    finished(client, created["id"])
    assert rows("SELECT count(*) FROM job_blob_chunks WHERE job_id = %s", created["id"])[0][0] > 0
    response = client.delete(f"/api/v1/dossiers/{created['id']}")
    assert response.status_code == 204
    for table in ("jobs", "job_steps", "job_blobs", "job_blob_chunks"):
        column = "id" if table == "jobs" else "job_id"
        assert rows(f"SELECT count(*) FROM {table} WHERE {column} = %s", created["id"]) == [(0,)]
    assert client.get(f"/api/v1/dossiers/{created['id']}").status_code == 404
    assert client.get(f"/api/v1/dossiers/{created['id']}/files/note.txt").status_code == 404
    # The record stays (it holds no text): the dossier's use is still accounted for.
    assert rows("SELECT outcome FROM audit_interactions") == [("ok",)]


def test_the_quota_refuses_a_dossier_before_its_first_model_call(make_app, fake_llm):
    fake_llm.reply = model_reply
    app = make_app(LLM_BASE_URL=fake_llm.url, **FAST, QUOTA_DAILY_TOKENS={"generation": 500})
    client = app.test_client()
    with app.app_context():
        created = upload(client, good_dossier()).get_json()
        worker = jobs.Worker(app, 1).start()
        try:
            dossier = finished(client, created["id"])
        finally:
            worker.stop(grace=0)
        assert dossier["state"] == "failed"
        assert dossier["error"]["error"] == "quota_depasse"
        assert "jetons" in dossier["error"]["message"]
        assert chat_calls(fake_llm) == []
        assert rows("SELECT outcome, error_code FROM audit_interactions") == [
            ("error", "quota_depasse")]


def test_a_failing_host_fails_the_dossier_after_its_attempts_and_records_it(
        make_app, fake_llm):
    fake_llm.when(lambda body: True, Behaviour(status=500))
    app = make_app(LLM_BASE_URL=fake_llm.url, **FAST, JOB_MAX_ATTEMPTS=2)
    client = app.test_client()
    with app.app_context():
        created = upload(client, {"note.txt": note_txt()}).get_json()
        worker = jobs.Worker(app, 1).start()
        try:
            dossier = finished(client, created["id"])
        finally:
            worker.stop(grace=0)
        assert dossier["state"] == "failed" and dossier["error"]["message"]
        assert rows("SELECT outcome FROM audit_interactions") == [("error",)]
        assert rows("SELECT count(*) FROM audit_open") == [(0,)]


def test_a_dossier_record_is_not_closed_as_interrupted_while_its_job_lives(dossier_app, client):
    from backend.audit import records
    created = upload(client, {"note.txt": note_txt()}, start="false").get_json()
    with db.connection() as conn:  # the request's process is gone (a recycled web worker)
        conn.execute("UPDATE audit_open SET pid = 2147483646, instance = %s", (records.INSTANCE,))
    assert records.close_interrupted(dossier_app) == 0
    assert rows("SELECT id::text FROM audit_open") == [(created["id"],)]
    with db.connection() as conn:  # abandoned without a verdict from any run
        conn.execute("UPDATE jobs SET state = 'failed', finished_at = now() WHERE id = %s",
                     (created["id"],))
    assert records.close_interrupted(dossier_app) == 1
    assert rows("SELECT id::text, outcome, error_code FROM audit_interactions") == [
        (created["id"], "error", "interrompu")]


def test_a_dossier_cancelled_during_its_last_model_call_ends_cancelled(make_app, fake_llm):
    """The host stalls on the last part; the owner cancels while it does: the dossier ends
    cancelled, its record « stopped », never done."""

    fake_llm.reply = model_reply
    app = make_app(LLM_BASE_URL=fake_llm.url, **FAST, LLM_CONTEXT_TOKENS=3000,
                   LLM_TIMEOUT_CHUNK=3.0, DOSSIER_MAP_CONCURRENCY=1)
    with app.app_context():
        client = app.test_client()
        created = upload(client, many_parts(), start="false").get_json()
        fake_llm.when(lambda body: is_last_part(body), Behaviour(stall_after=2))
        threads = WorkerThreads(app, 1)
        threads.start()
        try:
            client.post(f"/api/v1/dossiers/{created['id']}/start")
            wait_until(lambda: any(is_last_part(r.json) for r in chat_calls(fake_llm)), timeout=60)
            answer = client.post(f"/api/v1/dossiers/{created['id']}/cancel")
            assert answer.status_code == 200 and answer.get_json()["state"] == "running"
            dossier = finished(client, created["id"])
            assert dossier["state"] == "cancelled", dossier
            assert client.get(f"/api/v1/dossiers/{created['id']}/synthesis").status_code == 409
            assert rows("SELECT outcome FROM audit_interactions WHERE id = %s",
                        created["id"]) == [("stopped",)]
            owner = rows("SELECT owner FROM jobs WHERE id = %s", created["id"])[0][0]
            assert jobs.get(created["id"], owner).result is None
        finally:
            threads.stop_all()


def is_last_part(body: dict) -> bool:
    found = re.search(r"partie (\d+) sur (\d+) du dossier", body["messages"][-1]["content"])
    return bool(found) and found.group(1) == found.group(2) != "1"
