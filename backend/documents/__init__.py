"""The documents room: the text of a .docx or .pdf file, in reading order, with its places.

Other rooms call :func:`read_document` and get a :class:`Document` whose paragraphs keep
their kind (heading, paragraph, table row) and, for PDF, their page number, so a summary
or a decision can point back to « p. 3 » or « § 12 ». Anything wrong with the file
(too big, encrypted, unreadable, no text, not a .docx/.pdf) is a :class:`DocumentError`
carrying a French message for the user; no half-read document ever comes out.

Every file has a budget (:mod:`.budget`): its unpacked size, counted while inflating and
relative to the file; paragraphs; pages; seconds. Files from users are read with
``isolated=True``: in a child process with hard memory and time limits, several side by
side (:mod:`.sandbox`), so a heavy file neither exhausts a worker nor holds up the others.

Used by the Outlook pane's attachment summaries (through the gateway) and by case-law
ingestion (:mod:`backend.retrieval`).

A dossier's files (PDF, scanned PDF, .docx, .odt, .txt, .eml, .msg, .jpg, .png, .tiff) are
read another way,
for long work: :func:`inspect` counts a file's pages and scans in the request, and
:func:`read_pages` yields its :class:`Page` s one at a time, scans recognised by Tesseract
with a confidence (:mod:`.pages`, :mod:`.ocr`), always in a sandbox child.
"""
from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Iterator, Literal, Mapping

from ..cooperative import offload
from . import budget, formats, sandbox
from .errors import DocumentError, empty, encrypted, too_large, unreadable, unsupported
from .ocr import DPI as OCR_DPI
from .settings import LOW_CONFIDENCE

__all__ = ["Document", "Paragraph", "DocumentError", "read_document", "SUPPORTED_EXTENSIONS",
           "init_app", "FileInfo", "Page", "inspect", "read_pages", "LOW_CONFIDENCE",
           "low_confidence", "FORMATS", "PAGE_SECONDS", "attachments"]

FORMATS = formats.FORMATS
# Wall-clock seconds one page may take in the sandbox (a scan: render and recognise).
PAGE_SECONDS = 90.0
# Scanned pages of one file recognised at once, at most (about 125 MB and a core each).
MAX_WORKERS = 4

SUPPORTED_EXTENSIONS = (".docx", ".pdf")
Kind = Literal["heading", "paragraph", "table"]


@dataclass(frozen=True)
class Paragraph:
    """One block of text: a heading, a paragraph or a table row (cells joined by « | »)."""

    text: str
    kind: Kind = "paragraph"
    page: int | None = None


@dataclass
class Document:
    """The text of a file, in reading order.

    ``pages`` is the page count of a PDF; Word files have no fixed pages (None).
    """

    filename: str
    format: Literal["docx", "pdf"]
    paragraphs: list[Paragraph] = field(default_factory=list)
    pages: int | None = None

    @property
    def text(self) -> str:
        """Plain text, one paragraph per line, no markers."""
        return "\n".join(p.text for p in self.paragraphs)

    def as_marked_text(self) -> str:
        """Text with places a reader (or a model) can cite.

        PDF: a « [p. N] » line opens each page. Word: each paragraph starts with « [§ N] »
        (headings and table rows are numbered too, as Word users see them in order).
        """
        lines: list[str] = []
        if self.format == "pdf":
            page = None
            for paragraph in self.paragraphs:
                if paragraph.page != page:
                    page = paragraph.page
                    if lines:
                        lines.append("")
                    lines.append(f"[p. {page}]")
                lines.append(paragraph.text)
        else:
            for number, paragraph in enumerate(self.paragraphs, start=1):
                lines.append(f"[§ {number}] {paragraph.text}")
        return "\n".join(lines)


