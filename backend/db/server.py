"""What Plume needs of its PostgreSQL server, checked before the migrations run.

Production minimum: PostgreSQL 16 or later with pgvector 0.8 or later, and the contrib extensions
pg_trgm and unaccent. pgvector 0.8 brings the iterative index scans that keep a filtered vector
search from starving; PostgreSQL 16 is the oldest release the migrations are written and tested
for; the migrations create pg_trgm and unaccent. A server short of any of them is
refused at start with a French message naming what was found, instead of failing later in
the middle of a migration or of a search.
"""
from __future__ import annotations

import re

import click
import psycopg

MIN_POSTGRES = 16
MIN_PGVECTOR = (0, 8)
# PostgreSQL's contrib extensions the migrations create: decision numbers (pg_trgm) and the
# French text analysis (unaccent). Debian's postgresql-NN package ships them; a managed
# offer has to allow them.
CONTRIB = ("pg_trgm", "unaccent")


class DatabaseSetupError(click.ClickException):
    """The database cannot be used as it is; the message (French) says what to do.

    A ClickException so that ``python -m backend serve`` / ``migrate`` print the message
    alone, without a traceback (and without click's English « Error: »), and exit 1.
    """

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        click.echo(self.format_message(), err=True, file=file)


def version_tuple(version: str) -> tuple[int, ...]:
    """``"0.8.1"`` → ``(0, 8, 1)``; a suffix such as ``-dev`` is ignored."""
    match = re.match(r"\d+(?:\.\d+)*", version.strip())
    if not match:
        raise ValueError(f"not a version: {version!r}")
    return tuple(int(part) for part in match.group(0).split("."))


def judge(server_version: str, vector_available: str | None,
          vector_installed: str | None) -> str | None:
    """None when this server qualifies, else why not, in French.

    ``server_version`` is PostgreSQL's ``server_version`` (``"18.6"``, ``"16.2 (Debian …)"``);
    ``vector_available`` the version ``CREATE EXTENSION vector`` would install (None: the
    extension is not on the server); ``vector_installed`` the version in this database
    (None: not created yet, the first migration creates it).
    """
    wanted = (f"Plume demande PostgreSQL {MIN_POSTGRES} ou plus récent avec pgvector "
              f"{'.'.join(map(str, MIN_PGVECTOR))} ou plus récent.")
    if version_tuple(server_version)[0] < MIN_POSTGRES:
        return f"Serveur PostgreSQL {server_version} trouvé. {wanted}"
    if vector_available is None and vector_installed is None:
        return (f"L'extension pgvector n'est pas disponible sur ce serveur PostgreSQL "
                f"{server_version}. {wanted} Installez-la (Debian : paquet "
                f"postgresql-{version_tuple(server_version)[0]}-pgvector ; offre gérée : "
                "activez l'extension « vector »).")
    if vector_installed is not None and version_tuple(vector_installed) < MIN_PGVECTOR:
        if vector_available is not None and version_tuple(vector_available) >= MIN_PGVECTOR:
            return (f"L'extension vector de cette base est en version {vector_installed}, "
                    f"alors que le serveur propose la {vector_available}. {wanted} Exécutez "
                    "« ALTER EXTENSION vector UPDATE; » dans cette base (en tant que son "
                    "propriétaire), puis relancez Plume.")
        return (f"pgvector {vector_installed} trouvé sur PostgreSQL {server_version}. {wanted} "
                "Mettez à jour le paquet pgvector du serveur, puis exécutez "
                "« ALTER EXTENSION vector UPDATE; » dans cette base.")
    if vector_installed is None and version_tuple(vector_available or "0") < MIN_PGVECTOR:
        return (f"pgvector {vector_available} trouvé sur PostgreSQL {server_version}. {wanted} "
                "Mettez à jour le paquet pgvector du serveur.")
    return None


def judge_contrib(missing: list[str]) -> str | None:
    """Why the server cannot be used when contrib extensions are missing (None when none is)."""
    if not missing:
        return None
    names = ", ".join(f"« {name} »" for name in missing)
    return (f"Extension{'s' if len(missing) > 1 else ''} PostgreSQL absente{'s' if len(missing) > 1 else ''} "
            f"de ce serveur : {names} (modules « contrib » de PostgreSQL). Installez-les (Debian : "
            "paquet postgresql-contrib ; offre gérée : autorisez ces extensions), puis relancez.")


def missing_contrib(conn: psycopg.Connection) -> list[str]:
    """The contrib extensions neither installed in this database nor available on the server."""
    rows = conn.execute(
        "SELECT name FROM unnest(%s::text[]) AS name WHERE name NOT IN "
        "(SELECT name FROM pg_available_extensions UNION SELECT extname FROM pg_extension)",
        [list(CONTRIB)]).fetchall()
    return sorted(row[0] for row in rows)


def read_versions(conn: psycopg.Connection) -> tuple[str, str | None, str | None]:
    """(server version, pgvector available, pgvector installed here) as the server says."""
    server_version = conn.execute("SHOW server_version").fetchone()[0]
    row = conn.execute(
        "SELECT (SELECT default_version FROM pg_available_extensions WHERE name = 'vector'),"
        "       (SELECT extversion FROM pg_extension WHERE extname = 'vector')").fetchone()
    return server_version, row[0], row[1]


def check_server(conn: psycopg.Connection) -> None:
    """Raise :class:`DatabaseSetupError` unless the server meets the production minimum."""
    found = read_versions(conn)
    reason = judge(*found) or judge_contrib(missing_contrib(conn))
    if reason:
        raise DatabaseSetupError(reason)
