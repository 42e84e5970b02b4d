"""Common French words as court decisions write them, to tell a capitalised word from a name.

A word that the sample decisions write in lower case in the middle of a sentence
(« appelante », « demeurant », « attendu ») is a common word; a capitalised word of that
kind after a line break ends a name, and a model « person » made only of such words is
a heading, not a person. Names are not in the list: the published decisions replaced the
parties' names, and the professionals' names are capitalised. Surnames that are also
common words (« Petit ») are caught by their context (« M. Petit »), never by this list.

Rebuild with ``python -m backend.pseudonymize.vocabulary`` (reads the sample corpus).
"""
from __future__ import annotations

import collections
import functools
import gzip
import json
import re
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data" / "common_words.txt.gz"
CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "decisions.jsonl"
MIN_COUNT = 2
_WORD = re.compile(r"(?<=[a-zàâäçéèêëîïôöùûüÿœ,;] )[a-zàâäçéèêëîïôöùûüÿœ'-]{2,}")


@functools.lru_cache(maxsize=1)
def common() -> frozenset[str]:
    """The common words, lower case."""
    with gzip.open(DATA, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def build(corpus: Path = CORPUS) -> list[str]:
    counts: collections.Counter[str] = collections.Counter()
    with corpus.open(encoding="utf-8") as handle:
        for line in handle:
            text = json.loads(line).get("text") or ""
            counts.update(word.strip("'-") for word in _WORD.findall(text))
    return sorted(word for word, count in counts.items() if count >= MIN_COUNT and len(word) > 1)


def main() -> None:
    words = build()
    with gzip.open(DATA, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(words) + "\n")
    print(f"{len(words)} words -> {DATA}", file=sys.stderr)


if __name__ == "__main__":
    main()
