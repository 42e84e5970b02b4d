"""Reading Word and PDF files: what a clerk's attachment or a decision file becomes."""
from __future__ import annotations

import io
import zipfile

import pytest

from backend import documents
from backend.documents import DocumentError, read_document

from .samples import docx_bytes, encrypted_pdf_bytes, pdf_bytes

LIMITS = {"max_bytes": 5_000_000, "max_pages": 50}


def test_docx_keeps_headings_paragraphs_and_tables_in_order():
    data = docx_bytes([
        ("heading", "Exposé du litige"),
        ("paragraph", "La société Alpha a assigné M. Durand en paiement."),
        ("table", [["Partie", "Avocat"], ["Société Alpha", "Me Martin"]]),
        ("paragraph", "Le tribunal a fait droit à la demande."),
    ])
    doc = read_document(data, "jugement.docx", **LIMITS)
    assert [(p.kind, p.text) for p in doc.paragraphs] == [
        ("heading", "Exposé du litige"),
        ("paragraph", "La société Alpha a assigné M. Durand en paiement."),
        ("table", "Partie | Avocat"),
        ("table", "Société Alpha | Me Martin"),
        ("paragraph", "Le tribunal a fait droit à la demande."),
    ]
    assert doc.pages is None
    assert doc.as_marked_text().splitlines()[:2] == [
        "[§ 1] Exposé du litige", "[§ 2] La société Alpha a assigné M. Durand en paiement."]


def test_pdf_paragraphs_carry_their_page_and_marked_text_names_pages():
    data = pdf_bytes([
        ["Audience publique du 18 novembre 2020.",
         "La cour statue sur l'appel formé contre le jugement du tribunal judiciaire."],
        ["Par ces motifs, rejette le pourvoi."],
    ])
    doc = read_document(data, "arret.pdf", **LIMITS)
    assert doc.pages == 2
    assert [(p.page, p.text) for p in doc.paragraphs] == [
        (1, "Audience publique du 18 novembre 2020."),
        (1, "La cour statue sur l'appel formé contre le jugement du tribunal judiciaire."),
        (2, "Par ces motifs, rejette le pourvoi."),
    ]
    marked = doc.as_marked_text()
    assert marked.startswith("[p. 1]\nAudience publique")
    assert "\n[p. 2]\nPar ces motifs" in marked


def test_pdf_lines_of_one_paragraph_are_joined_and_hyphenation_undone():
    data = pdf_bytes([["Le salarié soutient que son licenciement est dépourvu de cause réelle et",
                       "sérieuse et que la procédure n'a pas été régu-",
                       "lièrement suivie."]])
    doc = read_document(data, "conclusions.pdf", **LIMITS)
    assert [p.text for p in doc.paragraphs] == [
        "Le salarié soutient que son licenciement est dépourvu de cause réelle et sérieuse "
        "et que la procédure n'a pas été régulièrement suivie."]


def test_oversized_file_is_413_in_french():
    with pytest.raises(DocumentError) as info:
        read_document(pdf_bytes([["x"]]), "gros.pdf", max_bytes=100, max_pages=50)
    assert info.value.status == 413
    assert "trop volumineux" in info.value.message


def test_too_many_pages_is_413_naming_the_limit():
    with pytest.raises(DocumentError) as info:
        read_document(pdf_bytes([["un."], ["deux."], ["trois."]]), "long.pdf",
                      max_bytes=1_000_000, max_pages=2)
    assert info.value.status == 413
    assert "3 pages" in info.value.message and "2" in info.value.message


def test_password_protected_pdf_is_422_encrypted():
    with pytest.raises(DocumentError) as info:
        read_document(encrypted_pdf_bytes([["Confidentiel."]]), "secret.pdf", **LIMITS)
    assert (info.value.status, info.value.code) == (422, "document_chiffre")
    assert "mot de passe" in info.value.message


def test_pdf_encrypted_with_an_empty_password_is_read():
    data = encrypted_pdf_bytes([["Lecture seule."]], password="")
    assert read_document(data, "restreint.pdf", **LIMITS).text == "Lecture seule."


def test_encrypted_word_file_is_422_encrypted():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    with pytest.raises(DocumentError) as info:
        read_document(ole, "protege.docx", **LIMITS)
    assert (info.value.status, info.value.code) == (422, "document_chiffre")


def test_pdf_without_text_is_422_empty_and_says_scanned():
    with pytest.raises(DocumentError) as info:
        read_document(pdf_bytes([[]]), "scan.pdf", **LIMITS)
    assert (info.value.status, info.value.code) == (422, "document_vide")
    assert "numérisé" in info.value.message


def test_empty_word_document_is_422_empty():
    with pytest.raises(DocumentError) as info:
        read_document(docx_bytes([]), "vide.docx", **LIMITS)
    assert (info.value.status, info.value.code) == (422, "document_vide")


def test_damaged_files_are_422_unreadable():
    with pytest.raises(DocumentError) as info:
        read_document(b"%PDF-1.4\ngarbage", "casse.pdf", **LIMITS)
    assert (info.value.status, info.value.code) == (422, "document_illisible")
    with pytest.raises(DocumentError) as info:
        read_document(docx_bytes([("paragraph", "x")])[:200], "tronque.docx", **LIMITS)
    assert (info.value.status, info.value.code) == (422, "document_illisible")


def test_zip_that_is_not_a_word_document_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "bonjour")
    with pytest.raises(DocumentError) as info:
        read_document(out.getvalue(), "archive.docx", **LIMITS)
    assert info.value.status == 422
    assert "document Word" in info.value.message


def test_zip_bomb_is_refused_as_too_large():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", "<a/>" + " " * 50_000_000)
    data = out.getvalue()
    with pytest.raises(DocumentError) as info:
        read_document(data, "bombe.docx", max_bytes=len(data) + 10, max_pages=50)
    assert info.value.status == 413


@pytest.mark.parametrize("data,name,message", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "ancien.doc", ".docx"),
    (b"{\\rtf1 bonjour}", "lettre.rtf", "Word (.docx) et PDF"),
    (b"GIF89a....", "image.gif", "Word (.docx) et PDF"),
])
def test_other_formats_are_415_in_french(data, name, message):
    with pytest.raises(DocumentError) as info:
        read_document(data, name, **LIMITS)
    assert info.value.status == 415
    assert message in info.value.message


def test_document_error_is_an_app_error_with_the_json_shape():
    error = documents.DocumentError("Message.", status=415, code="format_non_pris_en_charge")
    assert error.to_dict() == {"error": "format_non_pris_en_charge", "message": "Message."}