def detect_format(data: bytes, filename: str) -> Literal["docx", "pdf"]:
    """The format by content (magic bytes), which the extension must agree with.

    A renamed file is refused: a PDF named « .docx » or « .txt » is not read as a PDF,
    since the name is what the user and the pane believe they sent.
    """
    name = filename.lower()
    head = data[:8]
    is_zip = head.startswith(b"PK\x03\x04")
    # Some PDF writers put a few bytes before the header; PDF readers accept them.
    if head.startswith(b"%PDF-") or (not is_zip and b"%PDF-" in data[:1024]):
        if name.endswith(".pdf"):
            return "pdf"
        raise unsupported(f"{filename}: PDF content under another extension",
                          "Ce fichier est un PDF dont le nom ne se termine pas par « .pdf » : "
                          "renommez-le en .pdf pour le faire lire.")
    if is_zip:
        if name.endswith(".docx"):
            return "docx"
        raise unsupported(f"{filename}: zip content under another extension",
                          "Ce fichier est une archive (zip) qui ne porte pas l'extension .docx : "
                          "seuls les documents Word (.docx) et PDF sont pris en charge.")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        # An OLE container: a legacy .doc, or an OOXML file encrypted with a password.
        if name.endswith(".docx"):
            raise encrypted(f"{filename}: OLE container with a .docx name (encrypted OOXML)")
        raise unsupported(f"{filename}: legacy OLE document",
                          "Les anciens documents Word (.doc) ne sont pas pris en charge : "
                          "enregistrez-le au format .docx.")
    if name.endswith(SUPPORTED_EXTENSIONS):
        raise unreadable(f"{filename}: content does not match its extension")
    raise unsupported(f"{filename}: unsupported type (magic {head!r})")


def read_document(data: bytes, filename: str, *, max_bytes: int, max_pages: int,
                  max_seconds: float = budget.MAX_SECONDS,
                  max_paragraphs: int = budget.MAX_PARAGRAPHS,
                  isolated: bool = False) -> Document:
    """Read a .docx or .pdf file given as bytes.

    Raises :class:`DocumentError`: 413 when ``data`` exceeds ``max_bytes``, a PDF has more
    than ``max_pages`` pages, the file unpacks to more than its budget (relative to its
    size, counted while inflating), holds more than ``max_paragraphs`` blocks or takes more
    than ``max_seconds`` to read; 415 for another format or a renamed file; 422 when the
    file is encrypted, damaged or holds no text (a scanned PDF without OCR).

    ``isolated`` reads the file in a child process with hard time and memory limits (see
    :mod:`.sandbox`): for files from users; the administrator's own folders are read here.
    """
    if len(data) > max_bytes:
        raise too_large(f"{filename}: {len(data)} bytes > {max_bytes}")
    if not data:
        raise empty(f"{filename}: zero bytes")
    kind = detect_format(data, filename)
    if isolated:
        raw, pages = sandbox.read_isolated(kind, data, filename, max_bytes=max_bytes,
                                           max_pages=max_pages, max_seconds=max_seconds,
                                           max_paragraphs=max_paragraphs)
        blocks = [Paragraph(text, block_kind, page) for text, block_kind, page in raw]
    else:
        # Parsing a long file is seconds of CPU: off the event loop of a gevent worker.
        work = budget.Budget(filename, max_seconds=max_seconds, max_paragraphs=max_paragraphs)
        found, pages = offload(sandbox.parse, kind, data, filename, max_pages, work)
        blocks = [Paragraph(p.text, p.kind, p.page) for p in found]
    paragraphs = [p for p in blocks if p.text.strip()]
    if not paragraphs:
        if kind == "pdf":
            raise empty(f"{filename}: no extractable text",
                        "Ce PDF ne contient pas de texte exploitable (document numérisé sans "
                        "reconnaissance de caractères ?).")
        raise empty(f"{filename}: no text")
    return Document(filename=filename, format=kind, paragraphs=paragraphs, pages=pages)


def init_app(app) -> None:  # noqa: ANN001 - kept for symmetry with the other rooms
    """Nothing to set up: reading files needs no state."""


@dataclass(frozen=True)
class FileInfo:
    """What a dossier's file holds, found quickly (:func:`inspect`).

    ``pages``: a PDF's pages, or the sections of a file without fixed pages (see
    :func:`read_pages`); ``ocr_pages``: PDF pages without a text layer, to recognise.
    ``format`` is None when the type itself is refused; ``error`` says why a file cannot be
    read (its ``to_dict()`` is the JSON error shape); ``chars``: each page's characters,
    whitespace folded (estimated for a PDF; None for a page to recognise), for an estimate.
    """

    name: str
    format: str | None
    size: int
    pages: int | None = None
    ocr_pages: int = 0
    error: DocumentError | None = None
    chars: tuple[int | None, ...] = ()


@dataclass(frozen=True)
class Page:
    """One page of a dossier's file: the unit a reference « [file, page] » cites.

    ``ocr``: the text was recognised from an image; ``confidence``: Tesseract's mean word
    confidence (0-100) for such a page, None otherwise; ``headings``: the headings that
    start on this page (Word, OpenDocument, text), in order.
    """

    number: int
    text: str
    ocr: bool = False
    confidence: float | None = None
    headings: list[str] = field(default_factory=list)


