"""A dossier's files as pages: what the dossier job reads, cites and flags.

Scanned pages are real images (text typeset, then rendered by poppler) read back by the
real Tesseract with its French data.
"""
from __future__ import annotations

import pytest

from backend import documents
from backend.documents import DocumentError, FileInfo, Page

from .samples import docx_bytes, mixed_pdf_bytes, pdf_bytes, scanned_pdf_bytes

LIMITS = {"max_bytes": 20_000_000, "max_pages": 100}
JUDGMENT = ["COUR D'APPEL DE PARIS", "",
            "Le tribunal judiciaire de Paris, statuant publiquement,",
            "condamne la société Alpha à payer la somme de 12 000 euros",
            "au titre du préjudice subi, outre les dépens."]


def pages(data: bytes, name: str, **options) -> list[Page]:
    return list(documents.read_pages(data, name, **LIMITS, **options))


def test_a_text_pdf_is_counted_and_read_with_its_real_page_numbers():
    data = pdf_bytes([["Audience publique du 18 novembre 2020.",
                       "La cour statue sur l'appel formé contre le jugement."],
                      ["Par ces motifs, rejette le pourvoi."]])
    info = documents.inspect(data, "arret.pdf", **LIMITS)
    # Each page's characters (whitespace folded), for the dossier's estimate: here a
    # one-byte font, so the strings' bytes are the text.
    assert info == FileInfo("arret.pdf", "pdf", len(data), pages=2, ocr_pages=0,
                            chars=(91, 35))
    assert [len(" ".join(p.text.split())) for p in pages(data, "arret.pdf")] == [91, 35]
    assert pages(data, "arret.pdf") == [
        Page(1, "Audience publique du 18 novembre 2020.\n"
                "La cour statue sur l'appel formé contre le jugement."),
        Page(2, "Par ces motifs, rejette le pourvoi.")]
    assert [p.number for p in pages(data, "arret.pdf", start_page=2)] == [2]


def test_a_word_file_is_cut_in_sections_keeping_paragraphs_and_headings():
    long_paragraph = "La société Alpha soutient que le contrat a été rompu abusivement. " * 40
    data = docx_bytes([("heading", "Exposé du litige"), ("paragraph", "Les faits sont simples."),
                       ("paragraph", long_paragraph), ("heading", "Motifs"),
                       ("paragraph", "Le tribunal retient la faute."),
                       ("table", [["Partie", "Avocat"], ["Société Alpha", "Me Martin"]])])
    info = documents.inspect(data, "jugement.docx", **LIMITS)
    found = pages(data, "jugement.docx")
    assert (info.format, info.pages, info.ocr_pages) == ("docx", len(found), 0)
    assert [p.number for p in found] == list(range(1, len(found) + 1))
    assert len(found) == 2
    assert found[0].headings == ["Exposé du litige"]
    assert found[0].text.startswith(
        "Exposé du litige\nLes faits sont simples.\nLa société Alpha")
    assert found[-1].headings == ["Motifs"]
    assert found[-1].text.endswith("Motifs\nLe tribunal retient la faute.\n"
                                   "Partie | Avocat\nSociété Alpha | Me Martin")
    assert all(len(p.text) <= 3100 and not p.ocr and p.confidence is None for p in found)
    # Nothing is lost or doubled by the cut.
    assert " ".join(" ".join(p.text.split()) for p in found).count("rompu abusivement") == 40


def test_scanned_pages_are_recognised_in_french_with_a_confidence():
    data = scanned_pdf_bytes([JUDGMENT, None])
    info = documents.inspect(data, "scan.pdf", **LIMITS)
    assert (info.pages, info.ocr_pages, info.error) == (2, 2, None)
    text_page, noise = pages(data, "scan.pdf")
    assert text_page.ocr and text_page.number == 1
    for word in ("COUR", "APPEL", "tribunal", "judiciaire", "société", "12 000", "préjudice",
                 "dépens"):
        assert word in text_page.text
    assert text_page.confidence > 85 > documents.LOW_CONFIDENCE
    # A page of smudges is kept, flagged by its confidence, never dropped.
    assert (noise.number, noise.ocr) == (2, True)
    assert noise.confidence < documents.LOW_CONFIDENCE


