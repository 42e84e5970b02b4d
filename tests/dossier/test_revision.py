"""« Régénérer » and « Affiner » on a dossier's synthesis: only the writing runs again (one
model call per part of the synthesis, with the previous synthesis and the request), never the
reading; references are checked again; the revision is its owner's, metered and recorded."""
from __future__ import annotations

from backend import db
from tests.dossier.conftest import finished, reply, upload
from tests.dossier.files import good_dossier
from tests.fakes.upstream import Behaviour
from tests.jobs.processes import wait_until


def chat_calls(fake_llm) -> list:
    return [r for r in fake_llm.requests if r.path.endswith("/chat/completions")]


def done_revision(client, dossier_id: str, revision_id: str) -> dict:
    return wait_until(lambda: (r := client.get(
        f"/api/v1/dossiers/{dossier_id}/revisions/{revision_id}").get_json())["state"]
        in ("done", "failed", "cancelled") and r, timeout=60)


def test_refine_and_regenerate_rewrite_only_the_synthesis_and_check_it_again(
        client, fake_llm, start_worker):
    fake_llm.reply = reply
    created = upload(client, good_dossier()).get_json()
    start_worker()
    assert finished(client, created["id"])["state"] == "done"
    first = client.get(f"/api/v1/dossiers/{created['id']}/synthesis").get_json()
    calls_before = len(chat_calls(fake_llm))
    with db.connection() as conn:
        reads_before = conn.execute("SELECT count(*) FROM job_steps WHERE key LIKE 'read:%'").fetchone()[0]

    answer = client.post(f"/api/v1/dossiers/{created['id']}/revisions",
                         json={"instruction": "plus court"})
    assert answer.status_code == 201, answer.get_json()
    revision = done_revision(client, created["id"], answer.get_json()["id"])
    assert revision["state"] == "done" and revision["instruction"] == "plus court"
    shorter = revision["synthesis"]
    # Only the writing ran: one call with the previous synthesis and the request, no reading.
    calls = chat_calls(fake_llm)[calls_before:]
    assert len(calls) == 1
    assert "selon cette demande : « plus court »" in calls[0].json["messages"][-1]["content"]
    with db.connection() as conn:
        assert conn.execute("SELECT count(*) FROM job_steps WHERE key LIKE 'read:%'"
                            ).fetchone()[0] == reads_before
    facts = next(s for s in shorter["sections"] if s["id"] == "faits")["items"]
    before = next(s for s in first["sections"] if s["id"] == "faits")["items"]
    assert len(facts) == len(before) and all(i["text"].startswith("[plus court]") for i in facts)
    assert all(i["references"][0]["verified"] for i in facts)  # the quotations checked again
    invented = next(s for s in shorter["sections"] if s["id"] == "points")["items"][-1]
    assert invented["flags"] == ["reference_introuvable"]
    assert shorter["pieces"] == first["pieces"]
    assert shorter["notices"][0].startswith("Version retravaillée (« plus court »)")
    assert shorter["revision"]["instruction"] == "plus court"

    # « Régénérer » from that version; the export of a version is that version.
    again = client.post(f"/api/v1/dossiers/{created['id']}/revisions",
                        json={"instruction": None, "base": revision["id"]}).get_json()
    regenerated = done_revision(client, created["id"], again["id"])
    assert regenerated["state"] == "done" and regenerated["base"] == revision["id"]
    assert "formulée autrement" in chat_calls(fake_llm)[-1].json["messages"][-1]["content"]
    assert "[plus court]" in chat_calls(fake_llm)[-1].json["messages"][-1]["content"]
    export = client.get(f"/api/v1/dossiers/{created['id']}/export.docx?revision={revision['id']}")
    assert export.status_code == 200 and export.data[:2] == b"PK"

    # Each revision is one record of its own, kind « dossier », finished ok.
    with db.connection() as conn:
        rows = dict(conn.execute("SELECT id::text, outcome FROM audit_interactions").fetchall())
        spent = conn.execute("SELECT prompt_tokens FROM audit_interactions WHERE id = %s",
                             (revision["id"],)).fetchone()[0]
    assert rows == {created["id"]: "ok", revision["id"]: "ok", again["id"]: "ok"}
    assert spent > 0

    # Deleting the dossier deletes its versions.
    assert client.delete(f"/api/v1/dossiers/{created['id']}").status_code == 204
    assert client.get(f"/api/v1/dossiers/{created['id']}/revisions/{revision['id']}").status_code == 404
    with db.connection() as conn:
        assert conn.execute("SELECT count(*) FROM jobs").fetchone()[0] == 0


def test_a_revision_is_refused_until_done_for_bad_input_and_for_another_user(
        client, fake_llm, make_app, dossier_app):
    held = upload(client, good_dossier(), start="false").get_json()
    answer = client.post(f"/api/v1/dossiers/{held['id']}/revisions", json={"instruction": "plus court"})
    assert answer.status_code == 409 and answer.get_json()["error"] == "synthese_non_prete"
    assert "pas encore prête" in answer.get_json()["message"]
    too_long = client.post(f"/api/v1/dossiers/{held['id']}/revisions", json={"instruction": "x" * 301})
    assert too_long.status_code == 400 and "300 caractères" in too_long.get_json()["message"]
    not_json = client.post(f"/api/v1/dossiers/{held['id']}/revisions", data="plus court")
    assert not_json.status_code == 400
    unknown = client.get(f"/api/v1/dossiers/{held['id']}/revisions/00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404
    assert chat_calls(fake_llm) == []


def test_arreter_stops_a_version_being_written_and_the_previous_one_stays(
        client, fake_llm, start_worker):

    fake_llm.reply = reply
    created = upload(client, good_dossier()).get_json()
    start_worker()
    assert finished(client, created["id"])["state"] == "done"
    fake_llm.when(lambda body: "Retravaille la partie" in body["messages"][-1]["content"],
                  Behaviour(first_token_delay=3.0))
    queued = client.post(f"/api/v1/dossiers/{created['id']}/revisions",
                         json={"instruction": "plus ferme"}).get_json()
    wait_until(lambda: any("Retravaille la partie" in r.json["messages"][-1]["content"]
                           for r in chat_calls(fake_llm)))
    stopped = client.post(f"/api/v1/dossiers/{created['id']}/revisions/{queued['id']}/cancel")
    assert stopped.status_code == 200 and stopped.get_json()["state"] == "running"
    revision = done_revision(client, created["id"], queued["id"])
    assert revision["state"] == "cancelled" and revision["synthesis"] is None
    assert client.get(f"/api/v1/dossiers/{created['id']}/synthesis").status_code == 200
    with db.connection() as conn:
        assert conn.execute("SELECT outcome FROM audit_interactions WHERE id = %s",
                            (queued["id"],)).fetchone() == ("stopped",)
    export = client.get(f"/api/v1/dossiers/{created['id']}/export.docx?revision={queued['id']}")
    assert export.status_code == 409 and export.get_json()["error"] == "synthese_non_prete"
