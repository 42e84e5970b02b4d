"""Pseudonymisation on the re-identified test set (tests/pseudonymize/testset.py).

Prints: recall of persons' mentions, of addresses/places/dates and of identifiers; the
share of professionals' names wrongly replaced; precision; the share of decisions that
still show at least one person's mention; characters per second; the time for a
30-page decision; the model's load time and memory.

    .venv/bin/python bench/pseudonymize.py [--limit N] [--seed 19] [--errors 30]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.pseudonymize import load_model, model_info, pseudonymize  # noqa: E402
from tests.pseudonymize.testset import Score, build  # noqa: E402

PAGE_CHARS = 3000  # a page of a decision, in characters


def model_person_spans(nlp, text: str) -> list[tuple[int, int]]:
    """The raw model's persons (what a bare spaCy run would replace)."""
    spans = []
    for offset in range(0, len(text), 100_000):
        doc = nlp(text[offset:offset + 100_000])
        spans += [(offset + e.start_char, offset + e.end_char) for e in doc.ents if e.label_ == "PER"]
    return spans


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--errors", type=int, default=0, help="print this many misses and wrong replacements")
    parser.add_argument("--only-slots", action="store_true", help="only decisions with a filled slot")
    args = parser.parse_args()

    documents = build(args.seed, args.limit)
    nlp = load_model()
    print(json.dumps({"model": model_info()}, ensure_ascii=False))
    score, raw = Score(), Score()
    chars, seconds = 0, 0.0
    for document in documents:
        if args.only_slots and not any(t.category == "personne" for t in document.truth):
            continue
        started = time.perf_counter()
        result = pseudonymize(document.text)
        seconds += time.perf_counter() - started
        chars += len(document.text)
        model_spans = model_person_spans(nlp, document.text)
        score.add(document, result.entities, model_spans)
        raw.add(document, [{"start": s, "end": e, "category": "personne"} for s, e in model_spans], model_spans)
    figures = score.figures()
    figures["chars_per_second"] = round(chars / seconds) if seconds else 0
    figures["documents"] = len(documents)
    # A 30-page decision: the longest sample decisions put end to end up to 30 pages.
    longest = sorted((d.text for d in documents), key=len, reverse=True)
    thirty, index = "", 0
    while len(thirty) < 30 * PAGE_CHARS and longest:
        thirty += longest[index % len(longest)] + "\n\n"
        index += 1
    thirty = thirty[:30 * PAGE_CHARS]
    started = time.perf_counter()
    pseudonymize(thirty)
    figures["seconds_30_pages"] = round(time.perf_counter() - started, 2)
    print(json.dumps({"plume": figures}, ensure_ascii=False))
    print(json.dumps({"spacy_alone": {k: v for k, v in raw.figures().items()
                                      if k in ("recall_persons", "documents_leaking", "precision")}},
                     ensure_ascii=False))
    if args.errors:
        for doc_id, category, context in score.misses[:args.errors]:
            print("MISS", category, doc_id[-8:], context)
        for doc_id, context in score.wrong[:args.errors]:
            print("WRONG", doc_id[-8:], re.sub(r"\s+", " ", context))


if __name__ == "__main__":
    main()
