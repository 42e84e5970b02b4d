"""Structured fields of a mail (parties, case numbers, dates, requested action), checked.

Models wrap JSON in prose or code fences, use French or English keys, leave trailing
commas; :func:`parse_json_object` takes the first object it can read. Each value is
then looked up in the mail itself: ``verified`` says whether it appears there literally
(up to case, spacing and typographic variants), so the clerk knows which values to
trust and which the model may have made up.
"""
from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

CASE_KINDS = {"rg": "rg", "n° rg": "rg", "parquet": "parquet", "pourvoi": "pourvoi"}
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_SPACES = re.compile(r"\s+")
_TYPOGRAPHY = str.maketrans({"’": "'", "‘": "'", "«": '"', "»": '"', "“": '"', "”": '"',
                             "–": "-", "—": "-", "‑": "-", "\u00a0": " ", "\u202f": " "})
MAX_ITEMS = 20
MAX_VALUE_CHARS = 300


def parse_json_object(text: str) -> dict[str, Any] | None:
    """The outermost JSON object found first in ``text`` (fences, prose and trailing
    commas tolerated)."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        rest = text[start:]
        for candidate in (rest, _TRAILING_COMMA.sub(r"\1", rest)):
            try:
                value, _ = decoder.raw_decode(candidate)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
        start = text.find("{", start + 1)
    return None


def normalize(text: str) -> str:
    """Text as compared for verification: NFC, typographic variants, case and spacing."""
    text = unicodedata.normalize("NFC", text).translate(_TYPOGRAPHY)
    return _SPACES.sub(" ", text).strip().casefold()


def _text(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:MAX_VALUE_CHARS] if value else None


def _pick(item: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in item:
            return item[key]
    return None


def _items(raw: Any) -> list[Any]:
    if isinstance(raw, list):
        return raw[:MAX_ITEMS]
    if raw in (None, ""):
        return []
    return [raw]


def extract_fields(answer: str, mail: str) -> dict[str, Any]:
    """The ``fields`` event from the model's answer, each value marked ``verified``."""
    parsed = parse_json_object(answer)
    haystack = normalize(mail)

    def verified(value: str) -> bool:
        return normalize(value) in haystack

    if parsed is None:
        return {"parties": [], "case_numbers": [], "dates": [], "requested_action": None,
                "complete": False,
                "message": "Les informations structurées n'ont pas pu être lues dans la réponse du modèle."}

    parties = []
    for item in _items(_pick(parsed, "parties", "parts")):
        name = _text(_pick(item, "nom", "name", "valeur", "value") if isinstance(item, dict) else item)
        if name:
            role = _text(_pick(item, "qualite", "qualité", "role")) if isinstance(item, dict) else None
            parties.append({"value": name, "role": role, "verified": verified(name)})

    numbers = []
    for item in _items(_pick(parsed, "numeros", "numéros", "case_numbers", "numbers")):
        value = _text(_pick(item, "valeur", "value", "numero", "numéro") if isinstance(item, dict) else item)
        if value:
            kind = _text(_pick(item, "type", "kind")) if isinstance(item, dict) else None
            kind = CASE_KINDS.get(normalize(kind or ""), "autre")
            numbers.append({"kind": kind, "value": value, "verified": verified(value)})

    dates = []
    for item in _items(_pick(parsed, "dates", "delais", "délais")):
        text = _text(_pick(item, "texte", "text", "valeur", "value", "date") if isinstance(item, dict) else item)
        if text:
            extra = item if isinstance(item, dict) else {}
            iso = _text(_pick(extra, "iso"))
            dates.append({"value": text,
                          "iso": iso if iso and re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso) else None,
                          "label": _text(_pick(extra, "objet", "label", "object")),
                          "deadline": bool(_pick(extra, "delai", "délai", "deadline")),
                          "verified": verified(text)})

    action = _text(_pick(parsed, "action_demandee", "action_demandée", "requested_action", "action"))
    return {"parties": parties, "case_numbers": numbers, "dates": dates,
            "requested_action": {"value": action, "verified": verified(action)} if action else None,
            "complete": True}
