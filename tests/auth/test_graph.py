"""Microsoft Graph on behalf of the user: msal's confidential client against the fake
identity provider (over TLS, as msal requires), cached in memory, never logged."""
from __future__ import annotations

import logging

import pytest
from flask import jsonify

from backend import auth
from backend.logs import JsonFormatter

from .conftest import bearer, entra_settings

GRAPH_SCOPES = ["https://graph.microsoft.com/Mail.Read"]
SECRET = "s3cret-client-credential"


def _graph_app(make_app, idp, **overrides):
    app = make_app(**entra_settings(idp, AUTH_AUTHORITY=idp.authority, **overrides))

    @app.get("/api/v1/probe/graph")
    def graph():
        token = auth.graph_token_on_behalf_of(GRAPH_SCOPES)
        return jsonify(length=len(token), prefix=token[:12])

    return app


def test_on_behalf_of_exchanges_the_user_token_once_and_caches_it(make_app, tls_idp, caplog):
    client = _graph_app(make_app, tls_idp, AUTH_CLIENT_SECRET=SECRET).test_client()
    user_token = tls_idp.token()
    with caplog.at_level(logging.DEBUG):
        first = client.get("/api/v1/probe/graph", headers=bearer(user_token))
        second = client.get("/api/v1/probe/graph", headers=bearer(user_token))
    assert first.status_code == 200, first.json
    assert first.json == {"length": len("graph-token-1"), "prefix": "graph-token-"}
    assert second.json == first.json
    assert len(tls_idp.obo_requests) == 1, "the second call is served from the in-memory cache"
    sent = tls_idp.obo_requests[0]
    assert sent["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assert sent["requested_token_use"] == ["on_behalf_of"]
    assert sent["assertion"] == [user_token]
    assert GRAPH_SCOPES[0] in sent["scope"][0]

    logged = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    for secret in (user_token, "graph-token-1", SECRET):
        assert secret not in logged

    other_user = tls_idp.token(oid="d0000000-0000-4000-8000-000000000004")
    client.get("/api/v1/probe/graph", headers=bearer(other_user))
    assert len(tls_idp.obo_requests) == 2, "each user gets their own token"


def test_missing_consent_is_a_403_in_french(make_app, tls_idp):
    tls_idp.obo_error = "invalid_grant"
    client = _graph_app(make_app, tls_idp, AUTH_CLIENT_SECRET=SECRET).test_client()
    response = client.get("/api/v1/probe/graph", headers=bearer(tls_idp.token()))
    assert response.status_code == 403
    assert response.json["error"] == "consentement_requis"
    assert "consentement" in response.json["message"]


def test_other_identity_errors_are_a_502(make_app, tls_idp):
    tls_idp.obo_error = "temporarily_unavailable"
    client = _graph_app(make_app, tls_idp, AUTH_CLIENT_SECRET=SECRET).test_client()
    response = client.get("/api/v1/probe/graph", headers=bearer(tls_idp.token()))
    assert response.status_code == 502
    assert response.json["error"] == "identite_indisponible"


def test_without_a_client_secret_graph_is_not_configured(make_app, tls_idp):
    client = _graph_app(make_app, tls_idp).test_client()
    response = client.get("/api/v1/probe/graph", headers=bearer(tls_idp.token()))
    assert response.status_code == 503
    assert response.json["message"] == "L'accès à Microsoft 365 n'est pas configuré sur ce serveur."
    assert tls_idp.obo_requests == []


def test_dev_mode_has_no_graph_access(make_app):
    app = make_app()

    @app.get("/api/v1/probe/graph")
    def graph():
        return jsonify(token=auth.graph_token_on_behalf_of(GRAPH_SCOPES))

    response = app.test_client().get("/api/v1/probe/graph")
    assert response.status_code == 503
    assert "Entra ID" in response.json["message"]
