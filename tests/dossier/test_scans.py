"""Scanned files: pages without text are recognised (Tesseract, French), counted as OCR
pages from the inventory on, and a badly recognised page is flagged in the synthesis and in
the inventory, never dropped."""
from __future__ import annotations

from tests.documents.samples import scanned_pdf_bytes
from tests.dossier.conftest import finished, upload

SCAN = ["Procès-verbal de constat", "Le 12 mars 2024, l'huissier constate des fissures",
        "sur le mur nord de la maison."]


def test_a_scan_is_recognised_and_a_bad_page_is_flagged_not_dropped(client, fake_llm, start_worker):
    created = upload(client, {"constat.pdf": scanned_pdf_bytes([SCAN, None])}).get_json()
    [entry] = created["inventory"]
    assert entry["error"] is None and entry["pages"] == 2 and entry["ocr_pages"] == 2
    assert created["estimate"]["ocr_pages"] == 2

    start_worker()
    dossier = finished(client, created["id"], timeout=120)
    assert dossier["state"] == "done", dossier
    assert dossier["progress"]["ocr_pages_done"] == 2
    [entry] = dossier["inventory"]
    assert entry["low_confidence_pages"] == [2]

    synthesis = client.get(f"/api/v1/dossiers/{created['id']}/synthesis").get_json()
    assert [(p["file"], p["page"]) for p in synthesis["low_confidence_pages"]] == [("constat.pdf", 2)]
    assert any("mal reconnue" in notice for notice in synthesis["notices"])
    facts = {i["references"][0]["page"]: i for i in synthesis["sections"][0]["items"]}
    # The recognised page reached the model and its quotation is found on the page.
    assert facts[1]["flags"] == [] and facts[1]["references"][0]["verified"]
    prompt = "".join(r.json["messages"][-1]["content"] for r in fake_llm.requests
                     if r.path.endswith("/chat/completions"))
    assert "huissier constate des fissures" in prompt
    if 2 in facts:  # the noise page gave text: it went to the model, and is flagged
        assert "page_mal_reconnue" in facts[2]["flags"]
