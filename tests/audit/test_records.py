"""Interaction records: what is kept, under which pseudonym, and that none goes missing."""
from __future__ import annotations

import gc
import threading

from backend import audit
from backend.auth import user_hash

from .helpers import GREFFIER, MAGISTRAT, as_user, record, rows


def test_a_finished_interaction_is_recorded_with_its_metadata(app, database_url):
    ctx = as_user(app, MAGISTRAT)
    try:
        interaction = audit.start("assist", "draft")
        interaction.update(model="albert-large", host="https://key:secret@albert.example:8443/v1/x",
                           prompt_version="draft@3", source_ids=[101, "p-202"])
        interaction.first_token()
        interaction.finish("ok", usage={"prompt_tokens": 812, "completion_tokens": 95})
        expected_hash = user_hash(MAGISTRAT["id"])
    finally:
        ctx.pop()

    [row] = rows(database_url, "SELECT * FROM audit_interactions")
    assert str(row["id"]) == interaction.id
    assert (row["kind"], row["task"], row["outcome"], row["error_code"]) == ("assist", "draft", "ok", None)
    assert row["user_hash"] == expected_hash and MAGISTRAT["id"] not in row["user_hash"]
    assert row["roles"] == ["Plume.Magistrat"]
    assert row["jurisdictions"] == ["Cour d'appel de Paris"]
    assert (row["model"], row["prompt_version"]) == ("albert-large", "draft@3")
    assert row["host"] == "albert.example:8443"  # never the credentials or the path
    assert row["source_ids"] == ["101", "p-202"]
    assert (row["prompt_tokens"], row["completion_tokens"]) == (812, 95)
    assert 0 <= row["ttft_ms"] <= row["duration_ms"]
    assert row["seq"] == 1 and len(row["hash"]) == 64


def test_pseudonyms_depend_on_the_secret_key(make_app, database_url):
    record(make_app(AUDIT_HASH_KEY="first-secret-key-0001"), MAGISTRAT)
    record(make_app(AUDIT_HASH_KEY="other-secret-key-0002"), MAGISTRAT)
    first, second = [r["user_hash"] for r in rows(
        database_url, "SELECT user_hash FROM audit_interactions ORDER BY seq")]
    assert first != second


def test_every_outcome_is_recorded(app, database_url):
    record(app, MAGISTRAT, outcome="ok")
    record(app, MAGISTRAT, outcome="error", error_code="amont_indisponible", ttft=False)
    record(app, MAGISTRAT, outcome="stopped")
    record(app, GREFFIER, outcome="error", ttft=False)  # no code given
    outcomes = [(r["outcome"], r["error_code"]) for r in rows(
        database_url, "SELECT outcome, error_code FROM audit_interactions ORDER BY seq")]
    assert outcomes == [("ok", None), ("error", "amont_indisponible"), ("stopped", None),
                        ("error", "erreur_inconnue")]


def test_finish_is_idempotent_and_unknown_fields_are_not_stored(app, database_url):
    ctx = as_user(app, MAGISTRAT)
    try:
        interaction = audit.start("assist", "rewrite", prompt="ne doit pas être stocké")
        interaction.finish("stopped")
        interaction.finish("ok")
    finally:
        ctx.pop()
    [row] = rows(database_url, "SELECT outcome, prompt_version FROM audit_interactions")
    assert row == {"outcome": "stopped", "prompt_version": None}


def test_an_interaction_dropped_without_finish_is_still_recorded(app, database_url):
    ctx = as_user(app, GREFFIER)
    try:
        audit.start("assist", "mail-summary")  # a caller losing track of it
        gc.collect()
    finally:
        ctx.pop()
    [row] = rows(database_url, "SELECT outcome, error_code, task FROM audit_interactions")
    assert row == {"outcome": "error", "error_code": "non_cloture", "task": "mail-summary"}


