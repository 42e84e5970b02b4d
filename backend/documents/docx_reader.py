"""Word (.docx) files: paragraphs, headings and tables in document order (python-docx).

A .docx is a zip, and a zip's sizes are declarations: an entry may claim a few bytes and
inflate to gigabytes, and Python's ``ZipFile.read`` inflates up to 2 GB in one call before
it notices. So the parts are never read that way: each XML part is inflated here by
64 KiB chunks, counting the bytes that actually come out against a budget relative to the
file (:func:`.budget.inflation_limit`), from the compressed bytes themselves (the declared
sizes are only compared with what came out), and the file is refused the moment it overdraws.
python-docx then reads a copy of the package holding only those verified bytes (images
and other binary parts emptied: text needs none of them).
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import NamedTuple

from .budget import Budget, inflation_limit
from .errors import DocumentError, encrypted, too_large, unreadable

CHUNK_BYTES = 64 * 1024
# Real Word files hold tens of parts, a few hundred with many images.
MAX_ENTRIES = 5000
# Parts python-docx parses as XML; every other part (images, fonts, embedded files) is
# replaced by an empty one in the copy it reads.
XML_SUFFIXES = (".xml", ".rels")

TOO_LARGE_MESSAGE = ("Ce document Word se décompresse en un volume bien supérieur à sa taille "
                     "({limit} Mo au plus pour ce fichier) : il ne peut pas être lu.")


class Block(NamedTuple):
    text: str
    kind: str
    page: int | None = None


def _compressed(data: bytes, info: zipfile.ZipInfo, filename: str) -> memoryview:
    """The entry's compressed bytes, located from its local header (sizes not trusted: the
    slice ends at the file's end whatever ``compress_size`` says)."""
    offset = info.header_offset
    if data[offset:offset + 4] != b"PK\x03\x04":
        raise unreadable(f"{filename}: no local header for {info.filename}")
    name_len, extra_len = struct.unpack_from("<HH", data, offset + 26)
    start = offset + 30 + name_len + extra_len
    return memoryview(data)[start:start + info.compress_size]


def inflate(data: bytes, info: zipfile.ZipInfo, left: int, filename: str, limit: int) -> bytes:
    """The entry's bytes, inflated by chunks and counted as they come out; refused once more
    than ``left`` came out, or when what came out is not what the archive declared."""
    raw = _compressed(data, info, filename)
    if info.compress_type == zipfile.ZIP_STORED:
        inflater = None
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    else:
        raise unreadable(f"{filename}: {info.filename} uses compression {info.compress_type}")
    chunks: list[bytes] = []
    size = 0
    position = 0
    pending = b""
    while True:
        if inflater is None:
            chunk = bytes(raw[position:position + CHUNK_BYTES])
            position += len(chunk)
        else:
            if not pending:
                pending = bytes(raw[position:position + CHUNK_BYTES])
                position += len(pending)
            # max_length: never more than one chunk out of the inflater per call.
            chunk = inflater.decompress(pending, CHUNK_BYTES)
            pending = inflater.unconsumed_tail
        if not chunk and (inflater is None or inflater.eof or (not pending
                                                               and position >= len(raw))):
            break
        size += len(chunk)
        if size > left:
            raise too_large(
                f"{filename}: {info.filename} inflates past the {limit}-byte budget "
                f"(declared {info.file_size} bytes)",
                TOO_LARGE_MESSAGE.format(limit=max(1, limit // (1024 * 1024))))
        chunks.append(chunk)
    part = b"".join(chunks)
    if len(part) != info.file_size or zlib.crc32(part) != info.CRC:
        # A zip whose entries lie about their size is not a damaged document, it is a lever.
        raise unreadable(f"{filename}: {info.filename} inflates to {len(part)} bytes, "
                         f"declared {info.file_size} (or its CRC differs)")
    return part


def _verified_package(data: bytes, filename: str) -> bytes:
    """A stored (uncompressed) copy of the package with its XML parts inflated under budget."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise unreadable(f"{filename}: bad zip: {exc}") from exc
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise too_large(f"{filename}: {len(infos)} zip entries")
    names = {info.filename for info in infos}
    if "EncryptedPackage" in names or "EncryptionInfo" in names:
        raise encrypted(f"{filename}: encrypted package")
    if "word/document.xml" not in names:
        raise unreadable(f"{filename}: no word/document.xml (not a Word document)",
                         "Ce fichier n'est pas un document Word (.docx) valide.")
    limit = left = inflation_limit(len(data))
    out = io.BytesIO()
    try:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as copy:
            for info in infos:
                if info.is_dir():
                    continue
                part = b""
                if info.filename.lower().endswith(XML_SUFFIXES):
                    part = inflate(data, info, left, filename, limit)
                    left -= len(part)
                copy.writestr(info.filename, part)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError,
            OSError, ValueError) as exc:
        # A CRC that does not match is what an entry lying about its size ends in.
        raise unreadable(f"{filename}: {type(exc).__name__}: {exc}") from exc
    return out.getvalue()


HEADING_STYLES = ("Heading", "Title", "Titre")


def _heading_ids(document) -> frozenset[str]:  # noqa: ANN001 - python-docx Document
    """Ids of the heading styles. Looked up once: python-docx's ``paragraph.style`` scans
    every style of the file for each paragraph (4 ms each, minutes for a long judgment)."""
    return frozenset(style.style_id for style in document.styles
                     if (style.name or "").startswith(HEADING_STYLES))


def _row_text(row) -> str:  # noqa: ANN001 - python-docx _Row
    cells: list[str] = []
    for cell in row.cells:
        text = " ".join(cell.text.split())
        # Merged cells repeat the same cell object; keep one copy.
        if text and (not cells or cells[-1] != text):
            cells.append(text)
    return " | ".join(cells)


def read(data: bytes, filename: str, *, budget: Budget) -> list[Block]:
    """Blocks of a Word document in reading order (body paragraphs and table rows)."""
    package = _verified_package(data, filename)
    budget.check()
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(package))
        budget.check()
        headings = _heading_ids(document)
        blocks: list[Block] = []
        body = document.element.body
        for child in body.iterchildren():
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "p":
                budget.paragraph()
                paragraph = Paragraph(child, document)
                text = " ".join(paragraph.text.split())
                if text:
                    kind = "heading" if child.style in headings else "paragraph"
                    blocks.append(Block(text, kind))
            elif tag == "tbl":
                for row in Table(child, document).rows:
                    budget.paragraph()
                    text = _row_text(row)
                    if text:
                        blocks.append(Block(text, "table"))
        return blocks
    except DocumentError:
        raise
    except Exception as exc:  # python-docx raises many kinds on damaged XML
        raise unreadable(f"{filename}: {type(exc).__name__}: {exc}") from exc
