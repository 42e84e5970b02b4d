"""First names given in France and its neighbours, to read « Joëlle BLANC » as a person.

The list is Jörg Michael's dictionary of first names as the ``gender-guesser`` package
ships it (a registry package, read from site-packages: no network): every name with a
frequency in France, Belgium, Luxembourg, Switzerland, Turkey or the Arab countries. A
name that the sample decisions also write as a common word (« rose », « mai ») counts only
where it is a frequent first name in France. It is used only beside another name (« Prénom
NOM », « Mme Françoise⏎Blanc », « Madame Géraldine, Inès THOMAS »), never alone.
"""
from __future__ import annotations

import functools
from pathlib import Path

from . import vocabulary
from .text import name_key

# Columns of the dictionary (0-based character positions) and the frequency (hex 1..D)
# from which a name counts.
COLUMNS = {37: 1, 38: 1, 39: 1, 44: 1, 76: 2, 77: 2}  # France, Belgium, Luxembourg, Swiss, Turkey, Arabia
FRANCE = 37
FREQUENT = 5


def _dictionary() -> Path:
    import gender_guesser

    return Path(gender_guesser.__file__).parent / "data" / "nam_dict.txt"


@functools.lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """First names as :func:`.text.name_key` writes them (no accents, lower case)."""
    common = vocabulary.common()
    names: set[str] = set()
    with _dictionary().open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#") or len(line) < 30 or line[0] not in "MF?1":
                continue
            name = line[3:29].strip().replace("+", "-")
            if not name or not name[0].isupper():
                continue
            found = {column: int(line[column], 16) for column in COLUMNS
                     if len(line) > column and line[column] not in " \r\n$"}
            if not any(found.get(column, 0) >= least for column, least in COLUMNS.items()):
                continue
            if name.lower() in common and found.get(FRANCE, 0) < FREQUENT:
                continue
            names.add(name_key(name))
    return frozenset(names)


def is_first_name(word: str) -> bool:
    """« Joëlle », « JOËLLE », « Jean-Luc », « Daphné-Luísa » (a hyphenated first name whose
    first part is one)."""
    key = name_key(word)
    names = first_names()
    return key in names or (" " in key and "-" in word and key.split()[0] in names)
