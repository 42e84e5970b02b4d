"""The hash chain: `audit verify` catches edited and deleted records; `audit prune` keeps it whole."""
from __future__ import annotations

from backend import audit

from .helpers import GREFFIER, MAGISTRAT, as_user, execute, record, rows


def _verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def _output(result) -> str:
    """What the operator sees: stdout and stderr interleaved (Click 8.2+)."""
    return result.output


def _five_records(app) -> list[str]:
    ids = [record(app, MAGISTRAT), record(app, GREFFIER, task="mail-summary")]
    ctx = as_user(app, MAGISTRAT)
    try:
        audit.record_event(ids[0], "inserted", user_hash="u")
        audit.record_event(ids[0], "feedback", user_hash="u", useful=True, comment="Très utile")
    finally:
        ctx.pop()
    ids.append(record(app, MAGISTRAT, task="rewrite"))
    return ids


def test_an_intact_chain_verifies(app):
    _five_records(app)
    result = _verify(app)
    assert result.exit_code == 0, _output(result)
    assert "Chaîne d'audit intègre : 5 enregistrement(s) vérifié(s), n° 1 à 5" in result.output


def test_an_edited_record_is_named_and_fails_the_check(app, database_url):
    ids = _five_records(app)
    execute(database_url, "UPDATE audit_interactions SET task = 'draft' WHERE seq = 2")
    result = _verify(app)
    assert result.exit_code == 1
    assert f"Enregistrement modifié : l'enregistrement n° 2 (interaction {ids[1]}" in _output(result)
    assert "Chaîne d'audit rompue" in _output(result)


def test_an_edited_event_is_caught_too(app, database_url):
    _five_records(app)
    execute(database_url, "UPDATE audit_events SET useful = false WHERE kind = 'feedback'")
    result = _verify(app)
    assert result.exit_code == 1 and "l'enregistrement n° 4 (événement" in _output(result)


def test_a_record_rehashed_after_editing_breaks_the_next_link(app, database_url):
    from backend.audit.chain import record_hash

    _five_records(app)
    [row] = rows(database_url, "SELECT * FROM audit_interactions WHERE seq = 1")
    row["outcome"] = "error"
    execute(database_url, "UPDATE audit_interactions SET outcome = 'error', hash = %s WHERE seq = 1",
            (record_hash("audit_interactions", row),))
    result = _verify(app)
    assert result.exit_code == 1
    assert "Lien rompu : l'enregistrement n° 2" in _output(result)


def test_deleted_records_are_reported_in_the_middle_and_at_the_end(app, database_url):
    _five_records(app)
    execute(database_url, "DELETE FROM audit_interactions WHERE seq = 2")
    execute(database_url, "DELETE FROM audit_interactions WHERE seq = 5")
    output = _output(_verify(app))
    assert "Enregistrement(s) supprimé(s) : n° 2, avant l'enregistrement n° 3" in output
    assert "supprimé(s) en fin de chaîne : n° 5" in output


def test_prune_removes_old_records_and_the_rest_still_verifies(app, database_url, caplog):
    ids = _five_records(app)
    execute(database_url, "UPDATE audit_interactions SET recorded_at = recorded_at - interval '200 days' "
                          "WHERE seq <= 2")
    execute(database_url, "UPDATE audit_events SET recorded_at = recorded_at - interval '200 days' "
                          "WHERE seq = 3")
    # Dates are hashed too: this is what an edit looks like, so re-anchor it as old data would be.
    from backend.audit.chain import GENESIS_HASH, record_hash

    prev = GENESIS_HASH
    for table, seq in (("audit_interactions", 1), ("audit_interactions", 2), ("audit_events", 3),
                       ("audit_events", 4), ("audit_interactions", 5)):
        [row] = rows(database_url, f"SELECT * FROM {table} WHERE seq = %s", (seq,))
        row["prev_hash"] = prev
        prev = record_hash(table, row)
        execute(database_url, f"UPDATE {table} SET prev_hash = %s, hash = %s WHERE seq = %s",
                (row["prev_hash"], prev, seq))
    execute(database_url, "UPDATE audit_chain_head SET hash = %s", (prev,))
    assert _verify(app).exit_code == 0

    result = app.test_cli_runner().invoke(args=["audit", "prune"])
    assert result.exit_code == 0, result.output
    assert "3 enregistrement(s) antérieur(s)" in result.output and "ancre n° 3" in result.output
    [logged] = [r for r in caplog.records if r.getMessage() == "audit records pruned"]
    assert (logged.records, logged.anchor_seq, logged.content_rows) == (3, 3, 0)  # for the log pipeline
    kept = [r["seq"] for r in rows(database_url, "SELECT seq FROM audit_interactions "
                                                 "UNION ALL SELECT seq FROM audit_events ORDER BY 1")]
    assert kept == [4, 5]
    verified = _verify(app)
    assert verified.exit_code == 0, _output(verified)
    assert "n° 1 à 3 ont été purgés" in verified.output

    # New records still chain on, and a later edit is still caught after the anchor.
    record(app, MAGISTRAT)
    assert _verify(app).exit_code == 0
    execute(database_url, "UPDATE audit_interactions SET model = 'autre' WHERE seq = 5")
    assert f"interaction {ids[2]}" in _output(_verify(app))


def test_prune_refuses_to_destroy_a_broken_chain(app, database_url):
    _five_records(app)
    execute(database_url, "UPDATE audit_interactions SET task = 'draft' WHERE seq = 1")
    result = app.test_cli_runner().invoke(args=["audit", "prune", "--days", "1"])
    assert result.exit_code == 1 and "Purge refusée" in _output(result)
    assert len(rows(database_url, "SELECT seq FROM audit_interactions")) == 3


def test_prune_honours_the_content_retention(make_app, database_url):
    app = make_app(AUDIT_CONTENT_LOGGING=True, AUDIT_CONTENT_RETENTION_DAYS=7)
    ctx = as_user(app, MAGISTRAT)
    try:
        for _ in range(2):
            interaction = audit.start("assist", "summarize")
            interaction.log_content("document", "Pièce du dossier")
            interaction.finish("ok")
    finally:
        ctx.pop()
    execute(database_url, "UPDATE audit_content SET recorded_at = now() - interval '8 days' "
                          "WHERE id = (SELECT min(id) FROM audit_content)")
    result = app.test_cli_runner().invoke(args=["audit", "prune"])
    assert "1 contenu(s) journalisé(s) supprimé(s)" in result.output
    assert len(rows(database_url, "SELECT id FROM audit_content")) == 1
    assert len(rows(database_url, "SELECT seq FROM audit_interactions")) == 2  # metadata kept
