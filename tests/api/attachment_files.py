"""Real attachments for the Outlook tests: a .docx written by python-docx and a PDF written
by hand (a few objects, a correct cross-reference table) that pypdf reads like any other.

Shared by the API tests and the browser tests so both summarise the very same files.
"""
from __future__ import annotations

import io

from docx import Document
from pypdf import PdfReader, PdfWriter

DOCX_PARAGRAPHS = [
    ("Conclusions d'intimé", "heading"),
    ("Pour : M. Jean Dupont, intimé, représenté par Maître Claire Martin.", "paragraph"),
    ("Contre : la société Immobilière du Rhône, appelante.", "paragraph"),
    ("Le tribunal judiciaire de Lyon a justement retenu la responsabilité du bailleur.", "paragraph"),
    ("PAR CES MOTIFS, confirmer le jugement en toutes ses dispositions.", "paragraph"),
]

PDF_PAGES = [
    ["Tribunal judiciaire de Lyon", "Ordonnance de mise en état", "RG n° 24/01234"],
    ["Le juge de la mise en état fixe la clôture au 12 mars 2026.",
     "Les parties concluront avant le 15 février 2026."],
]


def make_docx() -> bytes:
    """A Word file with a heading and four paragraphs."""
    document = Document()
    for text, kind in DOCX_PARAGRAPHS:
        if kind == "heading":
            document.add_heading(text, level=1)
        else:
            document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def make_pdf(pages: list[list[str]] | None = None, *, padding: int = 0) -> bytes:
    """A text PDF, one list of lines per page (Helvetica, WinAnsi so accents survive).

    ``padding`` adds that many bytes of PDF comment, for a file heavy like a scan.
    """
    pages = PDF_PAGES if pages is None else pages
    objects: list[bytes] = []
    first_page = 4
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                   b"/Encoding /WinAnsiEncoding >>")
    for index, lines in enumerate(pages):
        content = b"BT /F1 12 Tf 72 760 Td 16 TL\n" + b"".join(
            _pdf_string(line) + b" Tj T*\n" for line in lines) + b"ET"
        page_number = first_page + 2 * index
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                       f"/Resources << /Font << /F1 3 0 R >> >> "
                       f"/Contents {page_number + 1} 0 R >>".encode())
        objects.append(b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n"
                       + content + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    for _ in range(padding // 80):
        out.write(b"%" + b"x" * 78 + b"\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
              .encode())
    return out.getvalue()


def make_encrypted_pdf() -> bytes:
    """The same PDF, protected by a password (pypdf writes it)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf())))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_damaged_docx() -> bytes:
    """A zip header and nothing after it: what a truncated download looks like."""
    return make_docx()[:200]
