"""Bad files in a dossier: each gets a clear French error from inspect() (which never raises,
so the inventory shows it and the job goes on) and the same error from read_pages()."""
from __future__ import annotations

import io
import time
import zipfile

import pytest

from backend import documents
from backend.documents import DocumentError

from .bombs import lying_docx, odt_bomb
from .outlook import msg_bytes
from .samples import docx_bytes, encrypted_pdf_bytes, odt_bytes, pdf_bytes

LIMITS = {"max_bytes": 10_000_000, "max_pages": 1000}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def refused(data: bytes, name: str, **limits) -> tuple[documents.FileInfo, DocumentError]:
    """inspect()'s answer and read_pages()' error for the same file; they must agree."""
    limits = {**LIMITS, **limits}
    info = documents.inspect(data, name, **limits)
    assert isinstance(info.error, DocumentError), info
    assert (info.name, info.size, info.pages) == (name, len(data), None)
    with pytest.raises(DocumentError) as raised:
        list(documents.read_pages(data, name, **limits))
    assert (raised.value.status, raised.value.code) == (info.error.status, info.error.code)
    assert raised.value.message == info.error.message
    return info, raised.value


def test_a_password_protected_pdf_is_refused_as_encrypted():
    info, _ = refused(encrypted_pdf_bytes([["Confidentiel."]]), "secret.pdf")
    assert (info.error.status, info.error.code, info.format) == (422, "document_chiffre", "pdf")
    assert "mot de passe" in info.error.message


def test_a_password_protected_word_file_is_refused_as_encrypted():
    info, _ = refused(OLE_MAGIC + b"\x00" * 600, "protege.docx")
    assert info.error.code == "document_chiffre"


def test_an_odt_with_encrypted_content_is_refused_as_encrypted():
    data = odt_bytes("<text:p>x</text:p>", manifest_extra=(
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">'
        '<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="AA=="/>'
        '</manifest:file-entry>'))
    info, _ = refused(data, "chiffre.odt")
    assert info.error.code == "document_chiffre"


@pytest.mark.parametrize("data,name,message", [
    (b"%PDF-1.4\n1 0 obj garbage", "casse.pdf", "endommagé"),
    (docx_bytes([("paragraph", "Texte.")])[:300], "tronque.docx", "endommagé"),
    (odt_bytes("<text:p>Texte.</text:p>")[:200], "tronque.odt", "OpenDocument"),
    (odt_bytes("<text:p>Texte non fermé"), "mal-forme.odt", "OpenDocument"),
    (OLE_MAGIC + b"\x00" * 1000, "casse.msg", "Outlook"),
    (b"Ceci n'est pas un courriel, il n'a aucun en-tete.", "faux.eml", "courriel"),
    (bytes(range(256)) * 40, "binaire.txt", "fichier texte"),
])
def test_a_damaged_file_is_422_unreadable_in_french(data, name, message):
    info, _ = refused(data, name)
    assert (info.error.status, info.error.code) == (422, "document_illisible")
    assert message in info.error.message


@pytest.mark.parametrize("name", ["vide.pdf", "vide.docx", "vide.odt", "vide.txt", "vide.eml",
                                  "vide.msg"])
def test_an_empty_file_is_422_empty(name):
    info, _ = refused(b"", name)
    assert (info.error.status, info.error.code) == (422, "document_vide")
    assert info.error.message == "Ce fichier est vide."


@pytest.mark.parametrize("data,name", [
    (docx_bytes([]), "sans-texte.docx"),
    (b"\n\n   \r\n", "blanc.txt"),
    (odt_bytes(""), "sans-texte.odt"),
])
def test_a_file_without_any_text_is_422_empty(data, name):
    info, _ = refused(data, name)
    assert info.error.code == "document_vide"


