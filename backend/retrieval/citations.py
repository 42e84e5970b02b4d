"""French case-law citations: « Cass. com., 18 nov. 2020, n° 19-19.463 », « CA Lyon, … ».

Follows the usual conventions of French legal writing: abbreviated court and chamber,
abbreviated month, « 1er » for the first day, « n° » before the docket number.
"""
from __future__ import annotations

import datetime as dt
import re

from ..folding import fold

MONTHS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juill.", "août", "sept.", "oct.",
          "nov.", "déc."]

# Cour de cassation chambers, matched on folded lower-case names.
CASSATION_CHAMBERS = [
    (r"premiere chambre civile|1(re|ere)? chambre civile|civile 1|chambre civile 1", "civ. 1re"),
    (r"deuxieme chambre civile|2(e|eme)? chambre civile|civile 2|chambre civile 2", "civ. 2e"),
    (r"troisieme chambre civile|3(e|eme)? chambre civile|civile 3|chambre civile 3", "civ. 3e"),
    (r"commerciale", "com."),
    (r"sociale", "soc."),
    (r"criminelle", "crim."),
    (r"assemblee pleniere", "ass. plén."),
    (r"chambre mixte", "ch. mixte"),
]

COURT_PREFIXES = [
    (re.compile(r"^cour d'appel d(?:e |')\s*(.+)$", re.I), "CA"),
    (re.compile(r"^tribunal judiciaire d(?:e |')\s*(.+)$", re.I), "TJ"),
    (re.compile(r"^tribunal de commerce d(?:e |')\s*(.+)$", re.I), "T. com."),
    (re.compile(r"^tribunal de grande instance d(?:e |')\s*(.+)$", re.I), "TGI"),
    (re.compile(r"^conseil de prud'hommes d(?:e |')\s*(.+)$", re.I), "CPH"),
    (re.compile(r"^tribunal administratif d(?:e |')\s*(.+)$", re.I), "TA"),
    (re.compile(r"^cour administrative d'appel d(?:e |')\s*(.+)$", re.I), "CAA"),
]


def _fold(value: str) -> str:
    return fold(value.replace("’", "'"))


def format_date(value: dt.date | str | None) -> str | None:
    """« 18 nov. 2020 », « 1er mars 2021 »."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def court_label(jurisdiction: str, chamber: str | None = None) -> str:
    """« Cass. com. », « CA Lyon », « TJ Paris », « T. com. Nice »."""
    name = " ".join((jurisdiction or "").split())
    folded = _fold(name)
    if folded.startswith("cour de cassation"):
        chamber_folded = _fold(chamber or "")
        for pattern, short in CASSATION_CHAMBERS:
            if re.search(pattern, chamber_folded):
                return f"Cass. {short}"
        return "Cass."
    for pattern, short in COURT_PREFIXES:
        match = pattern.match(name.replace("’", "'"))
        if match:
            return f"{short} {match.group(1).strip()}"
    return name or "Juridiction inconnue"


def format_citation(jurisdiction: str, chamber: str | None, date: dt.date | str | None,
                    number: str | None) -> str:
    """The citation of a decision, leaving out what is unknown."""
    parts = [court_label(jurisdiction, chamber)]
    when = format_date(date)
    if when:
        parts.append(when)
    if number:
        parts.append(f"n° {number.strip()}")
    return ", ".join(parts)