def test_a_mixed_pdf_recognises_only_its_scans_and_keeps_page_order_in_parallel():
    data = mixed_pdf_bytes([("text", ["Conclusions de la société Alpha."]),
                            ("scan", JUDGMENT),
                            ("text", ["Bordereau de communication de pièces."]),
                            ("scan", ["Procès-verbal d'audition du témoin."])])
    assert documents.inspect(data, "dossier.pdf", **LIMITS).ocr_pages == 2
    found = pages(data, "dossier.pdf", workers=2)
    assert [(p.number, p.ocr) for p in found] == [(1, False), (2, True), (3, False), (4, True)]
    assert found[0].text == "Conclusions de la société Alpha."
    assert "Procès-verbal" in found[3].text and "témoin" in found[3].text
    without = pages(data, "dossier.pdf", ocr=False, start_page=2, end_page=3)
    assert [(p.number, p.ocr, p.text) for p in without] == [
        (2, False, ""), (3, False, "Bordereau de communication de pièces.")]


def test_the_confidence_threshold_is_a_setting():
    from backend import config

    cfg = config.load(environ={"PLUME_ENV": "development", "PLUME_OCR_MIN_CONFIDENCE": "45"})
    assert documents.low_confidence(cfg) == 45.0
    assert documents.low_confidence({}) == documents.LOW_CONFIDENCE
    with pytest.raises(Exception) as info:
        config.load(environ={"PLUME_ENV": "development", "PLUME_OCR_MIN_CONFIDENCE": "140"})
    assert "PLUME_OCR_MIN_CONFIDENCE" in str(info.value)


def test_a_bad_page_range_is_refused():
    with pytest.raises(DocumentError) as info:
        pages(pdf_bytes([["Un."]]), "a.pdf", start_page=0)
    assert info.value.status == 400


def _programs_of_the_reader() -> list[str]:
    """Names of the processes under this process's reader server (children, Tesseract…)."""
    import psutil

    from backend.documents import sandbox

    server = sandbox._state["server"]
    return [p.name() for p in psutil.Process(server.pid).children(recursive=True)]


def _wait_until_no_programs(seconds: float = 5.0) -> list[str]:
    import time

    deadline = time.monotonic() + seconds
    while (left := _programs_of_the_reader()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_a_reader_left_halfway_stops_its_child_and_its_programs():
    data = scanned_pdf_bytes([JUDGMENT] * 8)
    reading = documents.read_pages(data, "scan.pdf", **LIMITS, workers=2)
    first = next(reading)
    assert first.number == 1 and "tribunal" in first.text
    # The next pages are under way.
    assert {"tesseract", "pdftoppm"} & set(_programs_of_the_reader())
    reading.close()
    assert _wait_until_no_programs() == []


def test_a_page_that_takes_longer_than_its_time_is_refused_and_its_programs_killed():
    import time

    from .samples import _image_pdf, rendered_page

    # Four pages of text tiled on one poster-sized page: seconds of Tesseract.
    width, height, pixels = rendered_page(JUDGMENT * 9)
    rows = [pixels[y * width:(y + 1) * width] * 2 for y in range(height)]
    poster = (width * 2, height * 2, b"".join(rows) * 2)
    data = _image_pdf([poster])
    started = time.monotonic()
    with pytest.raises(DocumentError) as info:
        list(documents.read_pages(data, "affiche.pdf", **LIMITS, page_seconds=0.5))
    assert (info.value.status, info.value.code) == (413, "trop_volumineux")
    assert "trop de mémoire ou de temps" in info.value.message
    assert time.monotonic() - started < 15
    assert _wait_until_no_programs() == []


def test_pages_stream_through_in_memory_that_does_not_grow_with_the_file():
    import tracemalloc

    lines = [f"Ligne {n} des conclusions de la société Alpha contre M. Durand."
             for n in range(50)]
    data = pdf_bytes([lines] * 400)
    tracemalloc.start()
    try:
        read = 0
        for page in documents.read_pages(data, "long.pdf", max_bytes=20_000_000,
                                         max_pages=1000):
            read += len(page.text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert read > 1_200_000
    assert peak < 300_000  # a page or two, not the 1.2 MB of text read


def test_a_stamp_over_a_scan_is_still_a_scan_and_a_searchable_scan_is_text():
    import io

    from pypdf import PdfReader, PdfWriter

    def overlay(lines: list[str]) -> bytes:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(scanned_pdf_bytes([JUDGMENT]))))
        writer.pages[0].merge_page(PdfReader(io.BytesIO(pdf_bytes([lines]))).pages[0])
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    stamped = overlay([""] * 50 + ["Copie certifiée conforme - page 1/1"])
    assert documents.inspect(stamped, "copie.pdf", **LIMITS).ocr_pages == 1
    [page] = pages(stamped, "copie.pdf")
    assert page.ocr and "judiciaire" in page.text and "certifiée" in page.text
    # A scan that already carries its text (a « searchable PDF ») is not recognised again.
    searchable = overlay([line or " " for line in JUDGMENT] * 3)
    assert documents.inspect(searchable, "ocr.pdf", **LIMITS).ocr_pages == 0
    [page] = pages(searchable, "ocr.pdf")
    assert not page.ocr and page.confidence is None and "préjudice" in page.text


