"""Liveness, readiness, the error shape and the add-in files, as a client sees them."""
from __future__ import annotations

import json
import logging

import pytest

from backend import create_app, db


def test_healthz_answers_without_database(make_app):
    app = make_app(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"


def test_readyz_ok_when_database_migrated(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json


def test_readyz_503_with_reason_when_database_unreachable(make_app):
    app = make_app(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.json
    assert body["error"] == "base_indisponible"
    assert "base de données" in body["message"]
    assert body["reason"]


@pytest.mark.parametrize("method,path,status,code", [
    ("get", "/api/v1/nothing-here", 404, "introuvable"),
    ("delete", "/healthz", 405, "methode_non_autorisee"),
])
def test_http_errors_use_the_json_shape_in_french(client, method, path, status, code):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response.json["error"] == code
    assert response.json["message"]  # a French sentence, never a stack trace
    assert set(response.json) == {"error", "message"}


def test_body_too_large_is_413_in_french(make_app):
    app = make_app(MAX_BODY_BYTES=1024)

    @app.post("/api/v1/echo-test")
    def echo():  # pragma: no cover - the limit refuses before
        from flask import request
        return {"n": len(request.get_data())}

    response = app.test_client().post("/api/v1/echo-test", data=b"x" * 5000)
    assert response.status_code == 413
    assert response.json["error"] == "trop_volumineux"


def test_unexpected_exception_is_500_with_request_id_and_no_trace(make_app, caplog):
    app = make_app()

    @app.get("/api/v1/boom-test")
    def boom():
        raise RuntimeError("secret internal detail")

    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/api/v1/boom-test")
    assert response.status_code == 500
    assert response.json["error"] == "erreur_interne"
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert response.json["request_id"] == response.headers["X-Request-Id"]
    assert any("secret internal detail" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_one_json_access_line_per_request_without_body(app, capsys):
    client = app.test_client()
    client.post("/api/v1/nothing-here", json={"text": "CANARY-BODY-7781"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()
             if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "plume.access"]
    assert len(access) == 1
    entry = access[0]
    assert entry["status"] == 404 and entry["path"] == "/api/v1/nothing-here"
    assert {"request_id", "route", "duration_ms", "user"} <= set(entry)
    assert "CANARY-BODY-7781" not in json.dumps(lines)


def test_addin_files_have_csp_and_cache_headers(client):
    response = client.get("/addin/word/")
    assert response.status_code == 200
    assert "text/html" in response.content_type
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' https://appsforoffice.microsoft.com" in csp
    assert "default-src 'self'" in csp
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["ETag"]


@pytest.mark.parametrize("path", ["/addin/../backend/config.py", "/addin/%2e%2e/README.md",
                                  "/addin/missing.js"])
def test_addin_refuses_missing_and_escaping_paths(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json["error"] == "introuvable"


def test_api_responses_carry_security_headers(client):
    response = client.get("/healthz")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
