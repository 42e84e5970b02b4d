"""The production minimum: PostgreSQL 16 or later with pgvector 0.8 or later, checked before migrating."""
from __future__ import annotations

import pgserver
import psycopg
import pytest

from backend.db.server import (DatabaseSetupError, check_server, judge, judge_contrib, missing_contrib,
                               read_versions, version_tuple)


def test_qualifying_servers_pass():
    assert judge("18.6", "0.8.6", "0.8.6") is None
    assert judge("16.4 (Debian 16.4-1.pgdg120+1)", "0.8.0", None) is None  # not created yet
    assert judge("17.2", "0.8.1", "0.8.0") is None


def test_an_old_postgresql_is_named():
    reason = judge("15.8", "0.8.0", "0.8.0")
    assert reason.startswith("Serveur PostgreSQL 15.8 trouvé.")
    assert "PostgreSQL 16 ou plus récent avec pgvector 0.8" in reason


def test_pgvector_missing_or_old_is_named():
    assert "n'est pas disponible sur ce serveur PostgreSQL 16.2" in judge("16.2", None, None)
    assert "postgresql-16-pgvector" in judge("16.2", None, None)
    old = judge("16.2", "0.6.2", "0.6.2")
    assert old.startswith("pgvector 0.6.2 trouvé sur PostgreSQL 16.2.")
    assert judge("16.2", "0.7.4", "0.6.2").startswith("pgvector 0.6.2 trouvé sur PostgreSQL 16.2.")
    assert "pgvector 0.7.4 trouvé" in judge("17.0", "0.7.4", None)


def test_an_extension_left_behind_its_package_says_how_to_update_it():
    reason = judge("17.2", "0.8.0", "0.6.2")
    assert "en version 0.6.2, alors que le serveur propose la 0.8.0" in reason
    assert "ALTER EXTENSION vector UPDATE;" in reason


def test_versions_are_compared_as_numbers():
    assert version_tuple("0.10.0") > version_tuple("0.8.6")
    assert version_tuple("0.8.0-dev") == (0, 8, 0)
    assert judge("16.10", "0.10.0", "0.10.0") is None
    with pytest.raises(ValueError):
        version_tuple("devel")


def test_missing_contrib_extensions_are_named():
    assert judge_contrib([]) is None
    message = judge_contrib(["unaccent"])
    assert message.startswith("Extension PostgreSQL absente de ce serveur : « unaccent »")
    assert "postgresql-contrib" in judge_contrib(["pg_trgm", "unaccent"])


def test_the_embedded_server_qualifies(database_url):
    with psycopg.connect(database_url) as conn:
        server_version, available, installed = read_versions(conn)
        check_server(conn)
        assert missing_contrib(conn) == []
    assert server_version.startswith("18.6")
    assert available == installed == "0.8.6"


def test_the_old_embedded_server_is_refused_with_what_was_found(data_dir):
    server = pgserver.get_server(data_dir / "pg", cleanup_mode="stop")
    try:
        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION vector")
            with pytest.raises(DatabaseSetupError) as refused:
                check_server(conn)
    finally:
        server.cleanup()
    assert refused.value.message.startswith("pgvector 0.6.2 trouvé sur PostgreSQL 16.2.")
