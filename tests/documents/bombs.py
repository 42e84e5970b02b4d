"""Word files that cost far more than their size: built in memory, as an attacker would.

- :func:`lying_docx`: a real .docx whose ``word/document.xml`` inflates to ``inflated``
  bytes while its local header and central directory declare ``declared`` bytes.
- :func:`dense_docx`: an honest .docx whose few kilobytes hold megabytes of paragraphs.
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib

from .samples import docx_bytes

BODY_OPEN = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
             b"<w:body>")
BODY_CLOSE = b"</w:body></w:document>"
PARAGRAPH = (b"<w:p><w:r><w:t>Le tribunal statue sur la demande de la partie civile.</w:t>"
             b"</w:r></w:p>")


def _with_document(document: bytes | None, chunks=None) -> bytes:
    """A copy of a real Word file whose main part is ``document`` (or the ``chunks``)."""
    template = zipfile.ZipFile(io.BytesIO(docx_bytes([("paragraph", "modèle")])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info in template.infolist():
            if info.filename != "word/document.xml":
                archive.writestr(info.filename, template.read(info.filename))
        target = zipfile.ZipInfo("word/document.xml")
        target.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(target, "w") as entry:
            for chunk in chunks or [document]:
                entry.write(chunk)
    return out.getvalue()


def _paragraph_chunks(total: int):
    yield BODY_OPEN
    block = PARAGRAPH * 8192
    written = 0
    while written < total:
        yield block
        written += len(block)
    yield BODY_CLOSE


def dense_docx(inflated: int) -> bytes:
    """A valid Word file with about ``inflated`` bytes of real paragraphs (deflates ~300:1)."""
    return _with_document(None, _paragraph_chunks(inflated))


def paragraphs_docx(count: int) -> bytes:
    """A valid Word file with ``count`` short paragraphs."""
    return _with_document(BODY_OPEN + PARAGRAPH * count + BODY_CLOSE)


def lying_docx(inflated: int, declared: int = 1000) -> bytes:
    """``dense_docx(inflated)`` whose headers claim ``word/document.xml`` is ``declared`` bytes
    (and carry the CRC of those first bytes, so a reader that stops there sees no damage)."""
    data = bytearray(dense_docx(inflated))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.getinfo("word/document.xml")
    with archive.open(info) as entry:
        crc = zlib.crc32(entry.read(declared))
    # Local file header: CRC at +14, uncompressed size at +22.
    struct.pack_into("<II", data, info.header_offset + 14, crc, info.compress_size)
    struct.pack_into("<I", data, info.header_offset + 22, declared)
    # Central directory record of the same entry: CRC at +16, uncompressed size at +24.
    name = info.filename.encode()
    central = data.index(b"PK\x01\x02" + data[data.index(b"PK\x01\x02") + 4:][:0])
    while True:
        (name_len,) = struct.unpack_from("<H", data, central + 28)
        if data[central + 46:central + 46 + name_len] == name:
            break
        extra_len, comment_len = struct.unpack_from("<HH", data, central + 30)
        central += 46 + name_len + extra_len + comment_len
    struct.pack_into("<I", data, central + 16, crc)
    struct.pack_into("<I", data, central + 24, declared)
    return bytes(data)


def odt_bomb(inflated: int) -> bytes:
    """An OpenDocument text whose content.xml inflates to about ``inflated`` bytes of
    paragraphs (a few hundred kilobytes on disk)."""
    from .samples import odt_bytes

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(odt_bytes("<text:p>x</text:p>"))) as template, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info in template.infolist():
            if info.filename != "content.xml":
                archive.writestr(info, template.read(info.filename))
        target = zipfile.ZipInfo("content.xml")
        target.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(target, "w") as entry:
            entry.write(b'<office:document-content xmlns:office="urn:oasis:names:tc:'
                        b'opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:'
                        b'opendocument:xmlns:text:1.0"><office:body><office:text>')
            block = b"<text:p>Le tribunal statue sur la demande.</text:p>" * 8192
            written = 0
            while written < inflated:
                entry.write(block)
                written += len(block)
            entry.write(b"</office:text></office:body></office:document-content>")
    return out.getvalue()
