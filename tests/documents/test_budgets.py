"""Files that cost far more than their size are refused early, in bounded memory and time,
and one user's heavy file does not hold up another user's ordinary one."""
from __future__ import annotations

import threading
import time
import tracemalloc

import pytest

from backend.documents import DocumentError, read_document
from backend.documents.budget import inflation_limit

from .bombs import dense_docx, lying_docx, paragraphs_docx
from .samples import docx_bytes, pdf_bytes

UPLOAD = {"max_bytes": 10 * 1024 * 1024, "max_pages": 300}


def peak_bytes(work) -> tuple[int, object]:
    """Peak Python memory while ``work()`` runs (zlib and lxml output are Python bytes)."""
    tracemalloc.start()
    try:
        try:
            result = work()
        except DocumentError as err:
            result = err
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def test_an_entry_that_lies_about_its_size_is_refused_after_its_budget_not_its_content():
    data = lying_docx(inflated=60_000_000, declared=1000)
    assert len(data) < 300_000
    started = time.monotonic()
    peak, error = peak_bytes(lambda: read_document(data, "bombe.docx", **UPLOAD))
    assert isinstance(error, DocumentError)
    assert (error.status, error.code) == (413, "trop_volumineux")
    assert "se décompresse" in error.message
    assert "declared 1000 bytes" in error.detail
    # Python's ZipFile.read inflated all 60 MB (twice that at its peak) before noticing.
    assert peak < inflation_limit(len(data)) + 8_000_000
    assert time.monotonic() - started < 2


def test_a_small_word_file_holding_megabytes_of_paragraphs_is_refused_relative_to_its_size():
    data = dense_docx(inflated=20_000_000)
    assert len(data) < 150_000  # well under the 10 MB upload limit
    peak, error = peak_bytes(lambda: read_document(data, "dense.docx", **UPLOAD))
    assert isinstance(error, DocumentError) and error.status == 413
    assert "4 Mo au plus pour ce fichier" in error.message
    assert peak < 10_000_000


def test_an_entry_whose_declared_size_differs_from_its_content_is_refused_as_damaged():
    # Within budget, the lie is still a lie: the file is not read as if it were true.
    data = lying_docx(inflated=200_000, declared=1000)
    with pytest.raises(DocumentError) as info:
        read_document(data, "truque.docx", **UPLOAD)
    assert (info.value.status, info.value.code) == (422, "document_illisible")
    assert "declared 1000" in info.value.detail


def test_paragraphs_are_counted_and_a_file_over_the_limit_is_refused():
    data = paragraphs_docx(300)
    assert len(read_document(data, "ok.docx", **UPLOAD, max_paragraphs=300).paragraphs) == 300
    with pytest.raises(DocumentError) as info:
        read_document(data, "long.docx", **UPLOAD, max_paragraphs=299)
    assert info.value.status == 413
    assert "plus de 299 paragraphes" in info.value.message


def test_a_long_word_file_reads_in_seconds_not_minutes():
    # python-docx's paragraph.style scanned every style for every paragraph (4 ms each).
    started = time.monotonic()
    document = read_document(paragraphs_docx(20_000), "jugement.docx", **UPLOAD)
    assert len(document.paragraphs) == 20_000
    assert time.monotonic() - started < 10


def test_a_file_that_takes_longer_than_its_time_budget_is_refused_in_french():
    with pytest.raises(DocumentError) as info:
        read_document(paragraphs_docx(20_000), "lent.docx", **UPLOAD, max_seconds=0.01)
    assert info.value.status == 413
    assert "secondes de lecture" in info.value.message


@pytest.mark.parametrize("name", ["conclusions.docx", "notes.txt", "piece"])
def test_a_pdf_under_another_name_is_refused_by_its_content(name):
    with pytest.raises(DocumentError) as info:
        read_document(pdf_bytes([["Texte."]]), name, **UPLOAD)
    assert (info.value.status, info.value.code) == (415, "format_non_pris_en_charge")
    assert "renommez-le en .pdf" in info.value.message


def test_a_word_file_under_another_name_is_refused():
    with pytest.raises(DocumentError) as info:
        read_document(docx_bytes([("paragraph", "Texte.")]), "notes.txt", **UPLOAD)
    assert info.value.status == 415
    assert "archive" in info.value.message


def test_an_isolated_read_gives_the_same_text_and_the_same_refusals():
    data = docx_bytes([("heading", "Motifs"), ("paragraph", "Le tribunal statue.")])
    here = read_document(data, "a.docx", **UPLOAD)
    there = read_document(data, "a.docx", **UPLOAD, isolated=True)
    assert there.paragraphs == here.paragraphs
    pdf = read_document(pdf_bytes([["Page un."], ["Page deux."]]), "a.pdf", **UPLOAD, isolated=True)
    assert (pdf.pages, [p.page for p in pdf.paragraphs]) == (2, [1, 2])
    with pytest.raises(DocumentError) as info:
        read_document(lying_docx(60_000_000), "bombe.docx", **UPLOAD, isolated=True)
    assert (info.value.status, info.value.code) == (413, "trop_volumineux")
    assert "se décompresse" in info.value.message


def test_a_heavy_file_does_not_hold_up_another_users_ordinary_file():
    heavy = paragraphs_docx(35_000)  # about 2 s of reading
    finished: dict[str, float] = {}

    def read_heavy() -> None:
        try:
            read_document(heavy, "lourd.docx", **UPLOAD, isolated=True, max_seconds=4,
                          max_paragraphs=10**9)
        except DocumentError:
            pass
        finished["heavy"] = time.monotonic()

    started = time.monotonic()
    thread = threading.Thread(target=read_heavy)
    thread.start()
    time.sleep(0.3)  # the heavy file is being read
    light = read_document(pdf_bytes([["Ordonnance."]]), "court.pdf", **UPLOAD, isolated=True)
    finished["light"] = time.monotonic()
    thread.join()
    assert light.text == "Ordonnance."
    assert finished["light"] < finished["heavy"]
    assert finished["light"] - started < 3
