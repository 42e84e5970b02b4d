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


def read(data: bytes, filename: str, *, max_pages: int,
         budget: Budget) -> tuple[list[Block], int]:
    """Blocks of a PDF (all of kind 'paragraph', each with its page) and the page count.

    The budget is checked between pages (its seconds) and for every paragraph.
    """
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
        count = len(reader.pages)
        if count > max_pages:
            raise too_large(f"{filename}: {count} pages > {max_pages}",
                            f"Ce PDF compte {count} pages ; la limite est de {max_pages}.")
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
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise unreadable(f"{filename}: {type(exc).__name__}: {exc}") from exc
