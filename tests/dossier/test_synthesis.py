"""What the synthesis says about the model's work: references to pages that do not exist and
quotations not on their page are flagged, a malformed answer is asked again once and then
salvaged and noted, and the export is a Word document LibreOffice reads back."""
from __future__ import annotations

import io
import json
import shutil
import subprocess

import pytest
from docx import Document

from backend.usecases.dossier import parse_answer
from backend.usecases.dossier_export import HEADER
from tests.dossier.conftest import finished, pages_in, upload
from tests.dossier.files import good_dossier, note_txt


def chat_calls(fake_llm) -> list:
    return [r for r in fake_llm.requests if r.path.endswith("/chat/completions")]


def test_references_and_quotations_are_checked_against_the_pages(client, fake_llm, start_worker):
    def reply(body):
        [(file, page, text)] = [p for p in pages_in(body) if p[0] == "note.txt"]
        return json.dumps({"faits": [
            {"date": "2024-06-03", "texte": "Renvoi de l'affaire", "ref": f"[{file}, p. {page}]",
             "citation": "l'affaire est renvoyée au 3 juin 2024"},
            {"date": None, "texte": "Une page qui n'existe pas", "ref": f"{file}, p. 9",
             "citation": None},
            {"date": None, "texte": "Une citation inventée", "ref": f"note, p. {page}",
             "citation": "le tribunal a condamné le bailleur"},
            {"date": None, "texte": "Sans référence", "ref": None, "citation": None}],
            "procedure": [], "pretentions": [], "points": [], "pieces": []})

    fake_llm.reply = reply
    created = upload(client, {"note.txt": note_txt()}).get_json()
    start_worker()
    assert finished(client, created["id"])["state"] == "done"
    items = client.get(f"/api/v1/dossiers/{created['id']}/synthesis").get_json()["sections"][0]["items"]
    by_text = {i["text"]: i for i in items}
    good = by_text["Renvoi de l'affaire"]
    assert good["flags"] == [] and good["references"] == [
        {"file": "note.txt", "page": 1, "quote": "l'affaire est renvoyée au 3 juin 2024",
         "verified": True}]
    assert by_text["Une page qui n'existe pas"]["flags"] == ["reference_introuvable"]
    invented = by_text["Une citation inventée"]
    # « note » names note.txt (the model dropped the extension), but the quotation is not there.
    assert invented["references"][0]["file"] == "note.txt"
    assert invented["flags"] == ["citation_non_trouvee"]
    assert invented["references"][0]["verified"] is False
    assert by_text["Sans référence"]["flags"] == ["reference_introuvable"]


def test_a_malformed_answer_is_asked_again_once_then_salvaged_and_noted(
        client, fake_llm, start_worker):
    fake_llm.reply = ("Voici mon analyse :\n- Le bail est signé [note.txt, p. 1] entre les parties\n"
                      "- du texte sans repère")
    created = upload(client, {"note.txt": note_txt()}).get_json()
    start_worker()
    dossier = finished(client, created["id"])
    assert dossier["state"] == "done"
    assert len(chat_calls(fake_llm)) == 2  # once more, then no further
    synthesis = client.get(f"/api/v1/dossiers/{created['id']}/synthesis").get_json()
    assert any("n'a pas pu être analysée" in n for n in synthesis["notices"])
    [item] = synthesis["sections"][0]["items"]
    assert item["text"] == "Le bail est signé entre les parties"
    assert item["references"][0]["file"] == "note.txt" and item["references"][0]["page"] == 1


@pytest.mark.parametrize("text, expected", [
    ('```json\n{"faits": [], "points": [],}\n```', {"faits": [], "points": []}),
    ('Réponse : {"faits": [{"texte": "a"}]} fin', {"faits": [{"texte": "a"}]}),
    ("pas du JSON", None), ('{"autre": 1}', None), ('{"faits": [', None)])
def test_the_answer_is_read_leniently(text, expected):
    assert parse_answer(text) == expected


def test_the_export_is_a_word_document_that_libreoffice_reads_back(client, start_worker, tmp_path):
    created = upload(client, good_dossier(), title="Dupont c/ Immobilière du Rhône").get_json()
    early = client.get(f"/api/v1/dossiers/{created['id']}/export.docx")
    assert early.status_code == 409
    start_worker()
    finished(client, created["id"])
    response = client.get(f"/api/v1/dossiers/{created['id']}/export.docx")
    assert response.status_code == 200
    assert response.mimetype.endswith("wordprocessingml.document")

    document = Document(io.BytesIO(response.data))
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert [t for s, t in headings if s == "Heading 1"][:4] == [
        "Faits", "Procédure", "Prétentions et moyens", "Points à trancher"]
    assert ("Heading 2", "M. Jean Dupont") in headings
    assert all(section.header.paragraphs[0].text == HEADER for section in document.sections)
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Tribunal judiciaire de Lyon" in text and "24/01234" in text
    assert "Dupont c/ Immobilière du Rhône" in text
    [table] = document.tables
    assert [c.text for c in table.rows[0].cells] == ["Pièce", "Type", "Date", "Auteur", "Pages"]
    assert {row.cells[0].text for row in table.rows[1:]} == set(good_dossier())
    assert "[1] conclusions.pdf, p. 1" in text

    path = tmp_path / "synthese.docx"
    path.write_bytes(response.data)
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice (libreoffice-writer-nogui) is needed to read the export back"
    for target in ("txt:Text", "pdf"):
        subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                        "--convert-to", target, "--outdir", str(tmp_path), str(path)],
                       check=True, capture_output=True, timeout=180)
    read_back = (tmp_path / "synthese.txt").read_text(encoding="utf-8-sig")
    for needle in ("Synthèse du dossier", "Faits", "Points à trancher", "Inventaire des pièces",
                   "conclusions.pdf", "24/01234"):
        assert needle in read_back, needle
    pdf = (tmp_path / "synthese.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    from pypdf import PdfReader
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) >= 2 and all(HEADER in page.extract_text() for page in pages)
