"""The metered call, as a user and an auditor would notice it: the record is written when
the call starts and completed when it ends; a worker killed mid-answer leaves a record
closed as « interrompu » that the observatory counts; a database restart is a 503, not a
500; tokens are charged with their record."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from tests.conftest import BASE_CONFIG
from tests.llm.conftest import FAST, events

ROOT = Path(__file__).resolve().parents[2]
LONG_TEXT = "Le tribunal statue sur la demande de M. Martin relative au bail commercial. " * 3


def _rows(database_url: str, sql: str, params=None) -> list[dict]:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def _wait(predicate, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_the_record_is_opened_when_the_stream_starts_and_finished_when_it_ends(
        make_app, fake_llm, database_url):
    fake_llm.token_delay = 0.05
    client = make_app(LLM_BASE_URL=fake_llm.url, **FAST).test_client()
    response = client.post("/api/v1/assist/summarize", json={"text": LONG_TEXT}, buffered=False)
    assert response.status_code == 200

    [opened] = _rows(database_url, "SELECT * FROM audit_open")
    assert (opened["kind"], opened["task"], opened["pid"]) == ("assist", "summarize", os.getpid())
    assert _rows(database_url, "SELECT id FROM audit_interactions") == []

    done = dict(events(response))["done"]
    assert _rows(database_url, "SELECT id FROM audit_open") == []
    [stored] = _rows(database_url, "SELECT id, outcome, completion_tokens FROM audit_interactions")
    assert (str(stored["id"]), stored["outcome"]) == (done["interaction_id"], "ok")
    assert stored["completion_tokens"] == done["usage"]["completion_tokens"] > 0
    [charged] = _rows(database_url, "SELECT family, tokens FROM quota_tokens")
    assert charged == {"family": "generation", "tokens": done["usage"]["total_tokens"]}


WORKER = """
import sys, time
from backend import create_app
from tests.conftest import BASE_CONFIG
app = create_app({**BASE_CONFIG, "DATABASE_URL": sys.argv[1], "LLM_BASE_URL": sys.argv[2],
                  "LLM_MODEL": "fake-chat", "LLM_TIMEOUT_CHUNK": 60.0, "LLM_TIMEOUT_TOTAL": 120.0})
response = app.test_client().post("/api/v1/assist/summarize", json={"text": sys.argv[3]},
                                  buffered=False)
