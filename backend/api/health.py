"""Liveness and readiness probes."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .. import db
from ..version import __version__

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up (no dependency is checked)."""
    return jsonify(status="ok", version=__version__)


@bp.get("/readyz")
def readyz():
    """The database answers and is migrated; 503 with the reason otherwise.

    A search replica, when configured, is reported but does not make the instance unready:
    every instance shares it, and without it only searches fail.
    """
    reason = db.check_ready()
    if reason:
        return jsonify(status="indisponible", error="base_indisponible",
                       message="La base de données n'est pas prête.", reason=reason), 503
    if not current_app.config.get("SEARCH_DATABASE_URL"):
        return jsonify(status="ok")
    replica = db.check_search_replica()
    return jsonify(status="ok", search_database="ok" if replica is None else replica)


_PROBE = {"responses": {"200": {"description": "OK"}}}
OPENAPI = {
    "/healthz": {"get": {"summary": "Liveness probe", "tags": ["ops"], **_PROBE}},
    "/readyz": {"get": {"summary": "Readiness probe (database reachable and migrated; the search "
                                   "replica's state reported, when one is configured)",
                        "tags": ["ops"],
                        "responses": {"200": {"description": "Ready"},
                                      "503": {"description": "Not ready, with the reason"}}}},
}
