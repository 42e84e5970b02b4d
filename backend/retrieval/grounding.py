"""Grounded drafting: numbered sources for the model, and a check of what it wrote.

The gateway's ``draft`` task gives the model the passages of :func:`sources_for` as
sources [1]…[n] and asks it to cite them. :func:`check` then verifies the answer on
the server: every ``[n]`` must name a given source, and every quoted phrase (« … » or
"…") must appear word for word in the source cited next to it (or, with no citation
nearby, in one of the sources). Whitespace, apostrophes and quote marks are
normalised; « […] » inside a quotation marks an elision, each part must still appear,
in order. Anything else is flagged for the user, never silently dropped.
"""
from __future__ import annotations

import re
from typing import Any

CITATION = re.compile(r"\[(\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*)\]")
QUOTE = re.compile(r"«\s*([^»]{1,1000}?)\s*»|“([^”]{1,1000}?)”|\"([^\"\n]{1,600}?)\"")
ELISION = re.compile(r"\s*(?:\[\s*(?:…|\.\.\.)\s*\]|\(\s*(?:…|\.\.\.)\s*\))\s*")
NEARBY = 160  # characters after (or before) a quotation where its citation is looked for
MIN_QUOTE_CHARS = 3


def normalise(text: str) -> str:
    """Text compared for verbatim quotes: one kind of apostrophe, quote and space; no case change."""
    text = (text.replace("’", "'").replace("‘", "'").replace("`", "'").replace("…", "...")
            .replace("«", '"').replace("»", '"').replace("“", '"').replace("”", '"')
            .replace("\u00a0", " ").replace("\u202f", " ").replace("‐", "-").replace("–", "-"))
    return " ".join(text.split())


def _numbers(group: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*[,;]\s*", group):
        bounds = re.split(r"\s*[–-]\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
            low, high = int(bounds[0]), int(bounds[1])
            if 0 < high - low < 20:
                numbers.extend(range(low, high + 1))
                continue
        numbers.extend(int(b) for b in bounds if b.isdigit())
    return numbers


def _appears(quote: str, source_text: str) -> bool:
    haystack = normalise(source_text)
    position = 0
    for part in ELISION.split(quote):
        part = normalise(part).strip(" .,;:")
        if not part:
            continue
        found = haystack.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


def _cited_near(text: str, start: int, end: int) -> list[int]:
    """Source numbers cited right after a quotation (same sentence), else right before it."""
    after = text[end:end + NEARBY]
    sentence_end = re.search(r"[.!?](\s|$)", after)
    window = after[:sentence_end.start() + 1] if sentence_end else after
    numbers = [n for m in CITATION.finditer(window) for n in _numbers(m.group(1))]
    if numbers:
        return numbers[:1] if window.lstrip().startswith("[") else numbers
    before = text[max(0, start - NEARBY):start]
    found = list(CITATION.finditer(before))
    if found and not re.search(r"[.!?]\s", before[found[-1].end():]):
        return _numbers(found[-1].group(1))
    return []


def check(text: str, sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flags for the ``sources`` event: unknown ``[n]`` and quotes not found verbatim."""
    by_number = {int(s["n"]): s for s in sources}
    flags: list[dict[str, Any]] = []
    reported: set[int] = set()
    for match in CITATION.finditer(text):
        for n in _numbers(match.group(1)):
            if n not in by_number and n not in reported:
                reported.add(n)
                flags.append({"kind": "unknown_source", "ref": n, "quote": None,
                              "message": f"La référence [{n}] ne correspond à aucune des "
                                         f"{len(by_number)} sources fournies."})
    for match in QUOTE.finditer(text):
        quote = next(g for g in match.groups() if g is not None)
        if len(normalise(quote)) < MIN_QUOTE_CHARS:
            continue
        cited = [n for n in _cited_near(text, match.start(), match.end()) if n in by_number]
        candidates = [by_number[n] for n in cited] if cited else list(by_number.values())
        if any(_appears(quote, str(source.get("text", ""))) for source in candidates):
            continue
        shown = normalise(quote)
        shown = shown if len(shown) <= 120 else shown[:117] + "..."
        if cited:
            where = ", ".join(f"[{n}]" for n in cited)
            message = f"La citation « {shown} » ne figure pas mot pour mot dans la source {where}."
        else:
            message = f"La citation « {shown} » ne figure mot pour mot dans aucune des sources fournies."
        flags.append({"kind": "quote_not_found", "ref": cited[0] if cited else None,
                      "quote": quote, "message": message})
    return flags
