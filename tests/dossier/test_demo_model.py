"""The dossier with the demonstration model of ``make run`` (llama.cpp, SmolLM2-135M): a
model this small rarely writes the JSON asked for, and the synthesis must still come out,
with the pièces, the court and the n° RG found on the pages, and a note for each part the
model could not analyse."""
from __future__ import annotations

from backend import jobs
from backend.llm import demo
from tests.dossier.conftest import FAST, finished, upload
from tests.dossier.files import conclusions_pdf, note_txt
from tests.llm_real.conftest import llama  # noqa: F401 - the session's llama.cpp server


def test_a_dossier_comes_out_with_the_demonstration_model(make_app, llama):  # noqa: F811
    settings = {**FAST, "LLM_MAX_OUTPUT_TOKENS": 300}
    settings.pop("LLM_MODEL")
    app = make_app(**{**settings, **demo.settings_for(llama.server, make_app(**settings).config)})
    client = app.test_client()
    with app.app_context():
        created = upload(client, {"conclusions.pdf": conclusions_pdf(), "note.txt": note_txt()})
        assert created.status_code == 201, created.get_json()
        worker = jobs.Worker(app, 1).start()
        try:
            dossier = finished(client, created.get_json()["id"], timeout=600)
        finally:
            worker.stop(grace=0)
    assert dossier["state"] == "done", dossier
    synthesis = client.get(f"/api/v1/dossiers/{dossier['id']}/synthesis").get_json()
    assert synthesis["model"] == {"name": demo.MODEL_NAME, "demonstration": True}
    assert synthesis["jurisdiction"] == "Tribunal judiciaire de Lyon" and synthesis["rg"] == "24/01234"
    assert {p["file"] for p in synthesis["pieces"]} == {"conclusions.pdf", "note.txt"}
    for section in synthesis["sections"]:
        for item in section["items"]:  # whatever the model wrote, each reference was checked
            for ref in item["references"]:
                assert ref["verified"] in (True, False)
            assert set(item["flags"]) <= {"reference_introuvable", "citation_non_trouvee",
                                          "page_mal_reconnue"}
    export = client.get(f"/api/v1/dossiers/{dossier['id']}/export.docx")
    assert export.status_code == 200
