"""A whole dossier against the fake host and the real PostgreSQL: created with its
inventory and estimate, read, analysed part by part, reduced into the judicial form with
every reference checked, recorded once, exported."""
from __future__ import annotations

import json

from backend import db
from tests.dossier.conftest import finished, pages_in, upload
from tests.dossier.files import good_dossier


def test_a_dossier_is_read_summarised_with_checked_references_and_recorded_once(
        client, fake_llm, start_worker):
    response = upload(client, good_dossier(), title="Dupont c/ Immobilière du Rhône")
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["state"] == "queued" and created["held"] is False
    assert created["title"] == "Dupont c/ Immobilière du Rhône"
    names = [f["name"] for f in created["inventory"]]
    assert names == ["conclusions.pdf", "expertise.pdf", "courrier.docx", "note.txt"]
    assert all(f["error"] is None for f in created["inventory"])
    assert created["inventory"][0]["pages"] == 3
    assert created["estimate"]["pages"] >= 5 and created["estimate"]["model_calls"] >= 1

    start_worker()
    dossier = finished(client, created["id"])
    assert dossier["state"] == "done", dossier
    progress = dossier["progress"]
    assert progress["files_read"] == 4 and progress["pages_read"] == progress["pages_total"] >= 7
    assert progress["parts_done"] == progress["parts_total"] >= 1

    synthesis = client.get(f"/api/v1/dossiers/{created['id']}/synthesis").get_json()
    assert [s["id"] for s in synthesis["sections"]] == [
        "faits", "procedure", "pretentions", "points", "pieces"]
    assert synthesis["jurisdiction"] == "Tribunal judiciaire de Lyon"
    assert synthesis["rg"] == "24/01234"
    faits = synthesis["sections"][0]["items"]
    # One fact per page the model was given, dated and in order, each verified on its page.
    sent = [(f, p) for r in fake_llm.requests if r.path.endswith("/chat/completions")
            for f, p, _ in pages_in(r.json)]
    assert len(faits) == len(sent)
    assert [i["date"] for i in faits] == sorted(i["date"] for i in faits)
    for item in faits:
        [ref] = item["references"]
        assert ref["verified"] is True and item["flags"] == [], item
    assert {(i["references"][0]["file"], i["references"][0]["page"]) for i in faits} == set(sent)
    claims = synthesis["sections"][2]["items"]
    assert claims and {c["party"] for c in claims} == {"M. Jean Dupont"}
    assert {p["file"] for p in synthesis["pieces"]} == set(good_dossier())
    assert next(p for p in synthesis["pieces"] if p["file"] == "conclusions.pdf")["pages"] == 3

    # One record for the dossier, under its id, with the tokens of every call.
    with db.connection() as conn:
        rows = conn.execute("SELECT id::text, kind, task, outcome, prompt_tokens, completion_tokens "
                            "FROM audit_interactions").fetchall()
        still_open = conn.execute("SELECT count(*) FROM audit_open").fetchone()[0]
    assert len(rows) == 1 and still_open == 0
    record_id, kind, task, outcome, prompt, completion = rows[0]
    assert (record_id, kind, task, outcome) == (created["id"], "dossier", "dossier", "ok")
    assert prompt > 0 and completion > 0
    with db.connection() as conn:
        measures = conn.execute(
            "SELECT outcome, files, files_read, pages, ocr_pages, parts, model_calls, runs "
            "FROM dossier_measures WHERE interaction_id = %s", (created["id"],)).fetchone()
    assert measures == ("ok", 4, 4, progress["pages_read"], 0, progress["parts_total"],
                        len(sent and [r for r in fake_llm.requests
                                      if r.path.endswith("/chat/completions")]), 1)

    listed = client.get("/api/v1/dossiers").get_json()["dossiers"]
    assert [d["id"] for d in listed] == [created["id"]] and "inventory" not in listed[0]


def test_the_events_stream_ends_with_the_verdict(client, start_worker):
    created = upload(client, good_dossier()).get_json()
    start_worker()
    response = client.get(f"/api/v1/dossiers/{created['id']}/events")
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    events = []
    for block in response.get_data(as_text=True).strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    assert events[-1][0] == "done" and events[-1][1]["state"] == "done"
    assert all(name == "progress" for name, _ in events[:-1])
    assert events[-1][1]["id"] == created["id"]


def test_a_held_dossier_waits_for_start_then_runs(client, start_worker):
    created = upload(client, {"note.txt": good_dossier()["note.txt"]}, start="false").get_json()
    assert created["held"] is True
    start_worker()
    import time
    time.sleep(1.0)
    assert client.get(f"/api/v1/dossiers/{created['id']}").get_json()["state"] == "queued"
    started = client.post(f"/api/v1/dossiers/{created['id']}/start")
    assert started.status_code == 200 and started.get_json()["held"] is False
    again = client.post(f"/api/v1/dossiers/{created['id']}/start")
    assert again.status_code == 409 and again.get_json()["error"] == "dossier_deja_lance"
    assert finished(client, created["id"])["state"] == "done"


def test_the_original_file_is_served_inline(client):
    files = good_dossier()
    created = upload(client, files, start="false").get_json()
    response = client.get(f"/api/v1/dossiers/{created['id']}/files/conclusions.pdf")
    assert response.status_code == 200 and response.data == files["conclusions.pdf"]
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.mimetype == "application/pdf"
    # The type follows the file's name, never what the browser claimed when sending it.
    sneaky = upload(client, {"page.txt": b"<script>alert(1)</script>"}, start="false").get_json()
    served = client.get(f"/api/v1/dossiers/{sneaky['id']}/files/page.txt")
    assert served.mimetype == "text/plain"
    missing = client.get(f"/api/v1/dossiers/{created['id']}/files/autre.pdf")
    assert missing.status_code == 404 and missing.get_json()["error"] == "fichier_introuvable"