def test_concurrent_finishes_lose_no_record_and_keep_one_chain(app, database_url):
    """Threads of one worker and several apps (as gunicorn workers) writing at once."""
    from backend import create_app
    from tests.conftest import BASE_CONFIG

    other = create_app({**BASE_CONFIG, "DATABASE_URL": database_url})
    try:
        workers = [app, other]  # two pools, as two gunicorn workers
        errors: list[BaseException] = []

        def run(index: int) -> None:
            try:
                for _ in range(10):
                    record(workers[index % len(workers)], MAGISTRAT if index % 2 else GREFFIER)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
    finally:
        from backend import db

        db.close(other)
    seqs = [r["seq"] for r in rows(database_url, "SELECT seq FROM audit_interactions ORDER BY seq")]
    assert seqs == list(range(1, 121))
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_one_bad_record_in_a_batch_does_not_take_the_others_with_it(app, database_url, tmp_path):
    # The writer commits the records waiting together; a record the database refuses is
    # retried alone and spooled, and the others of its batch are stored in order.
    import uuid
    from datetime import datetime, timezone

    import backend.audit.records as records

    app.config["DATA_DIR"] = str(tmp_path)

    def pending(task: str | None) -> records._Pending:
        return records._Pending("audit_interactions", {
            "id": str(uuid.uuid4()), "started_at": datetime.now(timezone.utc), "user_hash": "u",
            "roles": [], "jurisdictions": [], "kind": "assist", "task": task, "model": None,
            "host": None, "prompt_version": None, "source_ids": [], "prompt_tokens": None,
            "completion_tokens": None, "ttft_ms": None, "duration_ms": 1.0, "outcome": "ok",
            "error_code": None})

    batch = [pending("summarize"), pending(None), pending("rewrite")]  # task is NOT NULL
    records._store(app, batch)

    assert [p.stored for p in batch] == [True, False, True]
    assert [r["task"] for r in rows(database_url, "SELECT task FROM audit_interactions ORDER BY seq")] \
        == ["summarize", "rewrite"]
    # The database refuses it for good: set aside as a dead letter, which verify reports.
    assert batch[1].record["id"] in (tmp_path / "audit-dead.jsonl").read_text()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "1 enregistrement(s) refusé(s)" in result.output


def test_records_survive_a_database_outage_through_the_spool(make_app, database_url, tmp_path):
    down = make_app(DATABASE_URL="postgresql://plume@127.0.0.1:9/plume?connect_timeout=1",
                    DATA_DIR=str(tmp_path))
    import backend.audit.records as records

    records.POOL_TIMEOUT_SECONDS, saved = 0.5, records.POOL_TIMEOUT_SECONDS
    try:
        interaction_id = record(down, MAGISTRAT, outcome="error", error_code="amont_indisponible")
    finally:
        records.POOL_TIMEOUT_SECONDS = saved
    assert rows(database_url, "SELECT id FROM audit_interactions") == []
    spool = tmp_path / records.SPOOL_NAME
    assert interaction_id in spool.read_text()

    up = make_app(DATA_DIR=str(tmp_path))
    result = up.test_cli_runner().invoke(args=["audit", "flush"])
    assert result.exit_code == 0 and "1 enregistrement" in result.output
    assert [str(r["id"]) for r in rows(database_url, "SELECT id FROM audit_interactions")] == [interaction_id]
    assert spool.stat().st_size == 0
    assert up.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


def test_content_is_kept_only_when_an_administrator_turns_it_on(make_app, database_url):
    for enabled in (False, True):
        app = make_app(AUDIT_CONTENT_LOGGING=enabled)
        ctx = as_user(app, MAGISTRAT)
        try:
            interaction = audit.start("assist", "summarize")
            interaction.log_content("question", f"Texte confidentiel {enabled}")
            interaction.finish("ok")
        finally:
            ctx.pop()
    stored = rows(database_url, "SELECT part, content FROM audit_content")
    assert stored == [{"part": "question", "content": "Texte confidentiel True"}]
