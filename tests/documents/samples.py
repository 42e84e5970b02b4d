"""Real .docx and .pdf files built in memory for the tests (no binary fixtures in git)."""
from __future__ import annotations

import io


def pdf_bytes(pages: list[list[str]]) -> bytes:
    """A valid PDF whose pages show the given lines (Helvetica, WinAnsi so accents survive)."""
    objects: list[bytes] = []
    font_id = 3
    page_ids = []
    content_ids = []
    next_id = 4
    for _ in pages:
        page_ids.append(next_id)
        content_ids.append(next_id + 1)
        next_id += 2
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                   b"/Encoding /WinAnsiEncoding >>")
    for lines, pid, cid in zip(pages, page_ids, content_ids):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                       f"/Resources << /Font << /F1 {font_id} 0 R >> >> "
                       f"/Contents {cid} 0 R >>".encode())
        ops = ["BT", "/F1 11 Tf", "14 TL", "50 800 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("cp1252")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def encrypted_pdf_bytes(pages: list[list[str]], password: str = "secret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(pages))))
    writer.encrypt(user_password=password, owner_password=password + "-owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes(blocks: list[tuple[str, object]]) -> bytes:
    """A Word file: ("heading", text), ("paragraph", text) or ("table", [[cell, ...], ...])."""
    import docx

    document = docx.Document()
    for kind, value in blocks:
        if kind == "heading":
            document.add_heading(str(value), level=1)
        elif kind == "paragraph":
            document.add_paragraph(str(value))
        elif kind == "table":
            rows = list(value)  # type: ignore[call-overload]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _image_pdf(images: list[tuple[int, int, bytes]]) -> bytes:
    """A PDF of A4 pages each showing one greyscale image (width, height, 8-bit pixels):
    what a scanner makes, without any text layer."""
    import zlib

    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    for width, height, pixels in images:
        page_id, content_id, image_id = len(objects) + 1, len(objects) + 2, len(objects) + 3
        kids.append(f"{page_id} 0 R")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                       f"/Resources << /XObject << /Im0 {image_id} 0 R >> >> "
                       f"/Contents {content_id} 0 R >>".encode())
        content = b"q 595 0 0 842 0 0 cm /Im0 Do Q"
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        packed = zlib.compress(pixels, 6)
        objects.append(f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} "
                       f"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode "
                       f"/Length {len(packed)} >>\nstream\n".encode() + packed + b"\nendstream")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(images)} >>".encode()
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def rendered_page(lines: list[str], dpi: int = 200) -> tuple[int, int, bytes]:
    """The lines typeset on an A4 page (by :func:`pdf_bytes`) and rendered to greyscale
    pixels by poppler, as a scanner would see the printed page."""
    import subprocess

    pgm = subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-"],
                         input=pdf_bytes([lines]), capture_output=True, check=True).stdout
    # PGM: "P5\nW H\n255\n" then the pixels.
    magic, size, maxval, pixels = pgm.split(b"\n", 3)
    width, height = (int(n) for n in size.split())
    assert magic == b"P5" and maxval == b"255" and len(pixels) == width * height
    return width, height, pixels


def noise_page(width: int = 1240, height: int = 1754, seed: int = 7) -> tuple[int, int, bytes]:
    """A page of speckles and smudges: what a bad photocopy of nothing looks like."""
    import numpy

    rng = numpy.random.default_rng(seed)
    pixels = numpy.full((height, width), 255, dtype=numpy.uint8)
    blots = rng.random((-(-height // 8), -(-width // 8))) < 0.25
    pixels[numpy.kron(blots, numpy.ones((8, 8), dtype=bool))[:height, :width]] = 0
    return width, height, pixels.tobytes()


def scanned_pdf_bytes(pages: list[list[str] | None], dpi: int = 200) -> bytes:
    """A scanned PDF: each page the given lines rendered to an image, or noise (None)."""
    return _image_pdf([noise_page() if lines is None else rendered_page(lines, dpi)
                       for lines in pages])


def mixed_pdf_bytes(pages: list[tuple[str, list[str] | None]]) -> bytes:
    """Text pages ("text", lines) and scanned pages ("scan", lines or None), in order."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for kind, lines in pages:
        data = pdf_bytes([lines or []]) if kind == "text" else scanned_pdf_bytes([lines])
        writer.add_page(PdfReader(io.BytesIO(data)).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


ODT_CONTENT = ('<?xml version="1.0" encoding="UTF-8"?>'
               '<office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'office:version="1.3"><office:body><office:text>{body}</office:text>'
               '</office:body></office:document-content>')
ODT_MANIFEST = ('<?xml version="1.0" encoding="UTF-8"?>'
                '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
                'manifest:1.0" manifest:version="1.3"><manifest:file-entry '
                'manifest:full-path="/" manifest:media-type="application/vnd.oasis.'
                'opendocument.text"/><manifest:file-entry manifest:full-path="content.xml" '
                'manifest:media-type="text/xml"/>{extra}</manifest:manifest>')


def odt_bytes(body_xml: str, *, manifest_extra: str = "") -> bytes:
    """An OpenDocument text whose office:text holds ``body_xml`` (as LibreOffice lays it out:
    the stored mimetype first, then the manifest and content)."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", ODT_MANIFEST.format(extra=manifest_extra))
        archive.writestr("content.xml", ODT_CONTENT.format(body=body_xml))
    return out.getvalue()


def image_bytes(pages: list[list[str] | None], format: str, dpi: int = 200) -> bytes:
    """Pages photographed or scanned to an image file (« JPEG », « PNG », or « TIFF » with one
    frame per page): the lines typeset and rendered by poppler, or noise (None)."""
    from PIL import Image

    frames = [Image.frombytes("L", (width, height), pixels) for width, height, pixels in
              (noise_page() if lines is None else rendered_page(lines, dpi) for lines in pages)]
    out = io.BytesIO()
    extra = {"save_all": True, "append_images": frames[1:], "compression": "tiff_deflate"} \
        if format == "TIFF" else {}
    frames[0].save(out, format=format, dpi=(dpi, dpi), **extra)
    return out.getvalue()


def png_bomb() -> bytes:
    """A PNG a few hundred bytes long declaring 100,000 × 100,000 pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))
