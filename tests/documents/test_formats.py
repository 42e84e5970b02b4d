"""A dossier's other formats: OpenDocument, plain text, mail (.eml and Outlook .msg)."""
from __future__ import annotations

import datetime as dt
import email.message
import os
import subprocess
import tempfile
from pathlib import Path

from backend import documents

from .outlook import msg_bytes
from .samples import docx_bytes, odt_bytes

LIMITS = {"max_bytes": 20_000_000, "max_pages": 100}


def pages(data: bytes, name: str, **options) -> list[documents.Page]:
    return list(documents.read_pages(data, name, **LIMITS, **options))


def test_odt_keeps_headings_paragraphs_lists_and_tables_and_leaves_notes_out():
    data = odt_bytes(
        '<text:h text:outline-level="1">Exposé du litige</text:h>'
        '<text:p>La société<text:s text:c="2"/>Alpha a assigné M. Durand'
        '<text:note><text:note-body><text:p>Note de bas de page.</text:p></text:note-body>'
        '</text:note> en paiement.</text:p>'
        '<text:list><text:list-item><text:p>premier grief ;</text:p></text:list-item>'
        '<text:list-item><text:p>second grief.</text:p></text:list-item></text:list>'
        '<table:table><table:table-row><table:table-cell><text:p>Partie</text:p>'
        '</table:table-cell><table:table-cell><text:p>Avocat</text:p></table:table-cell>'
        '</table:table-row><table:table-row><table:table-cell><text:p>Alpha</text:p>'
        '</table:table-cell><table:table-cell><text:p>Me Martin</text:p></table:table-cell>'
        '</table:table-row></table:table>'
        '<text:h text:outline-level="1">Motifs</text:h>'
        '<text:p>Le tribunal retient la faute.</text:p>')
    info = documents.inspect(data, "jugement.odt", **LIMITS)
    assert (info.format, info.pages, info.ocr_pages, info.error) == ("odt", 1, 0, None)
    [page] = pages(data, "jugement.odt")
    assert page.headings == ["Exposé du litige", "Motifs"]
    assert page.text == ("Exposé du litige\nLa société Alpha a assigné M. Durand en paiement.\n"
                         "premier grief ;\nsecond grief.\nPartie | Avocat\nAlpha | Me Martin\n"
                         "Motifs\nLe tribunal retient la faute.")


def test_an_odt_saved_by_libreoffice_reads_like_the_word_file_it_came_from():
    source = docx_bytes([("heading", "Procédure"),
                         ("paragraph",
                          "Par déclaration du 3 mars 2024, M. Durand a relevé appel."),
                         ("table", [["Pièce", "Date"], ["Contrat", "12/01/2023"]])])
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "appel.docx").write_bytes(source)
        subprocess.run(["soffice", f"-env:UserInstallation=file://{folder}/profile", "--headless",
                        "--convert-to", "odt", "--outdir", folder, f"{folder}/appel.docx"],
                       check=True, capture_output=True, timeout=120,
                       env={**os.environ, "HOME": folder})
        data = Path(folder, "appel.odt").read_bytes()
    [page] = pages(data, "appel.odt")
    assert page.headings == ["Procédure"]
    assert page.text == ("Procédure\nPar déclaration du 3 mars 2024, M. Durand a relevé appel.\n"
                         "Pièce | Date\nContrat | 12/01/2023")


def test_text_files_in_utf8_or_windows_1252_keep_accents_and_find_headings():
    text = ("JUGEMENT DU 4 AVRIL 2024\n\nI. Faits\nLa société Alpha a conclu un contrat\n"
            "avec M. Durand le 12 janvier 2023.\n\n"
            "1. Par acte du 12 mars 2023, la société Alpha a assigné\nM. Durand en paiement.\n")
    expected = ("JUGEMENT DU 4 AVRIL 2024\nI. Faits\nLa société Alpha a conclu un contrat avec "
                "M. Durand le 12 janvier 2023.\n1. Par acte du 12 mars 2023, la société Alpha "
                "a assigné M. Durand en paiement.")
    for encoding in ("utf-8", "utf-8-sig", "cp1252"):
        [page] = pages(text.replace("\n", "\r\n").encode(encoding), "notes.txt")
        assert page.text == expected, encoding
        assert page.headings == ["JUGEMENT DU 4 AVRIL 2024", "I. Faits"]
    # « € » and « œ » exist in Windows-1252, not in Latin-1.
    [page] = pages("Un cœur de 100 €.".encode("cp1252"), "montant.txt")
    assert page.text == "Un cœur de 100 €."


def test_a_long_text_file_is_numbered_in_sections_without_losing_a_word():
    paragraphs = [f"Paragraphe {n} : le témoin déclare avoir vu le véhicule."
                  for n in range(400)]
    found = pages("\n\n".join(paragraphs).encode(), "audition.txt")
    assert documents.inspect("\n\n".join(paragraphs).encode(), "audition.txt",
                             **LIMITS).pages == len(found) > 5
    assert "\n".join(p.text for p in found).splitlines() == paragraphs
    assert [p.number for p in found[2:4]] == [3, 4]
    assert [p.number for p in pages("\n\n".join(paragraphs).encode(), "audition.txt",
                                    start_page=3, end_page=4)] == [3, 4]


