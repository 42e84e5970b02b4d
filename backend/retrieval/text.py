"""Decision text: repairing mojibake, checking zones, cutting passages.

Court data is real and imperfect: some texts lost their accents to a bad conversion
(« d¿cision »), some were decoded twice (« dÃ©cision »), and zone offsets computed on
another version of the text may point a few dozen characters off, or past its end.
This module repairs what it can, says what it did (so the ingestion report can), and
cuts each zone into passages of about 150–300 words on sentence boundaries, keeping
character offsets into the (repaired) decision text.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..folding import fold

CHUNKER_VERSION = "1"
MIN_WORDS, TARGET_WORDS, MAX_WORDS = 150, 220, 300
TINY_WORDS = 5  # a fragment shorter than this ("COMM.", "FB") is not worth a passage

ZONE_NAMES = ("introduction", "expose", "moyens", "motivations", "dispositif", "annexes", "texte")
ZONE_ALIASES = {"expose du litige": "expose", "exposé du litige": "expose", "exposé": "expose",
                "motifs": "motivations", "motivation": "motivations", "moyen": "moyens",
                "annexe": "annexes"}
SNAP_WINDOW = 300  # how far a zone boundary may be moved to reach a paragraph break

WORDS_FILE = Path(__file__).with_name("data") / "accented_words.txt"
LOST_ACCENT = "¿"
ACCENT_CANDIDATES = "éèêàâùûîôçëïü"
DOUBLE_ENCODED = re.compile(r"(?:[ÂÃÅÆ][\x80-\xbf\u0152-\u2122]|â€[\x80-\xbf\u0152-\u2122])+")


def canonical_zone(name: str) -> str | None:
    """The zone name Plume uses for a source's name (None for an unknown zone)."""
    key = " ".join(name.lower().split())
    key = ZONE_ALIASES.get(key, key)
    return key if key in ZONE_NAMES else None


# --- mojibake -----------------------------------------------------------------------

@lru_cache(maxsize=1)
def accented_words() -> dict[str, int]:
    """French words with accents (lower case) and their frequency, to restore lost accents."""
    words: dict[str, int] = {}
    if WORDS_FILE.exists():
        for rank, line in enumerate(WORDS_FILE.read_text(encoding="utf-8").split()):
            words.setdefault(line, rank)
    return words


@dataclass
class Repair:
    """What repairing one piece of text did."""

    repaired: int = 0
    left: int = 0

    def __iadd__(self, other: "Repair") -> "Repair":
        self.repaired += other.repaired
        self.left += other.left
        return self


@lru_cache(maxsize=65536)
def _restore_word(word: str, before: str) -> str | None:
    """The accented word whose accents were lost to « ¿ », if the vocabulary knows one."""
    vocabulary = accented_words()
    holes = word.count(LOST_ACCENT)
    if holes > 3:
        return None
    best: tuple[int, str] | None = None
    for combo in itertools.product(ACCENT_CANDIDATES, repeat=holes):
        candidate = word
        for char in combo:
            candidate = candidate.replace(LOST_ACCENT, char, 1)
        rank = vocabulary.get(candidate.lower())
        if rank is not None and (best is None or rank < best[0]):
            best = (rank, candidate)
    if best is None:
        return None
    fixed = best[1]
    # Case: keep the source's case; a lost first letter is a capital (« ¿mile » → « Émile »)
    # except after a digit (« 3¿me » → « 3ème »), or when the word is in capitals.
    chars = list(fixed)
    for i, original in enumerate(word):
        if original != LOST_ACCENT:
            continue
        upper = (word.isupper() if len(word.replace(LOST_ACCENT, "")) > 1 else False) or (
            i == 0 and not before[-1:].isdigit() and not before[-1:].isalpha())
        chars[i] = chars[i].upper() if upper else chars[i]
    return "".join(chars)


LOST_ACCENT_WORD = re.compile(r"[^\W\d_]*¿[^\W\d_]*(?:¿[^\W\d_]*)*")


