"""Real files for a dossier: text PDFs, a .docx, a .txt, and the bad files of the issue."""
from __future__ import annotations

import io
import zipfile

from docx import Document

from tests.api.attachment_files import make_encrypted_pdf, make_pdf

CONCLUSIONS = [
    ["Tribunal judiciaire de Lyon", "RG n° 24/01234", "Conclusions de M. Jean Dupont, demandeur",
     "Le bail a été signé le 2 avril 2023 entre les parties."],
    ["Le locataire a signalé des infiltrations le 10 mai 2023.",
     "M. Dupont demande la condamnation du bailleur à 15 000 euros."],
    ["PAR CES MOTIFS, il est demandé au tribunal de condamner la société Immobilière du Rhône."],
]
EXPERTISE = [
    ["Rapport d'expertise judiciaire", "L'expert a constaté une humidité de 40 % dans la chambre."],
    ["Les désordres proviennent d'un défaut d'étanchéité de la toiture."],
]


def conclusions_pdf() -> bytes:
    return make_pdf(CONCLUSIONS)


def expertise_pdf() -> bytes:
    return make_pdf(EXPERTISE)


def courrier_docx() -> bytes:
    document = Document()
    document.add_heading("Courrier du bailleur", level=1)
    document.add_paragraph("La société Immobilière du Rhône conteste toute responsabilité.")
    document.add_paragraph("Elle soutient que l'entretien de la toiture incombait au locataire.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def note_txt() -> bytes:
    return "Note d'audience : l'affaire est renvoyée au 3 juin 2024.".encode()


def zip_bomb_docx() -> bytes:
    """A .docx whose one member inflates to 200 MB (about 200 KB on disk)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<w:document>" + b"a" * 200_000_000 + b"</w:document>")
    return buffer.getvalue()


def good_dossier() -> dict[str, bytes]:
    return {"conclusions.pdf": conclusions_pdf(), "expertise.pdf": expertise_pdf(),
            "courrier.docx": courrier_docx(), "note.txt": note_txt()}


BAD_FILES = {
    "protege.pdf": make_encrypted_pdf(),
    "abime.docx": make_pdf()[:0] + b"PK\x03\x04" + b"\x00" * 50,
    "vide.pdf": b"",
    "image.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,
    "animation.gif": b"GIF89a" + b"\x00" * 100,
}
