"""OpenDocument text (.odt): headings, paragraphs, lists and tables of ``content.xml``.

An .odt is a zip like a .docx and gets the same protection (:mod:`.docx_reader`): its
``content.xml`` is inflated by chunks against a budget relative to the file's size, and
compared with what the archive declares, before lxml parses it (without entities or
network access). Notes, annotations and tracked deletions are left out: they are not the
document's running text.
"""
from __future__ import annotations

import io
import zipfile
import zlib
from typing import NamedTuple

from .budget import Budget, inflation_limit
from .docx_reader import MAX_ENTRIES, inflate
from .errors import DocumentError, encrypted, too_large, unreadable

TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
NOT_ODT_MESSAGE = "Ce fichier n'est pas un document OpenDocument texte (.odt) valide."
# Elements whose text is not the document's running text.
SKIPPED = {f"{{{TEXT}}}note", f"{{{OFFICE}}}annotation", f"{{{OFFICE}}}annotation-end",
           f"{{{TEXT}}}tracked-changes", f"{{{TEXT}}}sequence-decls", f"{{{OFFICE}}}forms",
           f"{{{TEXT}}}table-of-content-source", f"{{{TEXT}}}index-title-template"}


class Block(NamedTuple):
    text: str
    kind: str
    page: int | None = None


def _content(data: bytes, filename: str) -> bytes:
    """``content.xml``, inflated under the file's budget; refused when encrypted."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise unreadable(f"{filename}: bad zip: {exc}", NOT_ODT_MESSAGE) from exc
    if len(infos) > MAX_ENTRIES:
        raise too_large(f"{filename}: {len(infos)} zip entries")
    by_name = {info.filename: info for info in infos}
    if "content.xml" not in by_name:
        raise unreadable(f"{filename}: no content.xml", NOT_ODT_MESSAGE)
    limit = left = inflation_limit(len(data))
    try:
        manifest = by_name.get("META-INF/manifest.xml")
        if manifest is not None:
            part = inflate(data, manifest, left, filename, limit)
            left -= len(part)
            if b"encryption-data" in part:
                raise encrypted(f"{filename}: encrypted OpenDocument")
        return inflate(data, by_name["content.xml"], left, filename, limit)
    except DocumentError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as exc:
        raise unreadable(f"{filename}: {type(exc).__name__}: {exc}", NOT_ODT_MESSAGE) from exc


def _text(element) -> str:  # noqa: ANN001 - lxml element
    """The text of a paragraph or heading, spaces and tabs as written."""
    parts = [element.text or ""]
    for child in element:
        tag = child.tag
        if tag == f"{{{TEXT}}}s":
            parts.append(" " * int(child.get(f"{{{TEXT}}}c", "1") or 1))
        elif tag in (f"{{{TEXT}}}tab", f"{{{TEXT}}}line-break"):
            parts.append(" ")
        elif tag not in SKIPPED:
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _cell_text(cell) -> str:  # noqa: ANN001 - lxml element
    return " ".join(" ".join(_text(p).split()) for p in cell.iter(f"{{{TEXT}}}p", f"{{{TEXT}}}h"))


def _walk(element, blocks: list[Block], budget: Budget) -> None:  # noqa: ANN001
    for child in element:
        tag = child.tag
        if not isinstance(tag, str) or tag in SKIPPED:
            continue
        if tag in (f"{{{TEXT}}}h", f"{{{TEXT}}}p"):
            budget.paragraph()
            text = " ".join(_text(child).split())
            if text:
                blocks.append(Block(text, "heading" if tag == f"{{{TEXT}}}h" else "paragraph"))
        elif tag == f"{{{TABLE}}}table-row":
            budget.paragraph()
            cells: list[str] = []
            for cell in child.iterchildren(f"{{{TABLE}}}table-cell"):
                text = _cell_text(cell)
                if text and (not cells or cells[-1] != text):
                    cells.append(text)
            if cells:
                blocks.append(Block(" | ".join(cells), "table"))
        else:
            _walk(child, blocks, budget)


def read(data: bytes, filename: str, *, budget: Budget) -> list[Block]:
    """Blocks of an OpenDocument text in reading order (headings, paragraphs, table rows)."""
    from lxml import etree

    content = _content(data, filename)
    budget.check()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             load_dtd=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise unreadable(f"{filename}: content.xml: {exc}", NOT_ODT_MESSAGE) from exc
    body = root.find(f"{{{OFFICE}}}body/{{{OFFICE}}}text")
    if body is None:
        raise unreadable(f"{filename}: no office:text body (not a text document)",
                         NOT_ODT_MESSAGE)
    blocks: list[Block] = []
    _walk(body, blocks, budget)
    return blocks
