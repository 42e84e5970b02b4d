"""Pseudonymisation on the re-identified test set (tests/pseudonymize/testset.py).

Prints, for each split side by side: recall of persons' mentions, of addresses/places/dates
and of identifiers; the share of professionals' names wrongly replaced; precision; the share
of decisions that still show at least one person's mention; CPU seconds per page; then
recall per category, spaCy alone, the time (wall and CPU) for a 30-page decision, and the
model's load time and memory.

Splits: ``dev`` (two decisions in three, the development names), ``validation`` (the same
decisions filled twice with names, streets and towns of neither other split, and rarer name
shapes: what the rules are tuned on), ``validation2`` (other decisions: the dev third's
decisions that have no « [A] » slot, the Cour de cassation's and cours d'appel's, their clear
fictitious parties made slots and filled with names of their own: tuned on too), ``tribunal``
(the dev third's tribunal decisions filled three times with names of their own, in the rarer
shapes of tribunal decisions: tuned on too), ``heldout`` (the third decision, filled three times
with names of its own: only measured), ``all`` (every decision with the development names:
the figures of earlier sessions).

    .venv/bin/python bench/pseudonymize.py [--split dev validation validation2 tribunal heldout] [--limit N]
                                           [--errors 30] [--no-spacy-alone]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.pseudonymize import load_model, model_info, pseudonymize
from tests.pseudonymize.testset import SPLITS, Score, build

PAGE_CHARS = 3000  # a page of a decision, in characters
ROWS = [("recall_persons", "persons' mentions found (≥ 99 %)"),
        ("recall_places_dates", "addresses, places, dates (≥ 95 %)"),
        ("recall_identifiers", "identifiers"),
        ("professionals_replaced", "professionals replaced (≤ 3 %)"),
        ("precision", "precision (≥ 90 %)"),
        ("precision_strict", "precision, strict"),
        ("documents_leaking", "decisions leaking a person (≤ 2 %)"),
        ("leaking", "  leaking / with persons"),
        ("cpu_seconds_per_page", "CPU s per page (3 000 chars)")]


def model_person_spans(nlp, text: str) -> list[tuple[int, int]]:
    """The raw model's persons (what a bare spaCy run would replace)."""
    spans = []
    for offset in range(0, len(text), 100_000):
        doc = nlp(text[offset:offset + 100_000])
        spans += [(offset + e.start_char, offset + e.end_char) for e in doc.ents if e.label_ == "PER"]
    return spans


def run_split(split: str, args, nlp) -> tuple[dict, Score, list, dict]:
    documents = [d for d in build(args.seed, args.limit, split=split)
                 if any(t.category == "personne" for t in d.truth)]
    score, raw = Score(), Score()
    chars, cpu = 0, 0.0
    for document in documents:
        started = time.process_time()
        result = pseudonymize(document.text)
        cpu += time.process_time() - started
        chars += len(document.text)
        model_spans = model_person_spans(nlp, document.text)
        score.add(document, result.entities, model_spans)
        if args.spacy_alone:
            raw.add(document, [{"start": s, "end": e, "category": "personne"} for s, e in model_spans],
                    model_spans)
    figures = score.figures()
    figures["documents"] = len(documents)
    figures["leaking"] = f"{figures['documents_leaking_count']}/{figures['documents_with_persons']}"
    figures["cpu_seconds_per_page"] = round(cpu / (chars / PAGE_CHARS), 3) if chars else 0
    figures["chars_per_cpu_second"] = round(chars / cpu) if cpu else 0
    alone = {k: v for k, v in raw.figures().items() if k in ("recall_persons", "documents_leaking", "precision")}
    return figures, score, documents, alone


def table(results: dict[str, dict]) -> str:
    """The splits side by side, as a Markdown table."""
    splits = list(results)
    lines = ["| measure | " + " | ".join(splits) + " |", "| --- |" + " --- |" * len(splits)]
    for key, label in ROWS:
        cells = []
        for split in splits:
            value = results[split].get(key, "")
            cells.append(f"{value} %" if isinstance(value, float) and key != "cpu_seconds_per_page" else str(value))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", nargs="+", default=["dev", "validation", "validation2", "tribunal", "heldout"], choices=SPLITS)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--errors", type=int, default=0, help="print this many misses and wrong replacements "
                        "(never ask it of the held-out split while tuning)")
    parser.add_argument("--no-spacy-alone", dest="spacy_alone", action="store_false")
    parser.add_argument("--no-thirty-pages", dest="thirty_pages", action="store_false")
    args = parser.parse_args()

    nlp = load_model()
    print(json.dumps({"model": model_info()}, ensure_ascii=False))
    longest: list[str] = []
    results: dict[str, dict] = {}
    for split in args.split:
        figures, score, documents, alone = run_split(split, args, nlp)
        results[split] = figures
        longest += [d.text for d in documents]
        print(json.dumps({split: figures}, ensure_ascii=False), flush=True)
        if args.spacy_alone:
            print(json.dumps({f"{split}_spacy_alone": alone}, ensure_ascii=False), flush=True)
        if args.errors:
            for doc_id, category, context in score.misses[:args.errors]:
                print("MISS", split, category, doc_id[-12:], context)
            for doc_id, context in score.wrong[:args.errors]:
                print("WRONG", split, doc_id[-12:], re.sub(r"\s+", " ", context))
    print(table(results))
    if not args.thirty_pages:
        return
    # A 30-page decision: the longest decisions put end to end up to 30 pages.
    longest.sort(key=len, reverse=True)
    thirty, index = "", 0
    while len(thirty) < 30 * PAGE_CHARS and longest:
        thirty += longest[index % len(longest)] + "\n\n"
        index += 1
    thirty = thirty[:30 * PAGE_CHARS]
    wall, cpu = time.perf_counter(), time.process_time()
    pseudonymize(thirty)
    print(json.dumps({"thirty_pages": {"chars": len(thirty), "wall_seconds": round(time.perf_counter() - wall, 2),
                                       "cpu_seconds": round(time.process_time() - cpu, 2)}}))


if __name__ == "__main__":
    main()
