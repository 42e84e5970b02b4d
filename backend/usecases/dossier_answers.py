"""Reading a dossier's model answers: lenient JSON, salvaged lines, references, dates.

A small model writes JSON with code fences around it, trailing commas, text before it, or
none at all; what can be read is read, what cannot is salvaged (the lines that cite a page)
or reported. Nothing here trusts the answer: references are checked against the pages by
:mod:`.dossier`.
"""
from __future__ import annotations

import json
import re
import unicodedata
from datetime import date
from typing import Any

_FENCE_MARK = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
REF = re.compile(r"\[?\s*([^\[\],]{1,255}?)\s*,\s*p(?:age|\.)?\s*(\d{1,5})\s*\]?", re.IGNORECASE)
_LINE_REF = re.compile(r"\[([^\[\],]{1,255}?),\s*p\.\s*(\d{1,5})\]")
JURISDICTION = re.compile(r"((?i:tribunal judiciaire|cour d'appel|tribunal de commerce|conseil de "
                          r"prud'hommes|tribunal de proximité|cour de cassation|tribunal "
                          r"administratif)(?: de | d'| du )?[A-ZÉÈ][\w'\-]+)")
RG = re.compile(r"\b(?:R\.?\s?G\.?|répertoire général)\s*(?:n°|no|numéro)?\s*:?\s*"
                r"(\d{2}\s?/\s?\d{3,6}|\d{4,6}/\d{2})", re.IGNORECASE)


def parse_answer(text: str) -> dict[str, Any] | None:
    """The JSON object of a map answer, read leniently (code fences, text around it, trailing
    commas); None when nothing usable is there."""
    cleaned = _FENCE_MARK.sub("", text or "").strip()
    start, end = cleaned.find("{"), cleaned.rfind("}")
    if start < 0 or end <= start:
        return None
    body = cleaned[start:end + 1]
    for candidate in (body, _TRAILING_COMMA.sub(r"\1", body)):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict) and any(k in value for k in
                                           ("faits", "procedure", "pretentions", "points", "pieces")):
            return value
    return None


def salvage_lines(text: str) -> list[dict[str, Any]]:
    """From an answer that is not the JSON asked for: the lines that cite a page, as items."""
    items = []
    for line in (text or "").splitlines():
        match = _LINE_REF.search(line)
        clean = " ".join(_LINE_REF.sub("", line).strip(" -*•\t").split())
        if match and len(clean) > 10:
            items.append({"texte": clean, "ref": f"{match.group(1)}, p. {match.group(2)}",
                          "citation": None})
    return items[:50]


def cited_pages(value: Any) -> list[tuple[str, int]]:
    values = value if isinstance(value, list) else [value]
    refs = []
    for item in values:
        if isinstance(item, dict):
            file, page = item.get("fichier") or item.get("file"), item.get("page")
            if isinstance(file, str) and str(page).isdigit():
                refs.append((file.strip(), int(page)))
            continue
        if not isinstance(item, str):
            continue
        for match in REF.finditer(item):
            refs.append((match.group(1).strip(" «»\"'"), int(match.group(2))))
    return refs[:5]


def short_text(value: Any, limit: int) -> str | None:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return None
    text = " ".join(str(value).split())
    if not text or text.lower() in {"null", "none", "n/a", "inconnu"}:
        return None
    return text[:limit]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def iso_date(value: Any) -> str | None:
    text = short_text(value, 40)
    if not text:
        return None
    match = re.search(r"(\d{4})-(\d{2})-(\d{2})", text) or None
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = re.search(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", text)
        if not match:
            return None
        day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if c.isalnum())


def dedupe(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen, kept = set(), []
    for item in items:
        key = (fold(item["text"]), item["date"])
        if key in seen:
            continue
        seen.add(key)
        kept.append(item)
    return kept


_TYPES = (("conclusion", "Conclusions"), ("jugement", "Jugement"), ("arret", "Arrêt"),
          ("ordonnance", "Ordonnance"), ("assignation", "Assignation"),
          ("expertise", "Rapport d'expertise"), ("rapport", "Rapport"),
          ("pv", "Procès-verbal"), ("proces-verbal", "Procès-verbal"), ("courrier", "Courrier"),
          ("lettre", "Courrier"), ("bordereau", "Bordereau de pièces"), ("contrat", "Contrat"),
          ("facture", "Facture"), ("attestation", "Attestation"))


def guess_type(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode()
    for needle, label in _TYPES:
        if needle in folded:
            return label
    if folded.endswith((".eml", ".msg")):
        return "Courriel"
    return "Pièce"


def total_tokens(usage: dict[str, Any]) -> int:
    return sum(v for k, v in usage.items() if k in ("prompt_tokens", "completion_tokens")
               and isinstance(v, int))
