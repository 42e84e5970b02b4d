"""A dossier's synthesis as a Word document (python-docx).

Title page (juridiction, n° RG when found, date), the sections under Word's own heading
styles (the navigation pane lists them), the inventory of pièces as a table, references as a
numbered section at the end (« [n] fichier, p. N » after each point, a footnote-like list
that LibreOffice and every Word version show alike), and « Synthèse générée par IA — à
vérifier » in the header of every page. Model text is written as text runs, never markup.
"""
from __future__ import annotations

import io
from datetime import date
from typing import Any

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt, RGBColor

HEADER = "Synthèse générée par IA — à vérifier"
FLAG_LABELS = {"reference_introuvable": "référence introuvable",
               "citation_non_trouvee": "citation non retrouvée sur la page",
               "page_mal_reconnue": "page mal reconnue (lecture optique)"}
WARNING_COLOR = RGBColor(0xB0, 0x3A, 0x2E)


def _french_date(iso: str | None) -> str:
    if not iso:
        return date.today().strftime("%d/%m/%Y")
    try:
        return date.fromisoformat(iso).strftime("%d/%m/%Y")
    except ValueError:
        return iso


def to_docx(synthesis: dict[str, Any]) -> bytes:
    """The .docx bytes of ``synthesis`` (the JSON of ``GET …/synthesis``)."""
    doc = Document()
    for section in doc.sections:
        section.header.is_linked_to_previous = False
        header = section.header.paragraphs[0]
        header.text = HEADER
        header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _title_page(doc, synthesis)
    new = doc.add_section(WD_SECTION.NEW_PAGE)
    new.header.is_linked_to_previous = True  # the same warning on every page
    references: list[str] = []
    for section in synthesis.get("sections", []):
        if section.get("id") == "pieces":
            continue
        doc.add_heading(section.get("title") or "", level=1)
        items = section.get("items") or []
        if not items:
            doc.add_paragraph("Aucun élément relevé.")
        if section.get("id") == "pretentions":
            _by_party(doc, items, references)
        else:
            for item in items:
                _item(doc, item, references)
    doc.add_heading("Inventaire des pièces", level=1)
    _pieces(doc, synthesis.get("pieces") or [])
    lows = synthesis.get("low_confidence_pages") or []
    notices = synthesis.get("notices") or []
    if lows or notices:
        doc.add_heading("Points de vigilance", level=1)
        for notice in notices:
            doc.add_paragraph(notice, style="List Bullet")
        for low in lows:
            confidence = low.get("confidence")
            shown = f" (confiance {confidence:.0f} %)" if isinstance(confidence, (int, float)) else ""
            doc.add_paragraph(f"{low.get('file')}, p. {low.get('page')} : page mal reconnue{shown}.",
                              style="List Bullet")
    doc.add_heading("Références", level=1)
    if not references:
        doc.add_paragraph("Aucune référence.")
    for number, text in enumerate(references, 1):
        doc.add_paragraph(f"[{number}] {text}")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _title_page(doc: Any, synthesis: dict[str, Any]) -> None:
    doc.add_paragraph()
    title = doc.add_paragraph(style="Title")
    title.add_run("Synthèse du dossier")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    subtitle = doc.add_paragraph(synthesis.get("title") or "")
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    lines = [("Juridiction", synthesis.get("jurisdiction") or "non identifiée"),
             ("N° RG", synthesis.get("rg") or "non identifié"),
             ("Date", _french_date(synthesis.get("date")))]
    for label, value in lines:
        paragraph = doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run(f"{label} : ").bold = True
        paragraph.add_run(value)
    model = synthesis.get("model") or {}
    note = doc.add_paragraph()
    note.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = note.add_run(f"Document préparé par Plume avec le modèle « {model.get('name') or '?'} »"
                       + (" (modèle de démonstration)" if model.get("demonstration") else "")
                       + ". Chaque point renvoie aux pièces : vérifiez-les avant tout usage.")
    run.italic = True
    run.font.size = Pt(9)


def _item(doc: Any, item: dict[str, Any], references: list[str], prefix: str = "") -> None:
    paragraph = doc.add_paragraph(style="List Bullet")
    if item.get("date"):
        paragraph.add_run(f"{_french_date(item['date'])} — ").bold = True
    paragraph.add_run(prefix + (item.get("text") or ""))
    marks = []
    for ref in item.get("references") or []:
        if not ref.get("file"):
            continue
        text = f"{ref['file']}, p. {ref.get('page')}"
        if ref.get("quote"):
            text += f" : « {ref['quote']} »"
        if not ref.get("verified"):
            text += " (non vérifiée)"
        references.append(text)
        marks.append(f"[{len(references)}]")
    if marks:
        paragraph.add_run(" " + " ".join(marks))
    flags = [FLAG_LABELS.get(f, f) for f in item.get("flags") or []]
    if flags:
        warning = paragraph.add_run(f" ⚠ {', '.join(flags)}")
        warning.italic = True
        warning.font.color.rgb = WARNING_COLOR


def _by_party(doc: Any, items: list[dict[str, Any]], references: list[str]) -> None:
    parties: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        parties.setdefault(item.get("party") or "Partie non précisée", []).append(item)
    for party, claims in parties.items():
        doc.add_heading(party, level=2)
        for item in claims:
            _item(doc, item, references)


def _pieces(doc: Any, pieces: list[dict[str, Any]]) -> None:
    if not pieces:
        doc.add_paragraph("Aucune pièce.")
        return
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, label in zip(table.rows[0].cells, ("Pièce", "Type", "Date", "Auteur", "Pages")):
        cell.text = ""
        cell.paragraphs[0].add_run(label).bold = True
    for piece in pieces:
        cells = table.add_row().cells
        values = (piece.get("file") or "", piece.get("type") or "",
                  _french_date(piece["date"]) if piece.get("date") else "",
                  piece.get("author") or "", str(piece.get("pages") or ""))
        for cell, value in zip(cells, values):
            cell.text = value
