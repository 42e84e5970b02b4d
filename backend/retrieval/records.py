"""From an input (a JSON line, a Word or PDF file) to a decision ready to store.

A JSON line follows the sample corpus format (Judilibre's fields and zones, see
``backend/data/corpus/README.md``), plus an optional ``private_to`` list of jurisdictions
for decisions that only their own courts may search. A Word or PDF file becomes a
decision whose metadata is read from its first lines (court, date, number) unless a
sidecar ``<file>.json`` gives it in the same format.

:func:`prepare` is pure (no database): it repairs mojibake, checks zones and cuts
passages, so the ingestion, the tests and ``bench/`` all see the same passages.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from .text import (CHUNKER_VERSION, Passage, Repair, Segment, Zoning, check_zones, chunk,
                   repair_mojibake)

METADATA_FIELDS = ("ecli", "jurisdiction", "chamber", "number", "date", "solution",
                   "publication", "summary", "themes", "nac", "source", "license")


class RecordError(ValueError):
    """This input cannot become a decision; the message (French) goes to the report."""


@dataclass
class DecisionRecord:
    """A decision as read from its source, before any repair."""

    source_id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    zones: dict | None = None
    private_to: list[str] = field(default_factory=list)
    origin: str = ""  # file (and line) it came from, for the report

    def content_hash(self) -> str:
        """Hash of everything that shapes the stored decision (and the chunker's version)."""
        head = json.dumps(
            {"v": CHUNKER_VERSION, "id": self.source_id, "meta": self.metadata, "zones": self.zones,
             "private_to": sorted(self.private_to)},
            sort_keys=True, ensure_ascii=False, default=str)
        digest = hashlib.sha256(head.encode("utf-8"))
        digest.update(b"\x00")
        digest.update(self.text.encode("utf-8", errors="surrogatepass"))
        return digest.hexdigest()


@dataclass
class PreparedDecision:
    """A decision ready to store: repaired text and metadata, zones, passages, notes."""

    record: DecisionRecord
    text: str
    metadata: dict[str, Any]
    zoning: Zoning
    passages: list[Passage]
    repair: Repair
    content_hash: str


def passage_hash(text: str) -> str:
    """Key of a passage's embedding: the same words get the same vector, whatever decision."""
    # Most passages hold single spaces and line breaks only (every other space is
    # unprintable): splitting and joining them again would only turn breaks into spaces.
    flat = text.replace("\n", " ")
    plain = flat.isprintable() and "  " not in flat and flat.strip(" ") == flat
    return hashlib.sha256((flat if plain else " ".join(text.split())).encode("utf-8")).hexdigest()[:32]


def _private_to(raw: dict[str, Any]) -> list[str]:
    value = raw.get("private_to") or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RecordError("« private_to » doit être une liste de juridictions")
    if raw.get("visibility") == "private" and not value:
        raise RecordError("décision privée sans juridiction autorisée (« private_to » vide)")
    return [v.strip() for v in value]


def from_json(raw: Any, origin: str) -> DecisionRecord:
    """A decision from one JSON line of the corpus format."""
    if not isinstance(raw, dict):
        raise RecordError("la ligne n'est pas un objet JSON")
    source_id = raw.get("id")
    if not isinstance(source_id, str) or not source_id.strip():
        raise RecordError("identifiant « id » absent")
    text = raw.get("text")
    if not isinstance(text, str):
        raise RecordError("texte absent")
    metadata = {name: raw.get(name) for name in METADATA_FIELDS if raw.get(name) not in (None, "", [])}
    return DecisionRecord(source_id=source_id.strip(), text=text, metadata=metadata,
                          zones=raw.get("zones") or None, private_to=_private_to(raw),
                          origin=origin)


# --- Word and PDF files ---------------------------------------------------------------

MONTHS = {"janvier": 1, "fevrier": 2, "février": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
          "juillet": 7, "aout": 8, "août": 8, "septembre": 9, "octobre": 10, "novembre": 11,
          "decembre": 12, "décembre": 12}
LONG_DATE = re.compile(r"\b(1er|\d{1,2})\s+(" + "|".join(MONTHS) + r")\s+((?:19|20)\d\d)\b", re.I)
PLACE = r"d(?:e |['’])\s*([^\n,(]{2,60})"
COURTS = [
    (re.compile(r"\bCOUR DE CASSATION\b", re.I), "Cour de cassation"),
    (re.compile(r"\bCOUR D['’]APPEL " + PLACE, re.I), "Cour d'appel de "),
    (re.compile(r"\bTRIBUNAL JUDICIAIRE " + PLACE, re.I), "Tribunal judiciaire de "),
    (re.compile(r"\bTRIBUNAL DE COMMERCE " + PLACE, re.I), "Tribunal de commerce de "),
]
PARTICLES = {"sur", "sous", "en", "le", "la", "les", "de", "du", "des", "d'", "l'", "lès"}


def _place(raw: str) -> str:
    """The town in « … DE BOBIGNY Jugement du … »: the run of words written like the first."""
    words = raw.split()
    upper = words[0].isupper()
    kept: list[str] = []
    for word in words:
        bare = word.strip(".;:")
        if not bare or not bare[0].isalpha():
            break
        if (bare.isupper() if upper else bare[0].isupper()) or (kept and bare.lower() in PARTICLES):
            kept.append(bare)
            if bare != word:
                break
        else:
            break
    while kept and kept[-1].lower() in PARTICLES:
        kept.pop()
    return " ".join(kept).title() if upper else " ".join(kept)


NUMBERS = [re.compile(r"\bPourvoi\s+n[°o]\s*(?:[A-Z]\s+)?(\d{2}-\d{2}\.\d{3})", re.I),
           re.compile(r"\bN[°o]\s*RG\s*:?\s*(\d{2}/\d{4,5})", re.I),
           re.compile(r"\bN[°o]\s*(?:de\s+)?r[ée]pertoire\s+g[ée]n[ée]ral\s*:?\s*(\d{2}/\d{4,5})", re.I)]
CHAMBER = re.compile(r"\b((?:PREMI[EÈ]RE|DEUXI[EÈ]ME|TROISI[EÈ]ME) CHAMBRE CIVILE|CHAMBRE "
                     r"(?:SOCIALE|CRIMINELLE|COMMERCIALE)|P[ÔO]LE \d+\s*-\s*CHAMBRE \d+)\b", re.I)


def guess_metadata(text: str) -> dict[str, Any]:
    """Court, chamber, date and number from the first lines of a decision's text."""
    head = text[:4000]
    metadata: dict[str, Any] = {}
    for pattern, name in COURTS:
        match = pattern.search(head)
        if match:
            place = _place(match.group(1)) if match.groups() else ""
            if match.groups() and not place:
                continue
            if place and name.endswith(" de ") and place[0] in "AEIOUYÉÈÂÎaeiouyéèâî":
                name = name[:-3] + "d'"  # « Cour d'appel d'Aix-en-Provence »
            metadata["jurisdiction"] = name + place
            break
    for pattern in NUMBERS:
        match = pattern.search(head)
        if match:
            metadata["number"] = match.group(1)
            break
    match = CHAMBER.search(head)
    if match:
        metadata["chamber"] = match.group(1).capitalize()
    match = LONG_DATE.search(head)
    if match:
        day = 1 if match.group(1).lower() == "1er" else int(match.group(1))
        try:
            metadata["date"] = dt.date(int(match.group(3)), MONTHS[match.group(2).lower()], day).isoformat()
        except ValueError:
            pass
    return metadata


def from_document(text: str, filename: str, sidecar: dict[str, Any] | None) -> DecisionRecord:
    """A decision from the text of a Word or PDF file (and its optional sidecar)."""
    metadata = guess_metadata(text)
    sidecar = sidecar or {}
    metadata.update({name: sidecar[name] for name in METADATA_FIELDS if sidecar.get(name)})
    metadata.setdefault("source", f"fichier {filename}")
    source_id = sidecar.get("id") or f"fichier:{filename}"
    return DecisionRecord(source_id=str(source_id), text=text, metadata=metadata,
                          zones=sidecar.get("zones") or None, private_to=_private_to(sidecar),
                          origin=filename)


# --- preparing ----------------------------------------------------------------------

def _clean_date(value: Any) -> str | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        return None


def prepare(record: DecisionRecord, content_hash: str | None = None) -> PreparedDecision:
    """Repair, zone and cut one decision. Raises RecordError when nothing usable remains.

    Zones are checked on the text as given (their offsets refer to it), then each zone
    is repaired on its own, so offsets stay right even when a repair changes lengths.
    """
    if not record.text.strip():
        raise RecordError("texte vide")
    zoning = check_zones(record.text, record.zones)
    repair = Repair()
    pieces: list[str] = []
    segments = []
    cursor = 0
    position = 0
    for segment in zoning.segments:
        if segment.start > cursor:  # text between zones (kept, not indexed)
            gap, gap_repair = repair_mojibake(record.text[cursor:segment.start])
            repair += gap_repair
            pieces.append(gap)
            position += len(gap)
        fixed, piece_repair = repair_mojibake(record.text[segment.start:segment.end])
        repair += piece_repair
        segments.append(Segment(segment.zone, position, position + len(fixed)))
        pieces.append(fixed)
        position += len(fixed)
        cursor = segment.end
    if cursor < len(record.text):
        tail, tail_repair = repair_mojibake(record.text[cursor:])
        repair += tail_repair
        pieces.append(tail)
    text = "".join(pieces)
    zoning = Zoning(segments, zoning.origin, zoning.problem)

    metadata: dict[str, Any] = {}
    for name, value in record.metadata.items():
        if isinstance(value, str):
            value, field_repair = repair_mojibake(" ".join(value.split()))
            repair += field_repair
        elif isinstance(value, list):
            value = [repair_mojibake(" ".join(str(v).split()))[0] for v in value if v]
        metadata[name] = value
    raw_date = metadata.get("date")
    metadata["date"] = _clean_date(raw_date)

    passages = chunk(text, zoning.segments)
    if not passages:
        raise RecordError("texte sans passage exploitable")
    return PreparedDecision(record=record, text=text, metadata=metadata, zoning=zoning,
                            passages=passages, repair=repair,
                            content_hash=content_hash or record.content_hash())