def _fix_double_encoding(match: re.Match[str]) -> str:
    run = match.group(0)
    try:
        return run.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return run


def repair_mojibake(text: str) -> tuple[str, Repair]:
    """Text with double-encoded UTF-8 decoded and lost accents restored where certain.

    « ¿ » replaced an accented letter that is gone; it is restored only when exactly the
    vocabulary knows the word, otherwise left (and counted) so the report can say so.
    """
    repair = Repair()
    if "Ã" in text or "â€" in text or "Â" in text:
        fixed = DOUBLE_ENCODED.sub(_fix_double_encoding, text)
        if fixed != text:
            repair.repaired += 1
            text = fixed
    if LOST_ACCENT not in text:
        return text, repair

    def restore(match: re.Match[str]) -> str:
        word = match.group(0)
        before = text[max(0, match.start() - 1):match.start()]
        fixed = _restore_word(word, "0" if before.isdigit() else ("a" if before.isalpha() else " "))
        if fixed is None:
            repair.left += 1
            return word
        repair.repaired += 1
        return fixed

    return LOST_ACCENT_WORD.sub(restore, text), repair


# --- zones --------------------------------------------------------------------------

@dataclass(frozen=True)
class Segment:
    """A contiguous span of the decision text that belongs to one zone."""

    zone: str
    start: int
    end: int


@dataclass
class Zoning:
    """The zones used for a decision and how they were obtained."""

    segments: list[Segment]
    origin: str  # "source", "adjusted" (source offsets moved to paragraph breaks), "derived"
    problem: str | None = None  # why the source's zones were not used as given


def _snap(text: str, offset: int) -> int | None:
    """The nearest paragraph break (start of a line) to ``offset`` within the window."""
    if offset <= 0:
        return 0
    if offset >= len(text):
        return len(text) if offset - len(text) <= SNAP_WINDOW else None
    if text[offset - 1] == "\n":
        return offset
    low, high = max(0, offset - SNAP_WINDOW), min(len(text), offset + SNAP_WINDOW)
    before = text.rfind("\n", low, offset)
    after = text.find("\n", offset, high)
    options = [p + 1 for p in (before, after) if p != -1]
    if not options:
        return None
    return min(options, key=lambda p: abs(p - offset))


def check_zones(text: str, zones: dict | None) -> Zoning:
    """Validate the source's zones against the text; derive them when missing or broken.

    Offsets must be integers, inside the text (or a little past its end), and zones must
    not overlap. A boundary that falls inside a line is moved to the nearest paragraph
    break (offsets computed on another version of the text drift by a few dozen
    characters); if no break is near, the zones are broken and derived from the text.
    """
    if not zones:
        return Zoning(derive_zones(text), "derived")
    raw: list[Segment] = []
    try:
        for name, spans in zones.items():
            zone = canonical_zone(name)
            if zone is None:
                return Zoning(derive_zones(text), "derived", f"zone inconnue « {name} »")
            for span in spans:
                start, end = span["start"], span["end"]
                if not isinstance(start, int) or not isinstance(end, int):
                    raise TypeError("offsets must be integers")
                raw.append(Segment(zone, start, end))
    except (TypeError, KeyError, AttributeError) as exc:
        return Zoning(derive_zones(text), "derived", f"zones mal formées ({exc})")
    raw.sort(key=lambda s: (s.start, s.end))
    adjusted = False
    segments: list[Segment] = []
    for previous, segment in zip([None, *raw], raw):
        if segment.start < 0 or segment.end <= segment.start or segment.start >= len(text):
            return Zoning(derive_zones(text), "derived", "décalages hors du texte")
        if previous is not None and segment.start < previous.end:
            return Zoning(derive_zones(text), "derived", "zones qui se chevauchent")
        start, end = _snap(text, segment.start), _snap(text, segment.end)
        if start is None or end is None:
            return Zoning(derive_zones(text), "derived", "décalages incohérents avec le texte")
        adjusted = adjusted or (start, end) != (segment.start, segment.end)
        segments.append(Segment(segment.zone, start, end))
    # Adjacent zones must still tile: re-close gaps created by snapping the same boundary.
    tiled: list[Segment] = []
    for segment in segments:
        if tiled and segment.start < tiled[-1].end:
            segment = Segment(segment.zone, tiled[-1].end, segment.end)
        if segment.end > segment.start:
            tiled.append(segment)
    covered = sum(s.end - s.start for s in tiled)
    if covered < 0.5 * len(text.strip()):
        return Zoning(derive_zones(text), "derived", "zones couvrant moins de la moitié du texte")
    return Zoning(tiled, "adjusted" if adjusted else "source")


