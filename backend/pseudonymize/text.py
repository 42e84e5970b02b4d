"""The analysis copy of a text, and the character classes names are made of.

Every rule and the model read an *analysis copy* that has exactly the length of the text
sent, so an offset found in it is an offset in the text sent (Python code points, as the
API promises). The copy only swaps one code point for another: a garbled accent (« ¿ »,
U+FFFD, as some exports have) becomes « e » or « E » after its neighbours' case, so that
« J¿r¿me DUPR¿ » reads as a name; no-break spaces become spaces; typographic apostrophes
become « ' ». Combining accents stay where they are and are part of a name's letters.
"""
from __future__ import annotations

import unicodedata

GARBLED = "\u00bf\ufffd"
SPACES = "\u00a0\u202f\u2007\u2009"
APOSTROPHES = "\u2019\u02bc\u2018"

# Latin letters of Western Europe, and those of Latin Extended-A/B and Extended Additional
# (« Şahin », « Aydın », « Nguyễn », « Łukasz »): names of people living in France carry them.
_EXTENDED = [chr(code) for code in (*range(0x100, 0x250), *range(0x1E00, 0x1F00))]
UPPER = "A-ZÀ-ÖØ-Þ" + "".join(char for char in _EXTENDED if char.isupper())
LOWER = "a-zß-öø-ÿ" + "".join(char for char in _EXTENDED if char.islower())
COMBINING = "\u0300-\u036f"


def analysis_copy(text: str) -> str:
    """``text`` with the same length, made readable for the rules (see the module docstring)."""
    if not any(char in text for char in GARBLED + SPACES + APOSTROPHES):
        return text
    chars = list(text)
    for index, char in enumerate(chars):
        if char in GARBLED:
            before = chars[index - 1] if index else ""
            after = text[index + 1] if index + 1 < len(text) else ""
            upper = (before.isupper() and not after.islower()) or (not before.isalpha() and after.isupper())
            chars[index] = "E" if upper else "e"
        elif char in SPACES:
            chars[index] = " "
        elif char in APOSTROPHES:
            chars[index] = "'"
    return "".join(chars)


def name_key(value: str) -> str:
    """A key under which two spellings of one name meet: accents, case, hyphens and
    garbled letters do not count (« Dupré », « DUPRE », « Dupr¿ » share a key)."""
    decomposed = unicodedata.normalize("NFD", value)
    letters = [char for char in decomposed if not unicodedata.combining(char)]
    folded = "".join(letters).lower().replace("-", " ").replace("'", " ")
    return " ".join(folded.split())