def test_a_page_scanned_sideways_is_read_again_upright():
    import numpy

    from .samples import _image_pdf, rendered_page

    width, height, pixels = rendered_page(JUDGMENT * 3)
    sideways = numpy.ascontiguousarray(
        numpy.rot90(numpy.frombuffer(pixels, dtype=numpy.uint8).reshape(height, width)))
    data = _image_pdf([(height, width, sideways.tobytes())])
    [page] = pages(data, "paysage.pdf")
    assert page.ocr and page.confidence > 85
    assert "Le tribunal judiciaire de Paris" in page.text


def test_a_page_whose_text_layer_is_damaged_is_recognised_and_flagged_not_the_file_lost():
    data = pdf_bytes([["Page un."], ["Page deux."]]).replace(
        b"<< /Length 50 >>", b"<< /Length 50 /Filter /LZWDecode >>")
    assert data.count(b"/LZWDecode") == 1  # page 2's content is now garbage to decode
    info = documents.inspect(data, "abime.pdf", **LIMITS)
    assert (info.pages, info.ocr_pages, info.error) == (2, 1, None)
    first, second = pages(data, "abime.pdf")
    assert (first.text, first.ocr) == ("Page un.", False)
    assert second.ocr and second.confidence < documents.LOW_CONFIDENCE
    with pytest.raises(DocumentError) as raised:
        pages(data, "abime.pdf", ocr=False)
    assert raised.value.code == "document_illisible"


@pytest.fixture
def reader_environment():
    """Set environment variables for a fresh reader server; the usual one comes back after."""
    import os

    from backend.documents import sandbox

    def restart() -> None:
        server = sandbox._state["server"]
        if server is not None and server.poll() is None:
            server.terminate()
            server.wait(timeout=10)

    saved = dict(os.environ)

    def set_environment(**variables: str) -> None:
        os.environ.update(variables)
        restart()

    yield set_environment
    os.environ.clear()
    os.environ.update(saved)
    restart()


def test_without_the_french_data_scans_are_refused_as_unavailable_not_read_wrong(
        reader_environment, tmp_path):
    (tmp_path / "eng.traineddata").symlink_to("/usr/share/tesseract-ocr/5/tessdata/eng.traineddata")
    reader_environment(TESSDATA_PREFIX=str(tmp_path))
    with pytest.raises(DocumentError) as info:
        pages(scanned_pdf_bytes([JUDGMENT]), "scan.pdf")
    assert (info.value.status, info.value.code) == (503, "ocr_indisponible")
    assert "Tesseract" in info.value.message and "fra" in info.value.detail
    # Text pages do not need Tesseract.
    assert pages(pdf_bytes([["Texte."]]), "texte.pdf")[0].text == "Texte."
