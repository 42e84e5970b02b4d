"""The OpenAPI document describes exactly the routes the app serves."""
from __future__ import annotations

import re

IGNORED_ENDPOINTS = {"static"}


def _flask_to_openapi(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_openapi_matches_registered_routes(app, client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    documented = {(path, method.upper())
                  for path, ops in document["paths"].items() for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in IGNORED_ENDPOINTS:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((_flask_to_openapi(rule.rule), method))
    assert served - documented == set(), "routes missing from the OpenAPI document"
    assert documented - served == set(), "OpenAPI documents routes that do not exist"


def test_every_operation_documents_responses(client):
    document = client.get("/api/v1/openapi.json").json
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            assert op.get("responses"), f"{method.upper()} {path} has no responses"
            assert op.get("summary"), f"{method.upper()} {path} has no summary"
