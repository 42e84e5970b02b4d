"""Liveness and readiness probes."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .. import __version__, db
from ..audit import spool

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
    # Records waiting in this instance's audit spool, or refused by the database: reported,
    # not a reason to be unready (the records are kept; the operator must look).
    audit_spool = spool.status(current_app).as_dict()
    if reason:
        return jsonify(status="indisponible", error="base_indisponible",
                       message="La base de données n'est pas prête.", reason=reason,
                       audit_spool=audit_spool), 503
    if not current_app.config.get("SEARCH_DATABASE_URL"):
        return jsonify(status="ok", audit_spool=audit_spool)
    replica = db.check_search_replica()
    return jsonify(status="ok", search_database="ok" if replica is None else replica,
                   audit_spool=audit_spool)


_SPOOL = {"type": "object", "required": ["pending", "dead"],
          "description": "This instance's audit records outside the chain: waiting in the "
                         "spool, or refused by the database (dead letters)",
          "properties": {"pending": {"type": "integer"}, "dead": {"type": "integer"}}}
_READY = {"type": "object", "required": ["status", "audit_spool"],
          "properties": {"status": {"type": "string"}, "audit_spool": _SPOOL,
                         "search_database": {"type": "string"}, "error": {"type": "string"},
                         "message": {"type": "string"}, "reason": {"type": "string"}}}
OPENAPI = {
    "/healthz": {"get": {"summary": "Liveness probe", "tags": ["ops"], "security": [],
                         "responses": {"200": {"description": "OK"}}}},
    "/readyz": {"get": {"summary": "Readiness probe (database reachable and migrated; the search "
                                   "replica's state and the audit spool reported)",
                        "tags": ["ops"], "security": [],
                        "responses": {
                            "200": {"description": "Ready",
                                    "content": {"application/json": {"schema": _READY}}},
                            "503": {"description": "Not ready, with the reason",
                                    "content": {"application/json": {"schema": _READY}}}}}},
}