# Headings that open a zone, in the order zones appear (checked on folded, upper-case lines).
ZONE_HEADINGS: list[tuple[str, re.Pattern[str]]] = [
    ("expose", re.compile(r"^(EXPOSE (DU LITIGE|DES FAITS|DU LITIGE ET DES PRETENTIONS)|"
                          r"FAITS ET PROCEDURE|FAITS, PROCEDURE|RAPPEL DES FAITS|LES FAITS)\b")),
    ("moyens", re.compile(r"^(EXAMEN DU(ES)? MOYENS?|ENONCE DU MOYEN|MOYENS? (DES PARTIES|ANNEXES?)|"
                          r"PRETENTIONS (ET MOYENS )?DES PARTIES)\b")),
    ("motivations", re.compile(r"^(MOTIFS( DE LA DECISION)?|SUR CE|DISCUSSION|MOTIVATION|"
                               r"REPONSE DE LA COUR|MOTIFS DE L'ORDONNANCE)\b\s*[:,]?$|^SUR CE[,:]")),
    ("dispositif", re.compile(r"^(PAR CES MOTIFS|DISPOSITIF|DECISION|PAR CES MOTIFS, LA COUR)\b")),
]


def derive_zones(text: str) -> list[Segment]:
    """Zones from the headings French decisions use (« MOTIFS », « PAR CES MOTIFS »…).

    Without any heading the whole text is one zone, ``texte``.
    """
    marks: list[tuple[int, str]] = []
    position = 0
    last_rank = -1
    for line in text.splitlines(keepends=True):
        folded = fold(line).upper() if len(line) < 120 else ""
        if folded and len(folded) < 80:
            for rank, (zone, pattern) in enumerate(ZONE_HEADINGS):
                # Zones only move forward; « PAR CES MOTIFS » wins even if seen late.
                if rank >= last_rank and pattern.search(folded):
                    if not marks or marks[-1][1] != zone:
                        marks.append((position, zone))
                        last_rank = rank
                    break
        position += len(line)
    if not marks:
        return [Segment("texte", 0, len(text))]
    segments: list[Segment] = []
    if marks[0][0] > 0:
        segments.append(Segment("introduction", 0, marks[0][0]))
    for (start, zone), (end, _) in zip(marks, marks[1:] + [(len(text), "")]):
        if end > start:
            segments.append(Segment(zone, start, end))
    return segments


# --- passages -----------------------------------------------------------------------

ABBREVIATIONS = {"m", "mm", "mme", "mmes", "mlle", "me", "art", "al", "n", "no", "p", "pp", "cass",
                 "civ", "com", "soc", "crim", "ch", "req", "ass", "plén", "c", "cf", "v", "etc",
                 "av", "bd", "dr", "pr", "st", "ste", "sté", "ord", "ca", "tj", "tgi", "jaf",
                 "jex", "ccass", "ibid", "op", "cit", "éd", "vol", "nos", "not", "obs", "rép"}
