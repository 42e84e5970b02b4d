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
    assert info == FileInfo("arret.pdf", "pdf", len(data), pages=2, ocr_pages=0)
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
    assert found[0].text.startswith("Exposé du litige\nLes faits sont simples.\nLa société Alpha")
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
