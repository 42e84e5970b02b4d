"""What a dossier does with bad files and bad requests: each bad file stays in the
inventory with its French error and the job goes on with the others; limits are 413s; a
dossier is its owner's alone (403), an unknown one a 404."""
from __future__ import annotations

import pytest

from backend import db
from tests.dossier.conftest import FAST, finished, upload
from tests.dossier.files import BAD_FILES, good_dossier, note_txt, zip_bomb_docx

CODES = {"protege.pdf": "document_chiffre", "abime.docx": "document_illisible",
         "vide.pdf": "document_vide", "image.png": "document_illisible",
         "animation.gif": "format_non_pris_en_charge",
         "bombe.docx": None}


def test_each_bad_file_is_in_the_inventory_with_its_french_error_and_the_job_goes_on(
        client, start_worker):
    files = {**BAD_FILES, "bombe.docx": zip_bomb_docx(), "note.txt": note_txt()}
    response = upload(client, files)
    assert response.status_code == 201, response.get_json()
    inventory = {f["name"]: f for f in response.get_json()["inventory"]}
    for name in files:
        if name == "note.txt":
            assert inventory[name]["error"] is None
            continue
        error = inventory[name]["error"]
        assert error is not None, name
        assert error["message"] and error["message"][0].isupper(), error
        if CODES[name]:
            assert error["error"] == CODES[name], (name, error)
    assert "mot de passe" in inventory["protege.pdf"]["error"]["message"]

    start_worker()
    dossier = finished(client, response.get_json()["id"])
    assert dossier["state"] == "done"
    assert dossier["progress"]["files_read"] == 1
    synthesis = client.get(f"/api/v1/dossiers/{dossier['id']}/synthesis").get_json()
    assert {p["file"] for p in synthesis["pieces"]} == set(files)  # bad ones listed too
    facts = synthesis["sections"][0]["items"]
    assert facts and {i["references"][0]["file"] for i in facts} == {"note.txt"}


def test_a_dossier_with_no_readable_file_is_refused_and_recorded(client):
    response = upload(client, dict(BAD_FILES))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "dossier_illisible" and "protege.pdf" in body["message"]
    with db.connection() as conn:
        assert conn.execute("SELECT count(*) FROM jobs").fetchone()[0] == 0
        assert conn.execute("SELECT outcome, error_code FROM audit_interactions").fetchall() == [
            ("error", "dossier_illisible")]


def test_no_file_is_a_400(client):
    response = client.post("/api/v1/dossiers", data={"title": "x"},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and response.get_json()["field"] == "files"


@pytest.mark.parametrize("setting, value, files", [
    ("DOSSIER_MAX_FILES", 2, 3), ("DOSSIER_MAX_BYTES", 1000, 1), ("DOSSIER_MAX_PAGES", 4, 1)])
def test_a_dossier_over_a_limit_is_a_413(make_app, fake_llm, setting, value, files):
    app = make_app(LLM_BASE_URL=fake_llm.url, **FAST, **{setting: value})
    dossier = {"conclusions.pdf": good_dossier()["conclusions.pdf"] * 1,
               "expertise.pdf": good_dossier()["expertise.pdf"], "note.txt": note_txt()}
    if setting == "DOSSIER_MAX_PAGES":
        dossier = {"big.pdf": _pdf_of(6)}
    chosen = dict(list(dossier.items())[:files])
    response = upload(app.test_client(), chosen)
    assert response.status_code == 413, response.get_json()
    assert response.get_json()["error"] == "dossier_trop_volumineux"
    with app.app_context(), db.connection() as conn:
        assert conn.execute("SELECT count(*) FROM jobs").fetchone()[0] == 0


def test_a_file_over_the_per_file_limit_stays_in_the_inventory(make_app, fake_llm):
    app = make_app(LLM_BASE_URL=fake_llm.url, **FAST, DOSSIER_MAX_FILE_BYTES=2000)
    files = {"big.pdf": _pdf_of(6, padding=4000), "note.txt": note_txt()}
    response = upload(app.test_client(), files)
    assert response.status_code == 201
    big = response.get_json()["inventory"][0]
    assert big["error"]["error"] == "fichier_trop_volumineux" and "Mo" in big["error"]["message"]


def _pdf_of(pages: int, padding: int = 0) -> bytes:
    from tests.api.attachment_files import make_pdf
    return make_pdf([[f"Page {n} du dossier."] for n in range(1, pages + 1)], padding=padding)


def test_another_users_dossier_is_a_403_and_an_unknown_one_a_404(client, make_app, fake_llm):
    created = upload(client, {"note.txt": note_txt()}, start="false").get_json()
    other = make_app(LLM_BASE_URL=fake_llm.url, **FAST, DEV_USER={
        "id": "autre", "name": "Autre", "roles": ["Plume.Magistrat"], "jurisdictions": []}
    ).test_client()
    base = f"/api/v1/dossiers/{created['id']}"
    for method, path in [("get", ""), ("get", "/events"), ("get", "/synthesis"),
                         ("get", "/export.docx"), ("get", "/files/note.txt"), ("post", "/start"),
                         ("post", "/cancel"), ("delete", "")]:
        response = getattr(other, method)(base + path)
        assert response.status_code == 403, (method, path, response.get_json())
        assert response.get_json()["error"] == "acces_refuse"
        unknown = getattr(client, method)(
            "/api/v1/dossiers/00000000-0000-4000-8000-000000000000" + path)
        assert unknown.status_code == 404, (method, path)
    assert other.get("/api/v1/dossiers").get_json() == {"dossiers": []}
    assert client.get(base).status_code == 200  # untouched by the other user's attempts
    assert client.get("/api/v1/dossiers/pas-un-uuid").status_code == 404


def test_a_role_without_the_dossier_task_is_refused(make_app, fake_llm):
    app = make_app(LLM_BASE_URL=fake_llm.url, **FAST, DEV_USER={
        "id": "admin", "name": "Admin", "roles": ["Plume.Admin"], "jurisdictions": []})
    response = upload(app.test_client(), {"note.txt": note_txt()})
    assert response.status_code == 403
