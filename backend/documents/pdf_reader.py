"""PDF files: the text of each page, cut into paragraphs, with page numbers (pypdf).

pypdf gives one line per visual line; paragraphs are rebuilt from blank lines and from
lines that end a sentence well short of the page width. Words hyphenated across a line
break are joined again.
"""
from __future__ import annotations

import io
import logging
import re
from typing import NamedTuple

from .budget import Budget
from .errors import DocumentError, encrypted, too_large, unreadable

log = logging.getLogger(__name__)

SENTENCE_END = re.compile(r"[.:;!?»\"]$")
HYPHENATED = re.compile(r"(\w)-$")


class Block(NamedTuple):
    text: str
    kind: str
    page: int | None = None


def _paragraphs(page_text: str) -> list[str]:
    lines = [" ".join(line.split()) for line in page_text.splitlines()]
    width = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        if not line:
            if current:
                paragraphs.append(current)
                current = ""
            continue
        if current and HYPHENATED.search(current) and line[:1].islower():
            current = current[:-1] + line
        else:
            current = f"{current} {line}" if current else line
        if SENTENCE_END.search(line) and len(line) < 0.8 * width:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return paragraphs


def open_pdf(data: bytes, filename: str, *, max_pages: int):
    """A pypdf reader of ``data`` and its page count, refused (encrypted, too many pages,
    damaged) before any page is read."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Many PDFs are "encrypted" only to restrict printing, with an empty password.
            try:
                if not reader.decrypt(""):
                    raise encrypted(f"{filename}: needs a password")
            except (FileNotDecryptedError, NotImplementedError) as exc:
                raise encrypted(f"{filename}: {exc}") from exc
        # The page tree's declared count first: walking 10,000 pages takes seconds.
        declared = reader.trailer["/Root"]["/Pages"].get("/Count")
        if isinstance(declared, int) and declared > max_pages:
            count = declared
        else:
            count = len(reader.pages)
    except DocumentError:
        raise
    except FileNotDecryptedError as exc:
        raise encrypted(f"{filename}: {exc}") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError,
            RecursionError) as exc:
        raise unreadable(f"{filename}: {type(exc).__name__}: {exc}") from exc
    if count > max_pages:
        raise too_large(f"{filename}: {count} pages > {max_pages}",
                        f"Ce PDF compte {count} pages ; la limite est de {max_pages}.")
    return reader, count


def page_paragraphs(page) -> list[str]:  # noqa: ANN001 - pypdf PageObject
    """The paragraphs of one page's text layer."""
    return _paragraphs(page.extract_text() or "")


# Bytes of strings shown by text objects (between BT and ET) below which a page holding an
# image is taken for a scan: a clerk's stamp « Page 3/12 » over a scanned page is not its text.
MIN_TEXT_BYTES = 200
# Form XObjects nest; text or images deeper than this are not looked for.
MAX_FORM_DEPTH = 3
TEXT_OBJECT = re.compile(rb"\bBT\b(.*?)\bET\b", re.S)
# A literal string « (…) » or a hexadecimal string « <…> » (two digits a byte).
TEXT_STRING = re.compile(rb"\((?:\\.|[^\\)])*\)|<([0-9A-Fa-f\s]*)>", re.S)
INLINE_IMAGE = re.compile(rb"\bBI\b")


def _resolve(value):  # noqa: ANN001, ANN202 - pypdf objects
    return value.get_object() if hasattr(value, "get_object") else value


def _string_bytes(text_object: bytes) -> int:
    """Bytes of the strings a text object shows (its operators and positions not counted)."""
    total = 0
    for match in TEXT_STRING.finditer(text_object):
        hexadecimal = match.group(1)
        if hexadecimal is None:
            total += len(match.group(0)) - 2
        else:
            total += len(b"".join(hexadecimal.split())) // 2
    return total


def _layers(contents: bytes, resources, depth: int) -> tuple[int, bool]:  # noqa: ANN001
    """(bytes of text objects, whether an image is drawn) of one content stream and the
    form XObjects it may draw."""
    text_bytes = sum(_string_bytes(m.group(1)) for m in TEXT_OBJECT.finditer(contents))
    has_image = bool(INLINE_IMAGE.search(contents))
    resources = _resolve(resources) or {}
    xobjects = _resolve(resources.get("/XObject")) or {}
    for name in list(xobjects.keys())[:64]:
        xobject = _resolve(xobjects[name])
        subtype = xobject.get("/Subtype")
        if subtype == "/Image":
            has_image = True
        elif subtype == "/Form" and depth < MAX_FORM_DEPTH:
            inner_text, inner_image = _layers(xobject.get_data(), xobject.get("/Resources"),
                                              depth + 1)
            text_bytes += inner_text
            has_image = has_image or inner_image
    return text_bytes, has_image


def page_layers(page) -> tuple[int, bool]:  # noqa: ANN001 - pypdf PageObject
    """(bytes of text objects, whether an image is drawn) of a page, from its content
    streams, without extracting the text."""
    contents = page.get_contents()
    data = contents.get_data() if contents is not None else b""
    return _layers(data, page.get("/Resources"), 0)


def needs_ocr(page) -> bool:  # noqa: ANN001 - pypdf PageObject
    """Whether a page is an image without a text layer worth the name (a scan): cheap
    enough to count a dossier's scans in the request."""
    text_bytes, has_image = page_layers(page)
    return has_image and text_bytes < MIN_TEXT_BYTES


def read(data: bytes, filename: str, *, max_pages: int,
         budget: Budget) -> tuple[list[Block], int]:
    """Blocks of a PDF (all of kind 'paragraph', each with its page) and the page count.

    The budget is checked between pages (its seconds) and for every paragraph.
    """
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    reader, count = open_pdf(data, filename, max_pages=max_pages)
    try:
        blocks: list[Block] = []
        for number, page in enumerate(reader.pages, start=1):
            budget.check()
            for text in _paragraphs(page.extract_text() or ""):
                budget.paragraph()
                blocks.append(Block(text, "paragraph", number))
        return blocks, count
    except DocumentError:
        raise
    except FileNotDecryptedError as exc:
        raise encrypted(f"{filename}: {exc}") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError,
            RecursionError) as exc:
        raise unreadable(f"{filename}: {type(exc).__name__}: {exc}") from exc