print(response.status_code, file=sys.stderr, flush=True)
time.sleep(120)
"""


def test_a_worker_killed_mid_answer_leaves_a_record_closed_as_interrupted(
        make_app, fake_llm, database_url):
    fake_llm.token_delay = 2.0  # the answer is still streaming when the worker dies
    worker = subprocess.Popen([sys.executable, "-c", WORKER, database_url, fake_llm.url, LONG_TEXT],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert worker.stderr.readline().strip() == "200"
        [opened] = _rows(database_url, "SELECT pid FROM audit_open")
        assert opened["pid"] == worker.pid
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert _rows(database_url, "SELECT id FROM audit_interactions") == [], "the worker wrote nothing"

    # The next worker on this instance closes it after its own first record.
    client = make_app(LLM_BASE_URL=fake_llm.url, **FAST).test_client()
    fake_llm.token_delay = 0.0
    assert events(client.post("/api/v1/assist/rewrite", json={"text": "Texte à reformuler."}))[-1][0] == "done"
    assert _wait(lambda: len(_rows(database_url, "SELECT id FROM audit_interactions")) == 2)
    interrupted = _rows(database_url, "SELECT task, outcome, error_code, duration_ms FROM "
                                      "audit_interactions WHERE error_code = 'interrompu'")
    assert interrupted == [{"task": "summarize", "outcome": "error", "error_code": "interrompu",
                            "duration_ms": None}]
    assert _rows(database_url, "SELECT id FROM audit_open") == []

    causes = client.get("/api/v1/observatory/errors").json["by_cause"]
    assert {"cause": "interrompu", "errors": 1} in [
        {"cause": c["cause"], "errors": c["errors"]} for c in causes]
    assert client.application.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


def test_the_nightly_prune_closes_records_left_open_past_the_grace(make_app, database_url):
    app = make_app()
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO audit_open (id, started_at, user_hash, kind, task, instance, pid) "
                     "VALUES (gen_random_uuid(), now() - interval '3 hours', 'u', 'search', 'search', "
                     "'another-container', 1)")
    result = app.test_cli_runner().invoke(args=["audit", "prune"])
    assert result.exit_code == 0, result.output
    assert "1 interaction(s) interrompue(s) clôturée(s)" in result.output
    assert [r["error_code"] for r in _rows(database_url, "SELECT error_code FROM audit_interactions")] \
        == ["interrompu"]


def test_a_database_restart_during_the_quota_check_is_not_a_500(make_app, fake_llm, database_url):
    client = make_app(LLM_BASE_URL=fake_llm.url, **FAST).test_client()
    assert events(client.post("/api/v1/assist/rewrite", json={"text": "Un texte."}))[-1][0] == "done"
    # What a restart does to the pooled connections: the server ends every session.
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE pid <> pg_backend_pid() AND datname = current_database()")
        assert _wait(lambda: conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            "AND datname = current_database() AND backend_type = 'client backend'").fetchone()[0] == 0)
    # The broken connection fails the admission once; it is retried on a fresh one.
    response = client.post("/api/v1/assist/rewrite", json={"text": "Un autre texte."})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert events(response)[-1][0] == "done"
    assert _wait(lambda: len(_rows(database_url, "SELECT id FROM audit_interactions "
                                                 "WHERE outcome = 'ok'")) == 2), \
        _rows(database_url, "SELECT outcome, error_code FROM audit_interactions")


def test_a_refused_search_is_recorded_like_a_refused_assist(make_app, database_url):
    client = make_app(QUOTA_REQUESTS_PER_MINUTE=1).test_client()
    client.get("/api/v1/search?q=bail")
    refused = client.get("/api/v1/search?q=bail")
    assert refused.status_code == 429
    outcomes = _rows(database_url, "SELECT kind, outcome, error_code FROM audit_interactions ORDER BY seq")
    assert outcomes[-1] == {"kind": "search", "outcome": "error", "error_code": "quota_depasse"}


def test_a_database_that_stays_down_is_the_documented_503(make_app, fake_llm, database_url, tmp_path):
    import backend.audit.records as records

    client = make_app(LLM_BASE_URL=fake_llm.url, DATA_DIR=str(tmp_path), **FAST).test_client()
    assert events(client.post("/api/v1/assist/rewrite", json={"text": "Un texte."}))[-1][0] == "done"
    elsewhere = database_url.replace("/postgres?", "/template1?")
    with psycopg.connect(elsewhere, autocommit=True) as conn:
        conn.execute("ALTER DATABASE postgres ALLOW_CONNECTIONS false")
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'postgres'")
    records.POOL_TIMEOUT_SECONDS, saved = 0.5, records.POOL_TIMEOUT_SECONDS
    try:
        response = client.post("/api/v1/assist/rewrite", json={"text": "Un autre texte."})
    finally:
        records.POOL_TIMEOUT_SECONDS = saved
        with psycopg.connect(elsewhere, autocommit=True) as conn:
            conn.execute("ALTER DATABASE postgres ALLOW_CONNECTIONS true")
    assert response.status_code == 503
    assert response.json["error"] == "base_indisponible"
    assert response.json["message"].startswith("La base de données est momentanément injoignable")
    assert len(fake_llm.chat_requests()) == 1, "nothing reaches the host when the call cannot be admitted"
    # The refused call is not forgotten: its record waits in the spool for the database.
    assert (tmp_path / records.SPOOL_NAME).read_text().count('"error_code": "base_indisponible"') == 1


def test_a_call_metered_outside_a_request_names_its_user_and_charges_them(make_app, database_url):
    """A job step runs in no request: the record and the charge are the given user's."""
    from backend.auth import User, user_hash
    from backend.usecases.metered import metered

    app = make_app()
    clerk = User(id="clerk-42", roles=frozenset({"Plume.Greffier"}),
                 jurisdictions=frozenset({"Tribunal judiciaire de Lyon"}))
    with app.app_context():
        with metered(clerk, "assist", "mail-summary") as call:
            call.charge({"prompt_tokens": 300, "completion_tokens": 45})
            call.charge({"prompt_tokens": 20, "completion_tokens": 5, "estimated": True})
            assert call.usage() == {"prompt_tokens": 320, "completion_tokens": 50,
                                    "total_tokens": 370, "estimated": True, "calls": 2}
        expected = user_hash(clerk.id)
    [stored] = _rows(database_url, "SELECT user_hash, roles, jurisdictions, outcome, prompt_tokens, "
                                   "completion_tokens FROM audit_interactions")
    assert stored == {"user_hash": expected, "roles": ["Plume.Greffier"],
                      "jurisdictions": ["Tribunal judiciaire de Lyon"], "outcome": "ok",
                      "prompt_tokens": 320, "completion_tokens": 50}
    assert _rows(database_url, "SELECT user_hash, family, tokens FROM quota_tokens") == [
        {"user_hash": expected, "family": "generation", "tokens": 370}]


def test_a_failure_the_use_case_shows_itself_is_recorded_with_its_code(make_app, database_url):
    from backend.auth import User
    from backend.usecases.metered import metered

    app = make_app()
    judge = User(id="judge-1", roles=frozenset({"Plume.Magistrat"}))
    with app.app_context():
        with metered(judge, "search", "search") as call:
            call.fail("amont_indisponible")
            call.fail("autre_code")  # the first failure is the one recorded
    assert _rows(database_url, "SELECT outcome, error_code FROM audit_interactions") == [
        {"outcome": "error", "error_code": "amont_indisponible"}]
