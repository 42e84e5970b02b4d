"""Word (.docx) files: paragraphs, headings and tables in document order (python-docx).

A .docx is a zip; its parts are checked before unpacking so that a small file that
expands to gigabytes (a zip bomb) is refused instead of exhausting memory.
"""
from __future__ import annotations

import io
import zipfile
from typing import NamedTuple

from .errors import DocumentError, encrypted, too_large, unreadable

# A Word file's XML unpacks to many times its size; beyond this ratio it is not a document.
MAX_EXPANSION = 40


class Block(NamedTuple):
    text: str
    kind: str
    page: int | None = None


def _check_zip(data: bytes, filename: str, max_bytes: int) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise unreadable(f"{filename}: bad zip: {exc}") from exc
    names = set(archive.namelist())
    if "EncryptedPackage" in names or "EncryptionInfo" in names:
        raise encrypted(f"{filename}: encrypted package")
    if "word/document.xml" not in names:
        raise unreadable(f"{filename}: no word/document.xml (not a Word document)",
                         "Ce fichier n'est pas un document Word (.docx) valide.")
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > max(max_bytes, len(data)) * MAX_EXPANSION:
        raise too_large(f"{filename}: unpacks to {unpacked} bytes")


def _heading(paragraph) -> bool:  # noqa: ANN001 - python-docx Paragraph
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    return style.startswith(("Heading", "Title", "Titre"))


def _row_text(row) -> str:  # noqa: ANN001 - python-docx _Row
    cells: list[str] = []
    for cell in row.cells:
        text = " ".join(cell.text.split())
        # Merged cells repeat the same cell object; keep one copy.
        if text and (not cells or cells[-1] != text):
            cells.append(text)
    return " | ".join(cells)


def read(data: bytes, filename: str, *, max_bytes: int) -> list[Block]:
    """Blocks of a Word document in reading order (body paragraphs and table rows)."""
    _check_zip(data, filename, max_bytes)
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(data))
        blocks: list[Block] = []
        body = document.element.body
        for child in body.iterchildren():
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "p":
                paragraph = Paragraph(child, document)
                text = " ".join(paragraph.text.split())
                if text:
                    blocks.append(Block(text, "heading" if _heading(paragraph) else "paragraph"))
            elif tag == "tbl":
                for row in Table(child, document).rows:
                    text = _row_text(row)
                    if text:
                        blocks.append(Block(text, "table"))
        return blocks
    except DocumentError:
        raise
    except Exception as exc:  # python-docx raises many kinds on damaged XML
        raise unreadable(f"{filename}: {type(exc).__name__}: {exc}") from exc
