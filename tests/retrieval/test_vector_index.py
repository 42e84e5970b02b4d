"""The HNSW index of passage vectors: its build parameters, and rebuilding it online."""
from __future__ import annotations

import psycopg

from backend.retrieval.vectors import HNSW_PARAMETERS, vector_index_parameters

from .conftest import embed_all, ingest
from .test_search import CORPUS, _search


def test_a_new_database_has_the_denser_graph(search_app):
    with search_app.app_context():
        assert vector_index_parameters() == {"m": "16", "ef_construction": "128"} == HNSW_PARAMETERS


def test_reindex_vectors_rebuilds_an_older_index_and_searches_still_find(search_app, write_jsonl,
                                                                       database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:   # an index built before 015
        conn.execute("DROP INDEX passages_embedding_idx")
        conn.execute("CREATE INDEX passages_embedding_idx ON passages USING hnsw "
                     "(embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)")
    ingest(search_app, [write_jsonl(CORPUS)])
    embed_all(search_app)
    runner = search_app.test_cli_runner()

    result = runner.invoke(args=["reindex-vectors", "--memory", "64MB"])
    assert result.exit_code == 0, result.output
    assert "Index des vecteurs reconstruit" in result.output and "'64'" in result.output
    with search_app.app_context():
        assert vector_index_parameters() == HNSW_PARAMETERS
    with psycopg.connect(database_url) as conn:
        names = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'passages'")}
    assert "passages_embedding_idx" in names and "passages_embedding_idx_new" not in names
    body = _search(search_app, q="indemnité d'éviction du preneur").get_json()
    assert body["hits"][0]["decision_id"] == "ca-lyon-bail" and body["hits"][0]["semantic_rank"]

    again = runner.invoke(args=["reindex-vectors"])
    assert again.exit_code == 0 and "déjà à jour" in again.output