def low_confidence(config: Mapping[str, Any]) -> float:
    """The confidence below which a recognised page is flagged, from the app's configuration
    (``PLUME_OCR_MIN_CONFIDENCE``; :data:`LOW_CONFIDENCE` when unset)."""
    return float(config.get("OCR_MIN_CONFIDENCE", LOW_CONFIDENCE))


def _checked_format(data: bytes, filename: str, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise too_large(f"{filename}: {len(data)} bytes > {max_bytes}")
    if not data:
        raise empty(f"{filename}: zero bytes", "Ce fichier est vide.")
    return formats.detect(data, filename)


def inspect(data: bytes, filename: str, *, max_bytes: int, max_pages: int,
            max_seconds: float = budget.MAX_SECONDS) -> FileInfo:
    """Format, size, pages and scans of a dossier's file, in a sandbox child.

    Quick enough for the upload request (the PDF's text is not extracted: scans are found
    from the page contents). Never raises for a bad file: ``error`` is set (too large, too
    many pages, encrypted, damaged, empty, unsupported or renamed). Raises only
    ServiceUnavailable (503) when every reader of this process stays busy.
    """
    kind = formats.EXTENSIONS.get(PurePath(filename).suffix.lower())
    try:
        kind = _checked_format(data, filename, max_bytes)
        found = sandbox.inspect_isolated(kind, data, filename, max_pages=max_pages,
                                         max_seconds=max_seconds)
    except DocumentError as error:
        return FileInfo(filename, kind, len(data), error=error)
    return FileInfo(filename, kind, len(data), found["pages"], found["ocr_pages"],
                    chars=tuple(found.get("chars") or ()))


def attachments(data: bytes, filename: str, *, max_bytes: int,
                max_seconds: float = budget.MAX_SECONDS) -> list[tuple[str, bytes]]:
    """``(name, bytes)`` of the files attached to a mail (.eml, .msg), read in a sandbox
    child, for a dossier to read each as a file of its own; names without folders. An
    attached Outlook message is left out (it is not a file); an attached .eml is a file.
    [] for a file that is not a mail. Raises :class:`DocumentError` for a damaged mail or
    attachments over ``max_bytes`` in all."""
    kind = _checked_format(data, filename, max_bytes)
    if kind not in ("eml", "msg"):
        return []
    return sandbox.attachments_isolated(kind, data, filename, max_bytes=max_bytes,
                                        max_seconds=max_seconds)


def read_pages(data: bytes, filename: str, *, max_bytes: int, max_pages: int, ocr: bool = True,
               start_page: int = 1, end_page: int | None = None, workers: int = 1,
               dpi: int = OCR_DPI, page_seconds: float = PAGE_SECONDS) -> Iterator[Page]:
    """The pages ``start_page``..``end_page`` (inclusive; None: the last) of a dossier's file,
    one at a time, read in a sandbox child.

    PDF: real page numbers; a page without a text layer is recognised by Tesseract (French)
    unless ``ocr`` is False (its text is then what the layer holds, often nothing), with a
    confidence (0 for a page where nothing could be read: blank, noise, or a page poppler
    cannot draw; such pages are kept, for the caller to flag); ``workers`` such pages are
    recognised at once (one core each, at most :data:`MAX_WORKERS`: give the cores this
    file may use; a caller may instead read page ranges in parallel, not both). Images
    (.jpg, .png, .tiff): one page per frame, recognised like a scan. Other formats: sections
    of about 3,000 characters numbered from 1, whole paragraphs, with the headings that
    start in them; mail files start with De / À / Cc / Date / Objet, their attachments are
    named (:func:`attachments` gives them as files).

    Raises :class:`DocumentError` (French message) before the first page for a file that is
    too large, has more than ``max_pages`` pages, is encrypted, damaged, empty, unsupported
    or renamed, and during the pages when a page takes more than ``page_seconds``; 503 when
    Tesseract or its French data is missing, or every reader stays busy.
    """
    kind = _checked_format(data, filename, max_bytes)
    reading = sandbox.pages_isolated(kind, data, filename, max_pages=max_pages,
                                     start=start_page, end=end_page, ocr=ocr,
                                     workers=max(1, min(workers, MAX_WORKERS)), dpi=dpi,
                                     page_seconds=page_seconds)
    # Closed at once when the caller stops early: the child and its programs end with it.
    with closing(reading):
        for found in reading:
            yield Page(found["number"], found["text"], found["ocr"], found["confidence"],
                       list(found["headings"]))
