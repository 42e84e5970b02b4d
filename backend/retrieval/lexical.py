"""French full-text analysis in Python: one analyser for stored passages and for queries.

PostgreSQL's ``to_tsvector('french', plume_unaccent(text))`` costs about 0.7 ms of
server CPU per passage (half of it folding accents with ``translate()``), which caps
loading far below 5,000 passages/s. Plume therefore analyses text here and stores the
result: words are runs of letters and digits, folded like ``plume_unaccent`` (« é » →
« e », « œ » → « oe ») and lower-cased, French stop words dropped, the rest stemmed by
the Snowball French stemmer (PyStemmer, the algorithm PostgreSQL uses). Positions count
every word, stop words included, as PostgreSQL does, so phrase queries work; BM25 reads
each lexeme's count from them (:mod:`.search`).

Queries go through the same analyser (:func:`query`), and the highlighting of matched
words (:func:`marks`) too, so a word is found and marked exactly when its stem is
stored: no second, slightly different analysis in SQL.

Changing anything here that changes the lexemes means bumping :data:`ANALYSER`: stored
vectors made by another analyser are recomputed (:func:`backend.retrieval.ingest.refresh_analysis`).
"""
from __future__ import annotations

import itertools
import re
import struct
from collections import defaultdict
from pathlib import Path
from typing import Mapping

import Stemmer

from ..folding import fold
from .tuning import COMMON_SHARE, LONG_QUERY_TERMS

ANALYSER = "plume-fr-1"   # recorded in text_analyser; stored vectors made otherwise are redone

WORD = re.compile(r"[^\W_]+")       # letters and digits; apostrophes, hyphens, dots separate
MAX_WORD_CHARS = 200               # longer runs are not words (PostgreSQL skips them too)
MAX_POSITION = 16383               # tsvector positions are 14 bits
MAX_POSITIONS_PER_LEXEME = 256     # tsvector keeps at most 256 positions of a lexeme
SHORT_QUERY_WORDS = 6              # up to this many words, every word must match (AND)
KEYWORD_SEPARATOR = re.compile(r"\s+[–—-]\s+")   # « – » between a titrage's keywords
MAX_KEYWORD_WORDS = 16             # a titrage's longest keywords are short phrases
MIN_TELLING_CHARS = 3   # « M. [K] » : letters left by pseudonymisation tell nothing

STOP_WORDS = frozenset(
    fold(line)
    for line in (Path(__file__).with_name("data") / "french.stop").read_text("utf-8").splitlines()
    if line.strip())

_stemmer = Stemmer.Stemmer("french")
_lexemes: dict[str, str | None] = {}
_CACHE_LIMIT = 500_000


def lexeme(word: str) -> str | None:
    """A word's stem, or None for a stop word (cached: a corpus reuses its vocabulary)."""
    found = _lexemes.get(word, "")
    if found != "":
        return found
    folded = fold(word)
    stem = None if folded in STOP_WORDS or len(folded) > MAX_WORD_CHARS else _stemmer.stemWord(folded)
    if len(_lexemes) >= _CACHE_LIMIT:
        _lexemes.clear()
    _lexemes[word] = stem
    return stem


_tokens: dict[str, tuple[bytes | None, ...]] = {}


def _token(token: str) -> tuple[bytes | None, ...]:
    """The words of a space-free token (« l'article, ») as zero-terminated UTF-8 stems."""
    stems = tuple(None if (stem := lexeme(word)) is None else stem.encode("utf-8") + b"\0"
                  for word in WORD.findall(token))
    if len(_tokens) >= _CACHE_LIMIT:
        _tokens.clear()
    _tokens[token] = stems
    return stems


def _positions(text: str) -> tuple[dict[bytes, list[int]], int]:
    """Each lexeme of ``text`` (zero-terminated UTF-8) with its word positions (1-based,
    stop words counted), and the number of words."""
    # Splitting on spaces and caching whole tokens is ~4x faster than a regex over the
    # text; words never span spaces, so the result is the same.
    cached = _tokens.get
    sequence: list[bytes | None] = []
    extend = sequence.extend
    for token in text.split():
        stems = cached(token)
        if stems is None:
            stems = _token(token)
        extend(stems)
    found: dict[bytes, list[int]] = defaultdict(list)
    for position, stem in enumerate(sequence, start=1):
        if stem is not None:
            found[stem].append(position)
    return found, len(sequence)


def _bounded(spots: list[int]) -> list[int]:
    """Positions as a tsvector keeps them: at most 16383, at most 256 of them."""
    if spots[-1] > MAX_POSITION:
        spots = sorted({min(spot, MAX_POSITION) for spot in spots})
    return spots[:MAX_POSITIONS_PER_LEXEME]


_COUNT = struct.Struct(">i")
_SINGLE = [struct.pack(">HH", 1, spot) for spot in range(MAX_POSITION + 1)]


def analyse(text: str) -> tuple[bytes, int]:
    """``text`` analysed: its tsvector in PostgreSQL's binary format (for ``COPY ...
    BINARY``), and its length for BM25 (the words kept, stop words left out).

    Layout of ``tsvectorsend``: lexeme count, then per lexeme its UTF-8 text, a zero
    byte, its position count and positions (weight bits zero). ``tsvectorrecv`` sorts
    the lexemes itself.
    """
    found, words = _positions(text)
    parts = [_COUNT.pack(len(found))]
    append = parts.append
    long_text = words > MAX_POSITION
    terms = 0
    for stem, spots in found.items():
        append(stem)
        terms += len(spots)
        if len(spots) == 1 and not long_text:
            append(_SINGLE[spots[0]])
        else:
            spots = _bounded(spots)
            append(struct.pack(f">H{len(spots)}H", len(spots), *spots))
    return b"".join(parts), terms