@pytest.mark.parametrize("data,name", [
    (b"{\\rtf1 bonjour}", "lettre.rtf"),
    (b"GIF89a" + b"\x00" * 100, "photo.gif"),
    (OLE_MAGIC + b"\x00" * 600, "ancien.doc"),
    (b"Bonjour", "sans-extension"),
])
def test_an_unsupported_type_is_415_naming_the_formats_taken(data, name):
    info, _ = refused(data, name)
    assert (info.error.status, info.error.code) == (415, "format_non_pris_en_charge")
    assert "(.odt)" in info.error.message and "(.eml, .msg)" in info.error.message
    assert "(.jpg, .png, .tiff)" in info.error.message


@pytest.mark.parametrize("data,name,found", [
    (pdf_bytes([["Texte."]]), "conclusions.docx", "PDF"),
    (pdf_bytes([["Texte."]]), "notes.txt", "PDF"),
    (docx_bytes([("paragraph", "Texte.")]), "jugement.pdf", "archive zip"),
    (msg_bytes(subject="s", sender="a", sender_email="a@b.fr", to="c", body="x"), "mail.eml",
     "document Office (OLE)"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "scan.pdf", "image PNG"),
    (b"Simple texte.", "piece.pdf", "texte"),
])
def test_a_renamed_file_is_refused_saying_what_it_is(data, name, found):
    info, _ = refused(data, name)
    assert (info.error.status, info.error.code) == (415, "format_non_pris_en_charge")
    assert f"({found})" in info.error.message and "renommez-le" in info.error.message


def test_a_word_file_named_odt_is_refused_as_not_opendocument():
    info, _ = refused(docx_bytes([("paragraph", "Texte.")]), "jugement.odt")
    assert "OpenDocument" in info.error.message


def test_a_zip_bomb_disguised_as_a_word_file_is_refused_within_its_budget():
    data = lying_docx(inflated=60_000_000, declared=1000)
    started = time.monotonic()
    info, _ = refused(data, "bombe.docx")
    assert (info.error.status, info.error.code) == (413, "trop_volumineux")
    assert "se décompresse" in info.error.message
    assert time.monotonic() - started < 10


def test_a_zip_bomb_disguised_as_an_odt_is_refused_within_its_budget():
    data = odt_bomb(inflated=40_000_000)
    assert len(data) < 400_000
    info, _ = refused(data, "bombe.odt")
    assert (info.error.status, info.error.code) == (413, "trop_volumineux")
    assert "se décompresse" in info.error.message


def test_a_zip_of_many_entries_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("content.xml", "<a/>")
        for number in range(6000):
            archive.writestr(f"x/{number}", "")
    info, _ = refused(out.getvalue(), "entrees.odt")
    assert info.error.status == 413


def test_a_pdf_of_ten_thousand_pages_is_refused_quickly_naming_the_limit():
    data = pdf_bytes([[]] * 10_000)
    started = time.monotonic()
    info, error = refused(data, "enorme.pdf", max_pages=1000)
    assert (info.error.status, info.error.code) == (413, "trop_volumineux")
    assert info.error.message == "Ce PDF compte 10000 pages ; la limite est de 1000."
    assert time.monotonic() - started < 10


def test_a_long_text_over_the_page_limit_is_refused():
    info, _ = refused(("Une phrase du témoin. " * 200 + "\n\n").encode() * 50, "long.txt",
                      max_pages=10)
    assert info.error.status == 413 and "la limite est de 10" in info.error.message


def test_a_file_over_the_size_limit_is_413():
    info, _ = refused(pdf_bytes([["Texte."]]), "gros.pdf", max_bytes=100)
    assert (info.error.status, info.format) == (413, "pdf")


def test_errors_carry_the_json_shape_of_the_inventory():
    info = documents.inspect(b"", "vide.pdf", **LIMITS)
    assert info.error.to_dict() == {"error": "document_vide", "message": "Ce fichier est vide."}


def test_a_pdf_of_blank_pages_is_empty_in_the_inventory():
    info = documents.inspect(pdf_bytes([[], []]), "blanc.pdf", **LIMITS)
    assert (info.error.status, info.error.code) == (422, "document_vide")
    assert "ni texte ni image" in info.error.message
