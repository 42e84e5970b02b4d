"""Apps that validate Entra tokens from the fake identity provider."""
from __future__ import annotations

import time
from typing import Any

import psycopg

import pytest
from flask import Blueprint, jsonify

from backend import auth
from tests.fakes.idp import CLIENT_ID, TENANT


def entra_settings(idp, **overrides: Any) -> dict[str, Any]:
    return {"AUTH_MODE": "entra", "AUTH_TENANT_ID": TENANT, "AUTH_CLIENT_ID": CLIENT_ID,
            "AUTH_OPENID_CONFIG_URL": idp.discovery_url, **overrides}


def probe_blueprint() -> Blueprint:
    """Routes that exercise the room's functions the way real use cases do."""
    bp = Blueprint("auth_probe", __name__)

    @bp.get("/api/v1/probe/whoami")
    def whoami():
        user = auth.current_user()
        return jsonify(id=user.id, name=user.name, roles=sorted(user.roles),
                       jurisdictions=sorted(user.jurisdictions), tenant=user.tenant)

    @bp.post("/api/v1/probe/task/<task>")
    def run_task(task: str):
        auth.authorize_task(task)
        auth.check_quota(task)
        return jsonify(ok=True)

    @bp.post("/api/v1/probe/charge/<task>/<int:tokens>")
    def charge(task: str, tokens: int):
        auth.charge_tokens(task, tokens)
        return jsonify(ok=True)

    @bp.get("/api/v1/probe/admin")
    @auth.require_roles(auth.ROLE_ADMIN)
    def admin_only():
        return jsonify(ok=True)

    return bp


@pytest.fixture
def entra_app(make_app, idp):
    """An app in Entra mode trusting the fake identity provider, with probe routes."""

    def factory(**overrides: Any):
        app = make_app(**entra_settings(idp, **overrides))
        app.register_blueprint(probe_blueprint())
        return app

    return factory


@pytest.fixture
def entra_client(entra_app):
    return entra_app().test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def fresh_minute(database_url):
    """Start far enough from a minute boundary that a fixed rate window cannot roll over mid-test."""
    with psycopg.connect(database_url) as conn:
        into = float(conn.execute(
            "SELECT extract(epoch FROM now() - date_trunc('minute', now()))").fetchone()[0])
    if into > 45:
        time.sleep(61 - into)