# --- queries --------------------------------------------------------------------------

_QUERY_ITEM = re.compile(r'(-?)(?:"([^"]*)"?|«([^»]*)»?|(\S+))')


def _quote(stem: str) -> str:
    return "'" + stem.replace("'", "''") + "'"


def _phrase(text: str) -> str | None:
    """The words of ``text`` as one tsquery item: a lexeme, or a phrase with distances."""
    items: list[tuple[int, str]] = []
    for position, word in enumerate(WORD.findall(text)):
        stem = lexeme(word)
        if stem is not None:
            items.append((position, stem))
    if not items:
        return None
    out = _quote(items[0][1])
    for (before, _), (position, stem) in zip(items, items[1:]):
        out += f" <{position - before}> " + _quote(stem)
    return f"( {out} )" if len(items) > 1 else out


def query(text: str, shares: Mapping[str, float] | None = None) -> tuple[str | None, frozenset[str]]:
    """A tsquery (text form) for a search, and the lexemes to highlight.

    Up to :data:`SHORT_QUERY_WORDS` words every word must match, with a web-search
    syntax: « "mots exacts" » (or « …  ») for a phrase, ``-mot`` to exclude, ``OR`` /
    ``OU`` between alternatives. Longer text (a pasted paragraph) matches passages that
    hold two of its most telling words (:func:`telling`, given the share of passages
    holding each lexeme in ``shares``); when none does, :func:`any_of` them is the
    fallback. Without ``shares`` (no counts yet), any of its words. None when no word is
    searchable.
    """
    if is_selection(text):
        every = stems(text)
        if not shares:
            return any_of(every), every
        chosen = telling(every, shares)
        if len(chosen) < 2:
            return any_of(frozenset(chosen)), frozenset(chosen)
        pairs = " | ".join(f"( {_quote(a)} & {_quote(b)} )" for a, b in itertools.combinations(chosen, 2))
        return pairs, frozenset(chosen)
    groups: list[list[str]] = []     # AND of OR-groups
    excluded: list[str] = []
    join_next = False
    for match in _QUERY_ITEM.finditer(text):
        negative, quoted, guillemets, bare = match.groups()
        if bare in ("OR", "OU") and not negative:
            join_next = bool(groups)
            continue
        item = _phrase(quoted if quoted is not None else guillemets if guillemets is not None else bare)
        if item is None:
            continue
        if negative:
            excluded.append(item)
        elif join_next:
            groups[-1].append(item)
        else:
            groups.append([item])
        join_next = False
    if not groups:
        return None, frozenset()
    parts = [group[0] if len(group) == 1 else "( " + " | ".join(group) + " )" for group in groups]
    parts += ["!" + item for item in excluded]
    highlighted = frozenset(re.findall(r"'((?:[^']|'')*)'", " ".join(p for g in groups for p in g)))
    return " & ".join(parts), frozenset(s.replace("''", "'") for s in highlighted)


def is_keyword_list(text: str) -> bool:
    """Whether ``text`` is a chain of short keywords separated by dashes, as a titrage is
    (« bail commercial – clause résolutoire – commandement de payer »), rather than prose
    that holds a dash."""
    items = [item for item in KEYWORD_SEPARATOR.split(text) if item.strip()]
    return len(items) > 1 and all(len(item.split()) <= MAX_KEYWORD_WORDS for item in items)


def is_selection(text: str) -> bool:
    """Whether ``text`` is searched by its telling words, as a pasted selection (more
    than :data:`SHORT_QUERY_WORDS` words) or a keyword list, rather than as a query whose
    every word must match."""
    return len(text.split()) > SHORT_QUERY_WORDS or is_keyword_list(text)


def any_of(stems: frozenset[str]) -> str | None:
    """A tsquery matching any of ``stems`` (a long query's fallback)."""
    return " | ".join(_quote(s) for s in sorted(stems)) or None


def stems(text: str) -> frozenset[str]:
    """The lexemes of ``text`` (stop words left out)."""
    return frozenset(s for w in WORD.findall(text) if (s := lexeme(w)) is not None)


def telling(candidates: frozenset[str], shares: Mapping[str, float]) -> list[str]:
    """The lexemes of a long query worth searching: at most :data:`LONG_QUERY_TERMS`,
    the rarest first among those ``shares`` knows, leaving out those in more than
    :data:`COMMON_SHARE` of passages and those of one or two letters. A lexeme ``shares``
    does not know (no passage holds it, or it arrived since the last count) only comes
    after those. When nothing else remains, the three least common words are kept."""
    ranked = sorted(candidates, key=lambda stem: (stem not in shares, shares.get(stem, 0.0), stem))
    words = [stem for stem in ranked if len(stem) >= MIN_TELLING_CHARS] or ranked
    kept = [stem for stem in words if shares.get(stem, 0.0) <= COMMON_SHARE] or words[:3]
    return sorted(kept[:LONG_QUERY_TERMS])


def marks(text: str, stems: frozenset[str]) -> list[list[int]]:
    """Character spans of the words of ``text`` whose lexeme is one of ``stems``."""
    if not stems:
        return []
    # Each distinct word is stemmed once (a passage repeats its words); most have no match.
    matching = {word for word in set(WORD.findall(text)) if lexeme(word) in stems}
    if not matching:
        return []
    return [[m.start(), m.end()] for m in WORD.finditer(text) if m.group() in matching]