def eml(html: bool = False) -> bytes:
    message = email.message.EmailMessage()
    message["From"] = "Maître Martin <martin@avocats.fr>"
    message["To"] = "Greffe de la chambre sociale <greffe@justice.fr>"
    message["Date"] = "Mon, 07 Dec 2026 10:00:00 +0100"
    message["Subject"] = "Conclusions récapitulatives — RG 24/01234"
    if html:
        message.set_content("<html><head><style>p {color: red}</style></head><body>"
                            "<p>Madame la Présidente,</p><p>Veuillez trouver <b>ci-joint</b> "
                            "nos conclusions d&eacute;finitives.</p>"
                            "<script>alert('x')</script></body></html>", subtype="html")
    else:
        message.set_content("Madame la Présidente,\n\nVeuillez trouver ci-joint nos "
                            "conclusions définitives.\n\nMe Martin")
    message.add_attachment(b"%PDF-1.4\n", maintype="application", subtype="pdf",
                           filename="conclusions.pdf")
    return message.as_bytes()


def test_an_eml_reads_as_its_french_headers_then_its_body_and_names_its_attachments():
    [page] = pages(eml(), "courriel.eml")
    assert page.text == (
        "De : Maître Martin <martin@avocats.fr>\n"
        "À : Greffe de la chambre sociale <greffe@justice.fr>\n"
        "Date : 07/12/2026 10:00 (UTC+01:00)\n"
        "Objet : Conclusions récapitulatives — RG 24/01234\n"
        "Madame la Présidente,\nVeuillez trouver ci-joint nos conclusions définitives.\n"
        "Me Martin\nPièces jointes : conclusions.pdf")
    assert page.headings == ["Objet : Conclusions récapitulatives — RG 24/01234"]
    assert documents.inspect(eml(), "courriel.eml", **LIMITS).pages == 1


def test_an_html_only_eml_is_stripped_to_its_text():
    [page] = pages(eml(html=True), "courriel.eml")
    body = page.text.split("\n")[4:]
    assert body == ["Madame la Présidente,",
                    "Veuillez trouver ci-joint nos conclusions définitives.",
                    "Pièces jointes : conclusions.pdf"]


def test_an_outlook_msg_reads_as_its_headers_body_and_attachment_names():
    data = msg_bytes(subject="Renvoi de l'audience du 12 janvier", sender="Maître Martin",
                     sender_email="martin@avocats.fr", to="Greffe du tribunal",
                     body="Madame la Présidente,\r\n\r\nJe sollicite le renvoi de l'affaire.",
                     sent=dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.timezone.utc),
                     attachments=("conclusions.pdf", "bordereau.docx"))
    info = documents.inspect(data, "renvoi.msg", **LIMITS)
    assert (info.format, info.pages, info.error) == ("msg", 1, None)
    [page] = pages(data, "renvoi.msg")
    assert page.text == ("De : Maître Martin <martin@avocats.fr>\nÀ : Greffe du tribunal\n"
                         "Date : 07/12/2026 09:30 (UTC)\n"
                         "Objet : Renvoi de l'audience du 12 janvier\n"
                         "Madame la Présidente,\nJe sollicite le renvoi de l'affaire.\n"
                         "Pièces jointes : conclusions.pdf, bordereau.docx")
    assert page.headings == ["Objet : Renvoi de l'audience du 12 janvier"]


def test_an_msg_without_a_text_body_is_read_from_its_html_body():
    data = msg_bytes(subject="Pièces", sender="Greffe", sender_email="greffe@justice.fr",
                     to="Me Martin", body=None,
                     html="<html><body><p>Bonjour,</p><p>Les pi&egrave;ces sont "
                          "jointes.</p></body></html>" + " " * 5000)
    [page] = pages(data, "pieces.msg")
    assert page.text.endswith("Objet : Pièces\nBonjour,\nLes pièces sont jointes.")


def test_a_text_that_quotes_a_pdf_header_is_still_text():
    data = "Le fichier joint commence par « %PDF-1.7 » : il est intact.".encode()
    [page] = pages(data, "note.txt")
    assert page.text == "Le fichier joint commence par « %PDF-1.7 » : il est intact."


def test_an_msg_of_an_older_outlook_in_windows_1252_keeps_its_accents():
    data = msg_bytes(subject="Réquisitions du parquet", sender="Procureur de la République",
                     sender_email="parquet@justice.fr", to="Greffe correctionnel",
                     body="Le parquet requiert l'application de la loi pénale.", unicode=False)
    [page] = pages(data, "requisitions.msg")
    assert page.headings == ["Objet : Réquisitions du parquet"]
    assert page.text.endswith("Le parquet requiert l'application de la loi pénale.")
    assert page.text.startswith("De : Procureur de la République <parquet@justice.fr>")
