"""A dossier's file as pages: what :func:`backend.documents.read_pages` yields, computed in a
sandbox child (:mod:`.sandbox`).

A page is the unit a reference cites. For a PDF it is the real page, its text layer or,
for a scan, what Tesseract reads (:mod:`.ocr`), with a confidence. Files without fixed
pages (Word, OpenDocument, text, mail) are cut into sections of about
:data:`SECTION_CHARS` characters, numbered from 1, that never split a paragraph (unless a
paragraph alone is longer than a section) and start at a heading when the current one
is already half full.

Images (.jpg, .png, .tiff) are pages to recognise, one per frame (:mod:`.image_reader`).

Pages are produced one at a time: a PDF page is read (or recognised) only when the
previous ones have been handed on, so memory does not grow with the number of pages.
"""
from __future__ import annotations

import logging
import os
import re
from collections import deque
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from . import (docx_reader, formats, image_reader, mail_reader, ocr, odt_reader, pdf_reader,
               text_reader)
from .budget import Budget
from .errors import DocumentError, empty, too_large, unreadable

log = logging.getLogger(__name__)

SECTION_CHARS = 3000
# Text pages read ahead while Tesseract works on earlier ones, at most.
LOOKAHEAD_PAGES = 8


class PageData(NamedTuple):
    """A page as it crosses the sandbox's socket (``backend.documents.Page`` once out)."""

    number: int
    text: str
    ocr: bool = False
    confidence: float | None = None
    headings: tuple[str, ...] = ()


def blocks_of(kind: str, data: bytes, filename: str, work: Budget) -> list[tuple[str, str]]:
    """``(text, kind)`` blocks of a file without fixed pages, in reading order."""
    if kind == "docx":
        found = docx_reader.read(data, filename, budget=work)
    else:
        readers = {"odt": odt_reader.read, "txt": text_reader.read, "eml": mail_reader.read_eml,
                   "msg": mail_reader.read_msg}
        found = readers[kind](data, filename, budget=work)
    return [(block.text, block.kind) for block in found if block.text.strip()]