# A sentence ends at . ! ? ; : (and closing quotes) before a capital, a digit or a dash;
# a line break ends one unless the next line goes on in lower case (hard-wrapped text).
# The pattern starts with one character class, the punctuation or the line break, which
# lets the regex engine skip to the next of them in C rather than try both branches at
# every character; ``q`` (closing quotes) takes part only after punctuation. The spaces
# before a line break are trimmed with the sentence.
SENTENCE_BREAK = re.compile(r"[.!?;:\n](?:(?<=[.!?;:])(?P<q>[\"»)]*)[ \t\u00a0]+(?=[«\"(A-ZÀ-Ý0-9–—-])"
                            r"|(?<=\n)\s*+(?![a-zà-ÿ,;]))")


@dataclass
class Passage:
    zone: str
    ordinal: int
    start: int
    end: int
    text: str
    words: int = field(default=0)


# The first word of a reversed piece of text: its last word, read backwards, matched
# from the start (a search for the last word from the front would try every position).
FIRST_WORD = re.compile(r"\W*(\w+)")


def _abbreviation(text: str, low: int, cut: int) -> bool:
    """Whether the last word before ``cut`` is an initial or a known abbreviation."""
    match = FIRST_WORD.match(text[low:cut][::-1])
    return bool(match) and (len(match[1]) == 1 or match[1][::-1].lower() in ABBREVIATIONS)


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence (or line) spans between ``start`` and ``end``, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in SENTENCE_BREAK.finditer(text, start, end):
        cut = match.end("q")    # after the punctuation and its quotes; -1 at a line break
        if cut < 0:
            cut = match.start()
        elif text[match.start()] == "." and _abbreviation(text, max(cursor, cut - 40), cut):
            continue  # « M. Dupont », « Cass. com. », initials
        if cut > cursor:
            spans.append((cursor, cut))
        cursor = match.end()
    if end > cursor:
        spans.append((cursor, end))
    trimmed: list[tuple[int, int]] = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            trimmed.append((s, e))
    return trimmed


def _word_count(piece: str) -> int:
    """Words in a trimmed piece of text, as ``len(piece.split())`` counts them; a piece
    with single spaces only (every other space is unprintable) is counted without
    building its list of words."""
    if piece.isprintable() and "  " not in piece:
        return piece.count(" ") + 1 if piece else 0
    return len(piece.split())


def _split_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut a sentence longer than MAX_WORDS at word boundaries (legal enumerations)."""
    pieces: list[tuple[int, int]] = []
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text[start:end])]
    for i in range(0, len(words), TARGET_WORDS):
        chunk = words[i:i + TARGET_WORDS]
        pieces.append((start + chunk[0][0], start + chunk[-1][1]))
    return pieces


def chunk(text: str, segments: list[Segment]) -> list[Passage]:
    """Passages of ~150–300 words, cut on sentence boundaries, never across zones.

    Each passage's text is exactly ``text[start:end]``, so a citation can point back
    into the decision.
    """
    passages: list[Passage] = []
    for segment in segments:
        units: list[tuple[int, int, int]] = []
        for s, e in _sentences(text, segment.start, segment.end):
            count = _word_count(text[s:e])
            if count > MAX_WORDS:
                units.extend((ps, pe, len(text[ps:pe].split())) for ps, pe in _split_long(text, s, e))
            else:
                units.append((s, e, count))
        groups: list[list[tuple[int, int, int]]] = []
        current: list[tuple[int, int, int]] = []
        words = 0
        for unit in units:
            if current and (words + unit[2] > MAX_WORDS or words >= TARGET_WORDS):
                groups.append(current)
                current, words = [], 0
            current.append(unit)
            words += unit[2]
        if current:
            # A short tail joins the previous passage of the zone when both fit.
            if groups and words < MIN_WORDS // 3 and sum(u[2] for u in groups[-1]) + words <= MAX_WORDS + 50:
                groups[-1].extend(current)
            else:
                groups.append(current)
        for group in groups:
            start, end = group[0][0], group[-1][1]
            count = sum(u[2] for u in group)
            if count < TINY_WORDS:
                continue
            passages.append(Passage(segment.zone, 0, start, end, text[start:end], count))
    for ordinal, passage in enumerate(passages):
        passage.ordinal = ordinal
    return passages
