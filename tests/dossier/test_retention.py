"""A dossier's retention: declared with the jobs room (PLUME_DOSSIER_RETENTION_DAYS, for the
dossier and its versions), purged by the job workers on their schedule and by ``python -m
backend dossiers purge``; a dossier sent but never started goes too, its record closed
« interrompu »; its measures go with the records (PLUME_AUDIT_RETENTION_DAYS)."""
from __future__ import annotations

from backend import db
from tests.dossier.conftest import finished, reply, upload
from tests.dossier.files import note_txt
from tests.jobs.processes import wait_until

API = "/api/v1/dossiers"


def rows(sql: str, *args) -> list:
    with db.connection() as conn:
        return conn.execute(sql, args).fetchall()


def age(job_id: str, days: float, *columns: str) -> None:
    sets = ", ".join(f"{column} = now() - make_interval(days => %(days)s)" for column in columns)
    with db.connection() as conn:
        conn.execute(f"UPDATE jobs SET {sets} WHERE id = %(id)s", {"days": days, "id": job_id})


def test_old_dossiers_go_with_their_files_and_versions_and_the_others_stay(
        dossier_app, client, fake_llm, start_worker):
    fake_llm.reply = reply
    old = upload(client, {"note.txt": note_txt()}).get_json()
    recent = upload(client, {"note.txt": note_txt()}).get_json()
    start_worker()
    finished(client, old["id"]), finished(client, recent["id"])
    version = client.post(f"{API}/{old['id']}/revisions", json={"instruction": "plus court"})
    wait_until(lambda: client.get(f"{API}/{old['id']}/revisions/{version.get_json()['id']}")
               .get_json()["state"] == "done", timeout=60)
    age(old["id"], 31, "finished_at")
    age(version.get_json()["id"], 31, "finished_at")
    age(recent["id"], 29, "finished_at")
    result = dossier_app.test_cli_runner().invoke(args=["dossiers", "purge"])
    assert result.exit_code == 0 and "Dossiers supprimés : 2." in result.output
    assert client.get(f"{API}/{old['id']}").status_code == 404
    assert rows("SELECT count(*) FROM job_blobs WHERE job_id = %s", old["id"]) == [(0,)]
    assert rows("SELECT count(*) FROM job_steps WHERE job_id = %s", old["id"]) == [(0,)]
    assert client.get(f"{API}/{recent['id']}").status_code == 200
    # Their records stay (they hold no text), and so do their measures, until the records go.
    assert rows("SELECT count(*) FROM audit_interactions WHERE id = %s", old["id"]) == [(1,)]
    with db.connection() as conn:
        conn.execute("UPDATE dossier_measures SET recorded_at = now() - interval '184 days' "
                     "WHERE interaction_id = %s", (old["id"],))
    assert dossier_app.test_cli_runner().invoke(args=["dossiers", "purge"]).exit_code == 0
    assert sorted(rows("SELECT interaction_id::text FROM dossier_measures")) == sorted(
        [(version.get_json()["id"],), (recent["id"],)])

def test_versions_go_with_their_expired_dossier_whenever_they_ended(
        dossier_app, client, fake_llm, start_worker):
    fake_llm.reply = reply
    old = upload(client, {"note.txt": note_txt()}).get_json()
    worker = start_worker()
    finished(client, old["id"])
    written = client.post(f"{API}/{old['id']}/revisions", json={"instruction": "plus court"}).get_json()
    wait_until(lambda: client.get(f"{API}/{old['id']}/revisions/{written['id']}")
               .get_json()["state"] == "done", timeout=60)
    worker.stop(grace=0)
    waiting = client.post(f"{API}/{old['id']}/revisions", json={"instruction": "plus ferme"}).get_json()
    # The dossier ended 31 days ago, a version yesterday and another waits for a worker: a
    # version holds what the dossier's files said, so none outlives them.
    age(old["id"], 31, "finished_at")
    age(written["id"], 1, "finished_at")
    result = dossier_app.test_cli_runner().invoke(args=["dossiers", "purge"])
    assert result.exit_code == 0 and "Dossiers supprimés : 3." in result.output, result.output
    assert rows("SELECT count(*) FROM jobs") == [(0,)]
    assert sorted(rows("SELECT id::text, outcome FROM audit_interactions")) == sorted(
        [(old["id"], "ok"), (written["id"], "ok"), (waiting["id"], "stopped")])
    assert rows("SELECT count(*) FROM audit_open") == [(0,)]


def test_a_dossier_never_started_is_purged_and_its_record_closed_interrupted(dossier_app, client):
    sent = upload(client, {"note.txt": note_txt()}, start="false").get_json()
    waiting = upload(client, {"note.txt": note_txt()}, start="false").get_json()
    age(sent["id"], 31, "created_at", "updated_at")
    age(waiting["id"], 29, "created_at", "updated_at")
    result = dossier_app.test_cli_runner().invoke(args=["jobs", "purge", "--kind", "dossier"])
    assert result.exit_code == 0, result.output
    assert "dossier : 1 supprimé(s), conservés 30 jours (PLUME_DOSSIER_RETENTION_DAYS)." \
        in result.output
    assert client.get(f"{API}/{sent['id']}").status_code == 404
    assert client.post(f"{API}/{sent['id']}/start").status_code == 404
    assert rows("SELECT id::text, outcome, error_code FROM audit_interactions") == [
        (sent["id"], "error", "interrompu")]
    assert rows("SELECT outcome, files, runs FROM dossier_measures") == [("interrompu", 1, 0)]
    # The other one still waits for its « Lancer », its record open.
    assert client.get(f"{API}/{waiting['id']}").get_json()["state"] == "queued"
    assert rows("SELECT id::text FROM audit_open") == [(waiting["id"],)]
