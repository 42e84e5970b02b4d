"""The retrieval room: French case law, loaded in bulk and searched by words and meaning.

Functions other rooms call:

- :func:`ingest_paths` — load JSON lines, .docx and .pdf decisions (``python -m backend
  ingest``; ``serve`` loads the sample corpus into an empty database);
- :func:`count_decisions`;
- :func:`search` — hybrid search over the decisions ``user`` may see (a query that is a
  decision number finds that decision first, :mod:`.numbers`);
- :func:`grounding_sources` / :func:`check_citations` — numbered sources for the
  ``draft`` task, and the server-side check of the citations in what the model wrote.

Vectors are filled after ingestion by a background thread of the serving process
(``PLUME_EMBED_IN_BACKGROUND``) or by ``python -m backend embed``; until then search is
lexical only. Modules: :mod:`.records` and :mod:`.text` (preparing decisions),
:mod:`.ingest`, :mod:`.embeddings` and :mod:`.vectors`, :mod:`.search` and its
figures in :mod:`.tuning`, :mod:`.lexical` (what PostgreSQL's French analysis is asked),
:mod:`.citations`, :mod:`.grounding`. Modules import downwards only (ingest, vectors ←
search ← this package), never this package.
"""
from __future__ import annotations

import threading
from typing import Any, Iterable, Mapping

import click
from flask import Flask, current_app, request
from flask.cli import with_appcontext

from .. import db
from . import grounding, ingest, judilibre, search as searching, vectors
from .embeddings import model_name
from .ingest import IngestReport
from .numbers import number_search
from .search import Filters, SearchResult
from .vectors import get_embedder, vectors_ready

__all__ = ["init_app", "ingest_paths", "count_decisions", "search", "search_detailed",
           "grounding_sources", "check_citations", "IngestReport", "Filters", "SearchResult",
           "model_name", "get_embedder", "vectors_ready", "embed_pending"]

def ingest_paths(paths: Iterable[str], progress: bool = True, *,
                 writers: int | None = None) -> IngestReport:
    """Load decisions from JSON lines (corpus format), .docx and .pdf files, and what
    Judilibre's API returns (decisions, /export batches; a transaction history removes the
    decisions deleted at the source), see :mod:`.judilibre`.

    Idempotent: a decision whose content is unchanged is skipped, a changed one replaced.
    ``writers``: batches stored at once (default: from the cores, see ``ingest._writer_count``).
    Returns an :class:`IngestReport` (``summary()`` in French, ``failed_files``).
    """
    vectors.ensure_model(model_name(current_app.config))
    histories, paths = judilibre.split_histories(paths)  # Judilibre's deletions, after the loads
    report = ingest.ingest_paths(paths, progress=progress, writers=writers)
    ingest.apply_histories(histories, report)
    vectors.forget_readiness()
    return report


def count_decisions() -> int:
    with db.connection() as conn:
        return conn.execute("SELECT count(*) FROM decisions").fetchone()[0]


def search_detailed(query: str, user: Any, k: int = 10, filters: Mapping[str, Any] | Filters | None = None,
                    per_decision: int = 1) -> SearchResult:
    """Hybrid search with what the caller should tell the user (``notice``) when degraded."""
    if not isinstance(filters, Filters):
        filters = Filters.from_mapping(filters)
    if not " ".join((query or "").split()):
        return searching.run(query, user, k=k, filters=filters, per_decision=per_decision)  # raises
    by_number = number_search(query, user, k=k, filters=filters, per_decision=per_decision)
    if by_number is not None:  # a decision number: that decision first
        return by_number
    vector, notice = searching.embed_query(query)
    result = searching.run(query, user, k=k, filters=filters, per_decision=per_decision,
                           vector=vector)
    result.notice = notice
    return result


def search(query: str, user: Any, k: int = 10, filters: Mapping[str, Any] | None = None,
           per_decision: int = 1) -> list[dict]:
    """Hits over the decisions ``user`` may see (public, or private to their jurisdictions).

    Each hit: ``passage_id``, ``decision_id``, ``citation``, ``zone``, ``text`` with
    ``marks`` (offsets of the matched words), ``score``, ``decision`` metadata.
    """
    return search_detailed(query, user, k=k, filters=filters, per_decision=per_decision).hits


def grounding_sources(query: str, user: Any, k: int = 6) -> list[dict]:
    """Passages to give the model as numbered sources [1]…[k] for a grounded draft.

    Up to two passages per decision, so one strong precedent can be quoted from its
    reasons and its operative part.
    """
    hits = search(query, user, k=k, per_decision=2)
    return [{"n": n, "passage_id": hit["passage_id"], "decision_id": hit["decision_id"],
             "citation": hit["citation"], "zone": hit["zone"], "date": hit["decision"]["date"],
             "jurisdiction": hit["decision"]["jurisdiction"], "text": hit["text"]}
            for n, hit in enumerate(hits, start=1)]


def check_citations(text: str, sources: list[dict]) -> list[dict]:
    """Flags for a drafted text: ``[n]`` naming no given source, quotes not found verbatim.

    Each flag: ``kind`` (``unknown_source`` | ``quote_not_found``), ``ref``, ``quote``,
    ``message`` (French).
    """
    return grounding.check(text, sources)


def embed_pending(progress: bool = False, limit: int | None = None) -> int:
    """Compute missing passage vectors now (the ``embed`` command)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    vectors.ensure_model(model_name(app.config))
    batch = app.config.get("EMBEDDINGS_BATCH_SIZE", 64) if app.config.get("EMBEDDINGS_BASE_URL") else 8
    done = vectors.embed_pending(get_embedder(app), batch=batch, limit=limit, progress=progress)
    vectors.forget_readiness(app)
    return done


@click.command("embed")
@click.option("--limit", type=int, default=None, help="Stop after this many passages.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@with_appcontext
def embed_command(limit: int | None, quiet: bool) -> None:
    """Compute the vectors of passages that have none (after ingestion or a model change)."""
    done = embed_pending(progress=not quiet, limit=limit)
    click.echo(f"Vecteurs calculés : {done}.")


@click.command("reindex-vectors")
@click.option("--memory", default="2GB", show_default=True,
              help="maintenance_work_mem of the build (about 2GB per million passages).")
@click.option("--force", is_flag=True, help="Rebuild even if the index is already up to date.")
@with_appcontext
def reindex_vectors_command(memory: str, force: bool) -> None:
    """Rebuild the vector index with the current parameters, without stopping searches."""
    before = vectors.vector_index_parameters()
    if not vectors.rebuild_vector_index(memory=memory, force=force):
        click.echo(f"Index des vecteurs déjà à jour ({before}).")
        return
    click.echo(f"Index des vecteurs reconstruit : {before} → {vectors.HNSW_PARAMETERS}.")


def init_app(app: Flask) -> None:
    """Register the ``embed`` and ``reindex-vectors`` commands and the background embedder
    of the serving process."""
    app.extensions["plume.retrieval"] = {"lock": threading.Lock(), "embedder": None,
                                         "background": None}
    app.cli.add_command(embed_command)
    app.cli.add_command(reindex_vectors_command)

    def start_embedder(app: Flask) -> None:
        vectors.start_background(app)

    app.extensions.setdefault("plume.serve_hooks", []).append(start_embedder)

    @app.before_request
    def _start_embedder_in_workers() -> None:
        # gunicorn workers never run `serve`: start the thread on their first API request.
        if app.testing or not request.path.startswith("/api/"):
            return
        if app.extensions["plume.retrieval"].get("background") is None:
            start_embedder(app)
