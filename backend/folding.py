"""French accent folding: the one place it is done in the backend.

« Référé », « REFERE » and « référé » all fold to « refere »; ligatures open (« œ » → « oe »).
The table is the one of SQL ``plume_unaccent`` (migration 001), so a key folded by
PostgreSQL (``decisions.jurisdiction_key`` …) and one folded here agree.

Search (words, filters, zone headings, citations) and mail orientation import these two
functions; none keeps a copy.
"""
from __future__ import annotations

_ACCENTED = "ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝýÿŸ"
_PLAIN = "AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOoooooUUUUuuuuYyyY"
UNACCENT = str.maketrans({**dict(zip(_ACCENTED, _PLAIN)), "œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE"})


def unaccent(text: str) -> str:
    """The accents folded, case kept (as SQL ``plume_unaccent``)."""
    return text.translate(UNACCENT)


def fold(text: str) -> str:
    """Lower case without accents, spaces collapsed: what two spellings of a word share."""
    return " ".join(text.translate(UNACCENT).lower().split())
