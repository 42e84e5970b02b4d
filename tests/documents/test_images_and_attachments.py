"""Images of pages (.jpg, .png, multi-page .tiff) recognised like scans, with the same bad-input
handling (damaged, an image bomb declaring a huge size, renamed, too many pages), and the
files attached to a mail (.eml, .msg) given back to be read as files of their own."""
from __future__ import annotations

from email.message import EmailMessage

import pytest

from backend import documents
from backend.documents import DocumentError

from .outlook import msg_bytes
from .samples import image_bytes, pdf_bytes, png_bomb

LIMITS = {"max_bytes": 20_000_000, "max_pages": 100}
CONSTAT = ["PROCÈS-VERBAL DE CONSTAT", "Le commissaire de justice constate une fissure",
           "traversant le mur du séjour sur toute sa hauteur."]
SECOND = ["Page deux du constat : la fissure mesure trois millimètres."]


@pytest.mark.parametrize("fmt, name", [("JPEG", "constat.jpg"), ("JPEG", "constat.jpeg"),
                                       ("PNG", "constat.png")])
def test_a_photographed_page_is_one_page_to_recognise_read_in_french(fmt, name):
    data = image_bytes([CONSTAT], fmt)
    info = documents.inspect(data, name, **LIMITS)
    assert (info.error, info.pages, info.ocr_pages, info.chars) == (None, 1, 1, (None,))
    (page,) = documents.read_pages(data, name, **LIMITS)
    assert page.number == 1 and page.ocr and page.confidence > 80
    assert "fissure" in page.text and "séjour" in page.text


def test_a_multi_page_tiff_is_read_page_by_page_and_a_range_reads_only_its_pages():
    data = image_bytes([CONSTAT, SECOND, None], "TIFF")
    info = documents.inspect(data, "fax.tif", **LIMITS)
    assert (info.format, info.pages, info.ocr_pages) == ("tiff", 3, 3)
    pages = list(documents.read_pages(data, "fax.tif", **LIMITS))
    assert [p.number for p in pages] == [1, 2, 3]
    assert "fissure" in pages[0].text and "trois millimètres" in pages[1].text
    assert pages[2].confidence < 60  # the noise page: kept and flagged by the dossier
    (second,) = documents.read_pages(data, "fax.tif", **LIMITS, start_page=2, end_page=2)
    assert second.number == 2 and "trois millimètres" in second.text


def refused(data: bytes, name: str, **limits) -> DocumentError:
    info = documents.inspect(data, name, **{**LIMITS, **limits})
    assert isinstance(info.error, DocumentError), info
    with pytest.raises(DocumentError) as raised:
        list(documents.read_pages(data, name, **{**LIMITS, **limits}))
    assert (raised.value.code, raised.value.message) == (info.error.code, info.error.message)
    return info.error


def test_an_image_bomb_is_refused_from_its_declared_size_before_decoding():
    bomb = png_bomb()
    assert len(bomb) < 1000
    error = refused(bomb, "bombe.png")
    assert (error.status, error.code) == (413, "trop_volumineux")
    assert error.message.startswith("Cette image est trop grande pour être lue")


@pytest.mark.parametrize("cut", ["header", "pixels"])
def test_a_damaged_image_is_422_in_french(cut):
    data = image_bytes([CONSTAT], "JPEG")
    data = data[:40] if cut == "header" else data[: len(data) // 2]
    error = refused(data, "photo.jpg")
    assert (error.status, error.code) == (422, "document_illisible")
    assert error.message == "Cette image est endommagée ou illisible."


def test_a_tiff_over_the_page_limit_and_a_renamed_image_are_refused():
    error = refused(image_bytes([SECOND] * 3, "TIFF"), "fax.tiff", max_pages=2)
    assert error.status == 413 and "3 pages" in error.message
    error = refused(image_bytes([SECOND], "PNG"), "photo.jpg")
    assert error.status == 415 and "(image PNG)" in error.message


def mail_with_attachments() -> bytes:
    message = EmailMessage()
    message["From"], message["To"] = "Me Claire Martin <martin@avocats.fr>", "greffe@justice.fr"
    message["Subject"] = "Conclusions et constat"
    message.set_content("Veuillez trouver ci-joint mes conclusions et le constat.")
    message.add_attachment(pdf_bytes([["Conclusions du demandeur."]]), maintype="application",
                           subtype="pdf", filename="conclusions.pdf")
    message.add_attachment(image_bytes([CONSTAT], "PNG"), maintype="image", subtype="png",
                           filename="C:\\Scans\\constat.png")
    inner = EmailMessage()
    inner["From"], inner["Subject"] = "expert@cabinet.fr", "Rapport"
    inner.set_content("Rapport en pièce jointe.")
    message.add_attachment(inner)
    return message.as_bytes()


def test_a_mails_attachments_come_back_as_files_with_plain_names():
    found = documents.attachments(mail_with_attachments(), "courriel.eml", **{"max_bytes": 10**7})
    assert [name for name, _ in found] == ["conclusions.pdf", "constat.png", "message joint.eml"]
    assert found[0][1].startswith(b"%PDF-")
    assert b"Rapport en pi" in found[2][1]
    # The mail's own text names them.
    (page,) = documents.read_pages(mail_with_attachments(), "courriel.eml", **LIMITS)
    assert "Pièces jointes : conclusions.pdf, constat.png" in page.text


def test_an_outlook_messages_attachments_come_back_as_files():
    data = msg_bytes(subject="Pièces", sender="Me Martin", sender_email="martin@avocats.fr",
                     to="Greffe", body="Ci-joint.",
                     attachments=(("bordereau.pdf", pdf_bytes([["Bordereau."]])),))
    (name, content), = documents.attachments(data, "message.msg", max_bytes=10**7)
    assert name == "bordereau.pdf" and content.startswith(b"%PDF-")


def test_a_mail_over_the_limit_is_refused_and_a_non_mail_has_no_attachments():
    with pytest.raises(DocumentError) as raised:
        documents.attachments(mail_with_attachments(), "courriel.eml", max_bytes=20_000)
    assert raised.value.status == 413
    assert documents.attachments(pdf_bytes([["Texte."]]), "piece.pdf", max_bytes=10**7) == []