def _cut(text: str, room: int) -> int:
    """Where to cut ``text`` to fit ``room`` characters: the last space before, if any."""
    cut = text.rfind(" ", room // 2, room + 1)
    return room if cut < 0 else cut


def sections(blocks: Iterable[tuple[str, str]], size: int = SECTION_CHARS) -> list[PageData]:
    """Blocks gathered into numbered sections of about ``size`` characters.

    A paragraph stays whole unless it does not fit: then it fills the current section (if
    at least a quarter of it is free) and goes on in the next ones.
    """
    result: list[PageData] = []
    lines: list[str] = []
    headings: list[str] = []
    length = 0

    def flush() -> None:
        nonlocal lines, headings, length
        if lines:
            result.append(PageData(len(result) + 1, "\n".join(lines), headings=tuple(headings)))
        lines, headings, length = [], [], 0

    for text, kind in blocks:
        if kind == "heading" and length >= size // 2:
            flush()
        first = True
        while text:
            room = size - length
            if len(text) > room and room < size // 4:
                flush()
                continue
            cut = len(text) if len(text) <= room else _cut(text, room)
            lines.append(text[:cut].strip())
            length += cut + 1
            if kind == "heading" and first:
                headings.append(lines[-1])
            first = False
            text = text[cut:].strip()
            if text:
                flush()
    flush()
    return result


def _check_range(start: int, end: int | None, count: int, filename: str) -> range:
    if start < 1 or (end is not None and end < start):
        raise DocumentError("Plage de pages invalide.", status=400, code="pages_invalides",
                            detail=f"{filename}: pages {start}..{end}")
    return range(start, min(count, end if end is not None else count) + 1)


# Text pages of a PDF whose text is extracted in ``inspect`` to learn how many characters a
# byte of its content streams' strings makes (fonts differ: one byte a glyph, or two).
SAMPLE_PAGES = 3


def flat_length(text: str) -> int:
    """Characters of a page's text once its whitespace is folded, as a dossier sends it."""
    return len(" ".join(text.split()))


def inspect(kind: str, data: bytes, filename: str, max_pages: int, work: Budget) -> dict[str, Any]:
    """``{"pages", "ocr_pages", "chars"}`` of a file, quickly: a PDF's pages are counted and
    its scans found from their content streams, without extracting text. ``chars``: each
    page's characters (whitespace folded), None for a scan; a PDF's are estimated from the
    bytes of its strings, scaled by a few pages actually extracted."""
    if kind in formats.IMAGES:
        return image_reader.inspect(data, filename, max_pages=max_pages, check=work.check)
    if kind == "pdf":
        reader, count = pdf_reader.open_pdf(data, filename, max_pages=max_pages)
        scans, drawn, sizes = 0, False, []
        try:
            pages = reader.pages
            for number in range(count):
                work.check()
                try:
                    text_bytes, has_image = pdf_reader.page_layers(pages[number])
                except Exception:  # noqa: BLE001 - damaged content: read_pages recognises it
                    scans, drawn = scans + 1, True
                    sizes.append(None)
                    continue
                scan = has_image and text_bytes < pdf_reader.MIN_TEXT_BYTES
                scans += scan
                sizes.append(None if scan else text_bytes)
                drawn = drawn or has_image or text_bytes > 0
            chars = _scaled(pages, sizes)
        except DocumentError:
            raise
        except Exception as exc:  # pypdf raises many kinds on a damaged page tree
            raise unreadable(f"{filename}: {type(exc).__name__}: {exc}") from exc
        if not drawn:
            raise empty(f"{filename}: {count} pages without text or image",
                        "Ce PDF ne contient ni texte ni image : ses pages sont vides.")
        return {"pages": count, "ocr_pages": scans, "chars": chars}
    found = sections(blocks_of(kind, data, filename, work))
    _refuse_empty_or_long(found, filename, max_pages)
    return {"pages": len(found), "ocr_pages": 0, "chars": [flat_length(p.text) for p in found]}


def _scaled(pages, sizes: list[int | None]) -> list[int | None]:  # noqa: ANN001 - pypdf pages
    """Characters of each text page from the bytes of its strings, scaled by the ratio found
    on up to :data:`SAMPLE_PAGES` pages spread over the file."""
    texts = [n for n, size in enumerate(sizes) if size]
    sample = texts[::max(1, len(texts) // SAMPLE_PAGES)][:SAMPLE_PAGES]
    shown = sum(sizes[n] for n in sample)  # type: ignore[misc]
    extracted = 0
    for n in sample:
        try:
            extracted += flat_length("\n".join(pdf_reader.page_paragraphs(pages[n])))
        except Exception:  # noqa: BLE001 - an estimate: a page that does not extract counts as is
            extracted += sizes[n]  # type: ignore[operator]
    ratio = extracted / shown if shown else 1.0
    return [None if size is None else round(size * ratio) for size in sizes]


def _refuse_empty_or_long(found: list[PageData], filename: str, max_pages: int) -> None:
    if not found:
        raise empty(f"{filename}: no text")
    if len(found) > max_pages:
        raise too_large(f"{filename}: {len(found)} sections > {max_pages}",
                        f"Ce document compte {len(found)} pages ; la limite est de {max_pages}.")


def read(kind: str, data: bytes, filename: str, *, max_pages: int, start: int,
         end: int | None, use_ocr: bool, workers: int, dpi: int, work: Budget,
         abandoned: Callable[[], bool] = lambda: False) -> Iterator[PageData]:
    """The pages ``start``..``end`` of a file, one at a time; a wait for Tesseract ends
    (:class:`.ocr.Abandoned`) as soon as ``abandoned()`` is true."""
    if kind == "pdf":
        yield from _pdf_pages(data, filename, max_pages=max_pages, start=start, end=end,
                              use_ocr=use_ocr, workers=workers, dpi=dpi, abandoned=abandoned)
        return
    if kind in formats.IMAGES:
        _, count = image_reader.open_image(data, filename, max_pages=max_pages)
        for number, recognised in image_reader.recognise_frames(
                data, filename, max_pages=max_pages, numbers=_check_range(start, end, count, filename),
                use_ocr=use_ocr, abandoned=abandoned):
            yield _recognised(number, recognised)
        return
    found = sections(blocks_of(kind, data, filename, work))
    _refuse_empty_or_long(found, filename, max_pages)
    for number in _check_range(start, end, len(found), filename):
        yield found[number - 1]


def _pdf_pages(data: bytes, filename: str, *, max_pages: int, start: int, end: int | None,
               use_ocr: bool, workers: int, dpi: int,
               abandoned: Callable[[], bool]) -> Iterator[PageData]:
    """Text pages as read, scans through Tesseract, up to ``workers`` pages recognised at
    once; pages come out in order."""
    reader, count = pdf_reader.open_pdf(data, filename, max_pages=max_pages)
    numbers = _check_range(start, end, count, filename)
    pending: deque[PageData | ocr.Job] = deque()
    fd = None
    try:
        for number in numbers:
            scan, text, size = _classify(reader, number, filename, use_ocr)
            if scan:
                if fd is None:
                    ocr.check_programs()
                    fd = ocr.memory_file(data)
                pending.append(ocr.Job(fd, number, ocr.page_dpi(*size, dpi=dpi)))
            else:
                pending.append(PageData(number, text))
            in_flight = sum(isinstance(item, ocr.Job) for item in pending)
            while pending and (isinstance(pending[0], PageData) or in_flight >= workers
                               or len(pending) > workers + LOOKAHEAD_PAGES):
                item = pending.popleft()
                in_flight -= isinstance(item, ocr.Job)
                yield _finished(item, abandoned)
        while pending:
            yield _finished(pending.popleft(), abandoned)
    finally:
        for item in pending:
            if isinstance(item, ocr.Job):
                item.kill()
        if fd is not None:
            os.close(fd)


# Points of an A4 page, for a page whose box cannot be read.
A4 = (595.0, 842.0)


def _classify(reader, number: int, filename: str,  # noqa: ANN001 - pypdf PdfReader
              use_ocr: bool) -> tuple[bool, str, tuple[float, float]]:
    """Whether page ``number`` is to be recognised, else its text, and its size in points.

    A page whose text layer pypdf cannot extract is rendered and recognised instead (poppler
    draws pages pypdf cannot parse); without OCR it refuses the file.
    """
    try:
        page = reader.pages[number - 1]
    except Exception as exc:  # pypdf raises many kinds on damaged objects
        raise unreadable(f"{filename}: page {number}: {type(exc).__name__}: {exc}") from exc
    try:
        box = page.mediabox
        size = (float(box.width), float(box.height))
    except Exception:  # noqa: BLE001 - a damaged box: render at the usual size
        size = A4
    try:
        if use_ocr and pdf_reader.needs_ocr(page):
            return True, "", size
        text = "\n".join(pdf_reader.page_paragraphs(page))
        # No text layer though the content looked like text (glyphs drawn as paths).
        return bool(use_ocr and not text.strip() and pdf_reader.page_layers(page)[1]), text, size
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many kinds on damaged content
        if not use_ocr:
            raise unreadable(f"{filename}: page {number}: {type(exc).__name__}: "
                             f"{exc}") from exc
        log.warning("%s: page %d: text layer unreadable (%s: %s), recognised instead",
                    filename, number, type(exc).__name__, exc)
        return True, "", size


HYPHENATED_BREAK = re.compile(r"(\w)-\n(?=[a-zà-ÿ])")


def _finished(item: PageData | ocr.Job, abandoned: Callable[[], bool]) -> PageData:
    if isinstance(item, PageData):
        return item
    return _recognised(item.number, item.result(abandoned))


def _recognised(number: int, recognised: ocr.Recognised | None) -> PageData:
    """A recognised page as text: Tesseract's lines joined into paragraphs the way PDF text
    layers are (None: an image read without OCR, which has no text)."""
    if recognised is None:
        return PageData(number, "")
    paragraphs = [" ".join(HYPHENATED_BREAK.sub(r"\1", block).split())
                  for block in recognised.text.split("\n\n")]
    return PageData(number, "\n".join(p for p in paragraphs if p), True, recognised.confidence)
