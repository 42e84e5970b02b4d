"""Edges: CORS only for the add-in's origins, security headers everywhere, size limits (413)."""
from __future__ import annotations

import pytest
from flask import jsonify, request

from backend.api.edges import body_limit

ADDIN_ORIGIN = "https://plume.justice.fr"


@pytest.fixture
def edge_client(make_app):
    app = make_app(PUBLIC_URL=ADDIN_ORIGIN, CORS_EXTRA_ORIGINS="https://plume-recette.justice.fr")

    @app.post("/api/v1/probe/small")
    @body_limit(1024)
    def small():
        return jsonify(size=len(request.get_data()))

    @app.post("/api/v1/probe/default")
    def default():
        return jsonify(size=len(request.get_data()))

    return app.test_client()


def _preflight(client, origin):
    return client.options("/api/v1/me", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})


@pytest.mark.parametrize("origin", [ADDIN_ORIGIN, "https://plume-recette.justice.fr"])
def test_cors_allows_the_addin_origins(edge_client, origin):
    response = _preflight(edge_client, origin)
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in response.headers
    get = edge_client.get("/api/v1/me", headers={"Origin": origin})
    assert get.headers["Access-Control-Allow-Origin"] == origin
    assert "Retry-After" in get.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("origin", ["https://evil.example", "https://plume.justice.fr.evil.example",
                                    "http://plume.justice.fr", "null"])
def test_cors_ignores_every_other_origin(edge_client, origin):
    assert "Access-Control-Allow-Origin" not in _preflight(edge_client, origin).headers
    assert "Access-Control-Allow-Origin" not in edge_client.get(
        "/api/v1/me", headers={"Origin": origin}).headers


@pytest.mark.parametrize("method,path,status", [
    ("get", "/api/v1/me", 200),
    ("get", "/api/v1/client-config", 200),
    ("get", "/api/v1/nowhere", 404),
    ("get", "/healthz", 200),
    ("post", "/api/v1/client-config", 405),
])
def test_security_headers_on_every_api_response(edge_client, method, path, status):
    response = getattr(edge_client, method)(path)
    assert response.status_code == status
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_addin_pages_may_be_framed_by_office_but_keep_their_headers(edge_client):
    from backend.api.addin import ADDIN_CSP

    response = edge_client.get("/addin/word/index.html")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Frame-Options" not in response.headers
    assert response.headers["Content-Security-Policy"] == ADDIN_CSP


def test_route_limit_refuses_larger_bodies_in_french(edge_client):
    assert edge_client.post("/api/v1/probe/small", data=b"x" * 1024).json == {"size": 1024}
    response = edge_client.post("/api/v1/probe/small", data=b"x" * 1025)
    assert response.status_code == 413
    assert response.json == {"error": "trop_volumineux", "message":
                             "Le contenu envoyé est trop volumineux (au plus 1 Ko pour cette fonction)."}


def test_small_json_routes_have_tight_limits(edge_client):
    response = edge_client.post("/api/v1/feedback", data=b"{" + b" " * 70000 + b"}",
                                content_type="application/json")
    assert response.status_code == 413
    assert "64 Ko" in response.json["message"]
    response = edge_client.put("/api/v1/admin/jurisdictions/someone", data=b"[" * 70000,
                               content_type="application/json")
    assert response.status_code == 413


def test_bodies_on_get_requests_are_refused(edge_client):
    response = edge_client.get("/api/v1/me", data=b"x" * 20000)
    assert response.status_code == 413


def test_default_limit_applies_elsewhere(make_app):
    app = make_app(MAX_BODY_BYTES=4096)

    @app.post("/api/v1/probe/default")
    def default():
        return jsonify(size=len(request.get_data()))

    client = app.test_client()
    assert client.post("/api/v1/probe/default", data=b"x" * 4096).json == {"size": 4096}
    response = client.post("/api/v1/probe/default", data=b"x" * 4097)
    assert response.status_code == 413
    assert response.json["message"] == "Le contenu envoyé est trop volumineux."
