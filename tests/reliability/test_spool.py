"""The audit spool: a record the database refuses never blocks the others, and what waits
outside the chain is visible (``/readyz``, ``/metrics``, the observatory, ``audit verify``)."""
from __future__ import annotations

import json
import logging
import uuid

from backend.audit import records, spool
from tests.audit.helpers import MAGISTRAT, record, rows

DOWN_URL = "postgresql://plume@127.0.0.1:9/plume?connect_timeout=1"


def spool_during_an_outage(make_app, tmp_path, count: int) -> list[str]:
    """Record ``count`` interactions while the database is unreachable; their ids."""
    down = make_app(DATABASE_URL=DOWN_URL, DATA_DIR=str(tmp_path))
    records.POOL_TIMEOUT_SECONDS, saved = 0.5, records.POOL_TIMEOUT_SECONDS
    try:
        return [record(down, MAGISTRAT, outcome="error", error_code="amont_indisponible")
                for _ in range(count)]
    finally:
        records.POOL_TIMEOUT_SECONDS = saved


def bad_event(interaction_id: str) -> dict:
    # What a feedback comment with a NUL byte became before the input guard: a record
    # PostgreSQL refuses (text cannot hold NUL) however often it is replayed.
    return {"id": str(uuid.uuid4()), "interaction_id": interaction_id, "user_hash": "u",
            "kind": "feedback", "useful": True, "comment": "Très\u0000 utile"}


def test_a_refused_record_goes_to_the_dead_letters_and_the_others_are_flushed(
        make_app, database_url, tmp_path, caplog):
    first = spool_during_an_outage(make_app, tmp_path, 1)
    up = make_app(DATA_DIR=str(tmp_path))
    spool.append(up, "audit_events", bad_event(first[0]))
    later = spool_during_an_outage(make_app, tmp_path, 2)  # spooled behind the bad one
    assert spool.status(up).as_dict() == {"pending": 4, "dead": 0}

    caplog.set_level(logging.INFO)
    result = up.test_cli_runner().invoke(args=["audit", "flush"])
    assert result.exit_code == 0, result.output
    assert "3 enregistrement(s) en attente écrit(s)" in result.output
    assert "1 enregistrement(s) refusé(s)" in result.output
    stored = [str(r["id"]) for r in rows(database_url, "SELECT id FROM audit_interactions ORDER BY seq")]
    assert stored == first + later
    assert spool.status(up).as_dict() == {"pending": 0, "dead": 1}
    [dead] = [json.loads(line) for line in (tmp_path / spool.DEAD_NAME).read_text().splitlines()]
    assert dead["table"] == "audit_events" and "DataError" in dead["error"]
    assert any(r.message.startswith("audit record refused by the database") and
               r.record_id == dead["record"]["id"] for r in caplog.records)

    # The records in the database are intact, but the chain is not called intact.
    verify = up.test_cli_runner().invoke(args=["audit", "verify"])
    assert verify.exit_code == 1
    assert "Chaîne d'audit incomplète" in verify.output
    assert "1 enregistrement(s) refusé(s) par la base" in verify.output


def test_a_live_write_replays_the_spool_past_a_bad_record(make_app, database_url, tmp_path):
    up = make_app(DATA_DIR=str(tmp_path))
    waiting = spool_during_an_outage(make_app, tmp_path, 1)
    spool.append(up, "audit_events", bad_event(waiting[0]))
    after = spool_during_an_outage(make_app, tmp_path, 1)
    fresh = record(up, MAGISTRAT)  # the next successful write replays the spool
    stored = {str(r["id"]) for r in rows(database_url, "SELECT id FROM audit_interactions")}
    assert stored == {*waiting, *after, fresh}
    assert spool.status(up).as_dict() == {"pending": 0, "dead": 1}
    # Every later write no longer retries the bad record.
    record(up, MAGISTRAT)
    assert spool.status(up).as_dict() == {"pending": 0, "dead": 1}


def test_records_waiting_in_the_spool_are_visible_everywhere(make_app, tmp_path):
    spool_during_an_outage(make_app, tmp_path, 2)
    up = make_app(DATA_DIR=str(tmp_path))
    client = up.test_client()

    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["audit_spool"] == {"pending": 2, "dead": 0}
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'plume_audit_spool_records{state="pending"} 2' in metrics
    assert 'plume_audit_spool_records{state="dead"} 0' in metrics
    summary = client.get("/api/v1/observatory/summary").get_json()
    assert summary["records"]["spool"] == {"pending": 2, "dead": 0}

    verify = up.test_cli_runner().invoke(args=["audit", "verify"])
    assert verify.exit_code == 1
    assert "2 enregistrement(s) en attente dans le spool" in verify.output

    assert up.test_cli_runner().invoke(args=["audit", "flush"]).exit_code == 0
    assert client.get("/readyz").get_json()["audit_spool"] == {"pending": 0, "dead": 0}
    assert up.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


def test_flush_while_the_database_is_still_away_keeps_every_record_in_order(make_app, tmp_path):
    ids = spool_during_an_outage(make_app, tmp_path, 3)
    down = make_app(DATABASE_URL=DOWN_URL, DATA_DIR=str(tmp_path))
    records.POOL_TIMEOUT_SECONDS, saved = 0.5, records.POOL_TIMEOUT_SECONDS
    try:
        result = down.test_cli_runner().invoke(args=["audit", "flush"])
    finally:
        records.POOL_TIMEOUT_SECONDS = saved
    assert result.exit_code == 1 and "3 enregistrement(s) toujours en attente" in result.output
    lines = (tmp_path / spool.SPOOL_NAME).read_text().splitlines()
    assert [json.loads(line)["record"]["id"] for line in lines] == ids
    assert spool.status(down).dead == 0


def test_a_feedback_comment_with_a_nul_byte_never_reaches_the_spool(make_app, tmp_path):
    app = make_app(DATA_DIR=str(tmp_path))
    interaction_id = record(app, {**MAGISTRAT, "id": "dev-user"})
    response = app.test_client().post("/api/v1/feedback", json={
        "interaction_id": interaction_id, "comment": "Très\u0000 utile", "useful": True})
    assert response.status_code == 400 and response.get_json()["field"] == "comment"
    assert spool.status(app).as_dict() == {"pending": 0, "dead": 0}


def test_during_an_outage_metrics_and_readyz_still_show_the_spool(make_app, tmp_path):
    spool_during_an_outage(make_app, tmp_path, 1)
    down = make_app(DATABASE_URL=DOWN_URL, DATA_DIR=str(tmp_path)).test_client()
    metrics = down.get("/metrics")
    assert metrics.status_code == 200
    assert 'plume_audit_spool_records{state="pending"} 1' in metrics.get_data(as_text=True)
    ready = down.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["audit_spool"] == {"pending": 1, "dead": 0}
