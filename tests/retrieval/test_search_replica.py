"""PLUME_SEARCH_DATABASE_URL: searches read a replica, everything else stays on the primary.

The "replica" is a second database on the test server holding other decisions than the
primary, so a hit shows which database a search read.
"""
from __future__ import annotations

from typing import Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from backend import db

from .conftest import decision, ingest
from .test_search import BAIL, LICENCIEMENT

REPLICA_DB = "plume_search_replica"


@pytest.fixture
def replica_url(database_url: str) -> Iterator[str]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {REPLICA_DB}")
        conn.execute(f"CREATE DATABASE {REPLICA_DB}")
    url = make_conninfo(**{**conninfo_to_dict(database_url), "dbname": REPLICA_DB})
    db.apply_migrations(url)
    yield url
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {REPLICA_DB} WITH (FORCE)")


@pytest.fixture
def apps(make_app, fake_embeddings, replica_url, write_jsonl):
    """The primary holds the lease decision, the replica the dismissal one."""
    settings = {"EMBEDDINGS_BASE_URL": fake_embeddings.url, "EMBEDDINGS_MODEL": "fake-e5",
                "EMBED_IN_BACKGROUND": False}
    primary = make_app(**settings)
    ingest(primary, [write_jsonl([decision("ca-lyon-bail", BAIL)], "primary.jsonl")])
    replica = make_app(**settings, DATABASE_URL=replica_url)
    ingest(replica, [write_jsonl([decision("cass-soc", LICENCIEMENT)], "replica.jsonl")])
    return primary, make_app(**settings, SEARCH_DATABASE_URL=replica_url)


def hits(app, q: str) -> list[str]:
    response = app.test_client().get("/api/v1/search", query_string={"q": q})
    assert response.status_code == 200, response.get_json()
    return [hit["decision_id"] for hit in response.get_json()["hits"]]


def test_searches_read_the_replica_and_record_on_the_primary(apps, database_url, replica_url):
    primary, with_replica = apps
    assert (hits(primary, "bail"), hits(primary, "licenciement")) == (["ca-lyon-bail"], [])
    assert (hits(with_replica, "bail"), hits(with_replica, "licenciement")) == ([], ["cass-soc"])
    # The interaction record of each search is written to the primary, never the replica.
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM audit_interactions WHERE kind = 'search'"
                            ).fetchone()[0] == 4
    with psycopg.connect(replica_url) as conn:
        assert conn.execute("SELECT count(*) FROM audit_interactions").fetchone()[0] == 0


def test_the_search_pool_cannot_write(apps):
    _, with_replica = apps
    with with_replica.app_context():
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            with db.search_connection() as conn:
                conn.execute("DELETE FROM decisions")
        with db.connection() as conn:  # the primary pool still writes
            conn.execute("SELECT 1")


def test_without_a_replica_searches_share_the_primary_pool(make_app):
    app = make_app()
    with app.app_context():
        assert db.get_pool(search=True) is db.get_pool()


def test_readiness_reports_the_replica_without_depending_on_it(apps, make_app, database_url):
    _, with_replica = apps
    ready = with_replica.test_client().get("/readyz").get_json()
    assert (ready["status"], ready["search_database"]) == ("ok", "ok")
    missing = make_conninfo(**{**conninfo_to_dict(database_url), "dbname": "pas_de_replique"})
    broken = make_app(SEARCH_DATABASE_URL=missing)
    response = broken.test_client().get("/readyz")
    assert response.status_code == 200 and response.get_json()["search_database"] != "ok"
    searched = broken.test_client().get("/api/v1/search", query_string={"q": "bail"})
    assert searched.status_code == 503
    assert searched.get_json()["message"].startswith("La base de données est momentanément injoignable")
