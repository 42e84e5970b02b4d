"""Long documents: number the paragraphs, cut them into parts that fit the model's window.

Each paragraph carries a « [§ N] » marker (kept when the documents room already put one,
along with its « [p. N] » page markers), so partial summaries can point back to the
passage and the final summary keeps those pointers. Parts are cut on paragraph
boundaries; a paragraph longer than a part is cut on sentence ends, then on spaces.
"""
from __future__ import annotations

import re

from ..llm.tokens import chars_for_tokens

_PARAGRAPH_MARK = re.compile(r"\[§\s*\d+\]")
_PARAGRAPH_SPLIT = re.compile(r"\n\s*\n|\n(?=\s*\[(?:§|p\.)\s*\d+\])")
_SENTENCE_END = re.compile(r"(?<=[.!?;:»])\s+")

# A model call for a part is worth making only with this much room for the text.
MIN_PART_TOKENS = 200


def number_paragraphs(text: str) -> str:
    """``text`` with a « [§ N] » marker before each paragraph (unless it already has them)."""
    if _PARAGRAPH_MARK.search(text):
        return text
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    if len(paragraphs) <= 1:
        paragraphs = [p.strip() for p in text.splitlines() if p.strip()]
    return "\n\n".join(f"[§ {n}] {p}" for n, p in enumerate(paragraphs, 1))


def _split_long(paragraph: str, limit: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(paragraph):
        while len(sentence) > limit:  # no sentence end in sight: cut on a space
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:cut])
            sentence = sentence[cut:].lstrip()
        if current and len(current) + 1 + len(sentence) > limit:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}" if current else sentence
    if current:
        pieces.append(current)
    return pieces


def split_parts(text: str, part_tokens: int) -> list[str]:
    """Consecutive parts of ``text``, each within ``part_tokens`` by the token estimate."""
    limit = chars_for_tokens(part_tokens)
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for paragraph in (p.strip() for p in _PARAGRAPH_SPLIT.split(text)):
        if not paragraph:
            continue
        for piece in (_split_long(paragraph, limit) if len(paragraph) > limit else [paragraph]):
            if current and size + len(piece) + 2 > limit:
                parts.append("\n\n".join(current))
                current, size = [], 0
            current.append(piece)
            size += len(piece) + 2
    if current:
        parts.append("\n\n".join(current))
    return parts
