"""Which of a dossier's formats a file is: by its content, which its name must agree with.

A dossier takes PDF (text or scanned), Word (.docx), OpenDocument (.odt), plain text
(.txt), mail files (.eml, .msg) and images of pages (.jpg, .png, .tiff). The extension says what the user believes she sent;
the first bytes say what it is. When they disagree the file is refused as renamed rather
than read as something else (a PDF named « .txt » is not a text file).
"""
from __future__ import annotations

from pathlib import PurePath

from .errors import encrypted, unsupported

FORMATS = ("pdf", "docx", "odt", "txt", "eml", "msg", "jpg", "png", "tiff")
EXTENSIONS = {f".{name}": name for name in FORMATS} | {".jpeg": "jpg", ".tif": "tiff"}
IMAGES = ("jpg", "png", "tiff")

UNSUPPORTED_MESSAGE = ("Ce type de fichier n'est pas pris en charge dans un dossier : "
                       "PDF (y compris numérisé), Word (.docx), OpenDocument (.odt), "
                       "texte (.txt), courriels (.eml, .msg) et images (.jpg, .png, .tiff) "
                       "le sont.")
RENAMED_MESSAGE = ("Le contenu de ce fichier ({found}) ne correspond pas à son extension "
                   "« {extension} » : renommez-le avec la bonne extension.")

# What the first bytes say, and which extensions may carry it.
PDF, ZIP, OLE, TEXT = "PDF", "archive zip", "document Office (OLE)", "texte"
CONTAINERS = {"pdf": PDF, "docx": ZIP, "odt": ZIP, "msg": OLE, "txt": TEXT, "eml": TEXT,
              "jpg": "image JPEG", "png": "image PNG", "tiff": "image TIFF"}
# Content no dossier format holds, named so the message says what the file is.
OTHER_MAGIC = {b"\x89PNG": "image PNG", b"\xff\xd8\xff": "image JPEG", b"GIF8": "image GIF",
               b"II*\x00": "image TIFF", b"MM\x00*": "image TIFF", b"{\\rtf": "document RTF",
               b"Rar!": "archive RAR", b"7z\xbc\xaf": "archive 7z", b"\x1f\x8b": "archive gzip"}


def container(data: bytes) -> str:
    """What the first bytes of ``data`` say it is."""
    head = data[:8]
    if head.startswith(b"PK\x03\x04"):
        return ZIP
    # Some PDF writers put a few bytes before the header, which PDF readers accept; such a
    # file still ends with « %%EOF » (a text merely quoting « %PDF- » does not).
    if head.startswith(b"%PDF-") or (b"%PDF-" in data[:1024] and b"%%EOF" in data[-2048:]):
        return PDF
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return OLE
    for magic, name in OTHER_MAGIC.items():
        if head.startswith(magic):
            return name
    return TEXT


def detect(data: bytes, filename: str) -> str:
    """The dossier format of ``data`` (one of :data:`FORMATS`), or a 415 DocumentError for
    another type or a renamed file (422 for an encrypted Word file)."""
    extension = PurePath(filename).suffix.lower()
    expected = EXTENSIONS.get(extension)
    found = container(data)
    if expected is None:
        raise unsupported(f"{filename}: unsupported extension {extension!r} ({found})",
                          UNSUPPORTED_MESSAGE)
    if found == CONTAINERS[expected]:
        return expected
    if found == OLE and expected in {"docx", "odt"}:
        # Office writes a password-protected .docx as an OLE container.
        raise encrypted(f"{filename}: OLE container with a .{expected} name (encrypted)")
    raise unsupported(f"{filename}: {found} content under {extension}",
                      RENAMED_MESSAGE.format(found=found, extension=extension))
