"""Plain text files (.txt): decoded as UTF-8, else Windows-1252, cut into paragraphs.

French text from Windows tools is still often Windows-1252; a byte sequence that is not
valid UTF-8 is read as such (Latin-1 for the five bytes Windows-1252 leaves undefined).
A file holding NUL bytes or many control characters is not text and is refused.
"""
from __future__ import annotations

import codecs
import re
from typing import NamedTuple

from .budget import Budget
from .errors import unreadable

# Control characters (other than tab, line feeds, form feed) tolerated per character of text.
MAX_CONTROL_RATIO = 0.01
BLANK_LINE = re.compile(r"\n[ \t\f\v]*\n")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# A heading of a plain-text legal document: a short line in capitals, or numbered in roman
# numerals or capital letters (« I. », « II - », « A) ») and not ending a sentence; arabic
# numbers number paragraphs (« 1. Par acte du… »), not headings.
NUMBERED_HEADING = re.compile(r"^(?:[IVXLC]+|[A-H])\s*[.)\-–]\s+\S")
NOT_TEXT_MESSAGE = "Ce fichier ne semble pas être un fichier texte."


class Block(NamedTuple):
    text: str
    kind: str
    page: int | None = None


def decode(data: bytes, filename: str) -> str:
    """The text of ``data``: UTF-8 (with or without BOM), UTF-16 with a BOM, else
    Windows-1252; refused when it is binary."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise unreadable(f"{filename}: bad UTF-16: {exc}", NOT_TEXT_MESSAGE) from exc
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                text = data.decode("latin-1")
    controls = len(CONTROL.findall(text))
    if "\x00" in text or controls > MAX_CONTROL_RATIO * len(text):
        raise unreadable(f"{filename}: {controls} control characters, not text", NOT_TEXT_MESSAGE)
    return text


def is_heading(paragraph: str) -> bool:
    """A one-line paragraph that reads as a heading."""
    if "\n" in paragraph or len(paragraph) > 100 or paragraph.endswith((".", ",", ";", ":")):
        return False
    letters = [c for c in paragraph if c.isalpha()]
    if len(letters) >= 3 and all(c.isupper() for c in letters):
        return True
    return bool(NUMBERED_HEADING.match(paragraph)) and len(paragraph) <= 80


def blocks_of_text(text: str, budget: Budget) -> list[Block]:
    """Paragraphs (separated by blank lines), their lines joined, headings recognised."""
    blocks: list[Block] = []
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    for raw in BLANK_LINE.split(text):
        lines = [" ".join(line.split()) for line in raw.strip().splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            continue
        budget.paragraph()
        if len(lines) > 1 and is_heading(lines[0]):
            # A heading directly over its paragraph, without a blank line between.
            blocks.append(Block(lines[0], "heading"))
            lines = lines[1:]
        paragraph = " ".join(lines)
        blocks.append(Block(paragraph, "heading" if is_heading(paragraph) else "paragraph"))
    return blocks


def read(data: bytes, filename: str, *, budget: Budget) -> list[Block]:
    """Blocks of a plain text file."""
    return blocks_of_text(decode(data, filename), budget)
