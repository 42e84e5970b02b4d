"""The AI Observatory API: admins only, figures computed from the records, CSV export."""
from __future__ import annotations

import csv
import io

import pytest

from backend import audit

from .helpers import GREFFIER, MAGISTRAT, as_user, execute, record

ADMIN = {"id": "admin-1", "name": "Admin", "roles": ["Plume.Admin"], "jurisdictions": []}


def _observatory_routes(app) -> list[str]:
    routes = sorted(rule.rule for rule in app.url_map.iter_rules()
                    if rule.rule.startswith("/api/v1/observatory"))
    assert len(routes) >= 7
    return routes


@pytest.mark.parametrize("user", [MAGISTRAT, GREFFIER], ids=["magistrat", "greffier"])
def test_every_observatory_route_refuses_non_admins(make_app, user):
    app = make_app(DEV_USER=user)
    client = app.test_client()
    for route in _observatory_routes(app):
        response = client.get(route)
        assert response.status_code == 403, route
        assert response.json["error"] == "acces_refuse"


def test_admin_reads_every_route(make_app):
    app = make_app(DEV_USER=ADMIN)
    client = app.test_client()
    for route in _observatory_routes(app):
        assert client.get(route).status_code == 200, route


@pytest.fixture
def seeded(make_app, database_url):
    """Two magistrate drafts (one inserted then edited, one discarded), a clerk summary that
    failed upstream, one stopped, a search; feedback on both drafts (the second rated 👍 then
    👎, which counts as one 👎)."""
    app = make_app(DEV_USER=ADMIN)
    first = record(app, MAGISTRAT, task="draft")
    second = record(app, MAGISTRAT, task="draft")
    record(app, GREFFIER, task="mail-summary", outcome="error", error_code="amont_indisponible",
           ttft=False)
    record(app, GREFFIER, task="mail-summary", outcome="stopped")
    record(app, MAGISTRAT, kind="search", task="search", ttft=False)
    ctx = as_user(app, MAGISTRAT)
    try:
        audit.record_event(first, "inserted", user_hash="h")
        audit.record_event(first, "edited", user_hash="h")
        audit.record_event(first, "feedback", user_hash="h", useful=True, comment="Bon plan")
        audit.record_event(second, "discarded", user_hash="h")
        # 👍 then 👎 on the same answer: the observatory counts the last one only.
        audit.record_event(second, "feedback", user_hash="h", useful=True)
        audit.record_event(second, "feedback", user_hash="h", useful=False)
    finally:
        ctx.pop()
    execute(database_url, "UPDATE audit_interactions SET ttft_ms = 100 * seq, duration_ms = 1000 * seq")
    return app.test_client()


def test_usage_by_task_role_jurisdiction_and_week(seeded):
    by_task = seeded.get("/api/v1/observatory/usage?by=task").json
    assert by_task["rows"] == [
        {"key": "draft", "interactions": 2, "users": 1},
        {"key": "mail-summary", "interactions": 2, "users": 1},
        {"key": "search", "interactions": 1, "users": 1},
    ]
    by_role = {r["key"]: r["interactions"] for r in
               seeded.get("/api/v1/observatory/usage?by=role").json["rows"]}
    assert by_role == {"Plume.Magistrat": 3, "Plume.Greffier": 2}
    by_place = {r["key"]: r["users"] for r in
                seeded.get("/api/v1/observatory/usage?by=jurisdiction").json["rows"]}
    assert by_place == {"Cour d'appel de Paris": 1, "Tribunal judiciaire de Lyon": 1}
    weeks = seeded.get("/api/v1/observatory/usage?by=week").json["rows"]
    assert len(weeks) == 1 and weeks[0]["interactions"] == 5
    bad = seeded.get("/api/v1/observatory/usage?by=couleur")
    assert bad.status_code == 400 and bad.json["field"] == "by"


def test_latency_errors_feedback_and_text_outcomes(seeded):
    latency = {r["task"]: r for r in seeded.get("/api/v1/observatory/latency").json["rows"]}
    assert latency["draft"]["ttft_p50"] == 150.0  # records 1 and 2: 100 and 200 ms
    assert latency["toutes"]["interactions"] == 3  # successful interactions only

    errors = seeded.get("/api/v1/observatory/errors").json
    summary = {r["task"]: r for r in errors["by_task"]}
    assert summary["mail-summary"]["error_rate"] == 0.5 and summary["mail-summary"]["stop_rate"] == 0.5
    assert errors["by_cause"] == [{"cause": "amont_indisponible", "errors": 1, "rate": 0.2}]

    feedback = seeded.get("/api/v1/observatory/feedback").json
    assert feedback["by_task"] == [{"task": "draft", "useful": 1, "not_useful": 1, "comments": 1,
                                    "useful_share": 0.5}]
    assert [c["comment"] for c in feedback["recent_comments"]] == ["Bon plan"]

    [draft] = seeded.get("/api/v1/observatory/text-outcomes").json["rows"]
    assert (draft["task"], draft["answers"], draft["inserted"], draft["edited"],
            draft["discarded"], draft["no_action"]) == ("draft", 2, 0, 1, 1, 0)
    assert draft["edited_share"] == 0.5


def test_period_filters_and_validation(seeded):
    empty = seeded.get("/api/v1/observatory/summary?from=2020-01-01&to=2020-01-31").json
    assert empty["period"] == {"from": "2020-01-01", "to": "2020-01-31"}
    assert empty["totals"]["interactions"] == 0
    assert seeded.get("/api/v1/observatory/summary").json["totals"]["interactions"] == 5
    for query, field in (("from=01/02/2026", "from"), ("from=2026-02-01&to=2026-01-01", "from")):
        response = seeded.get(f"/api/v1/observatory/errors?{query}")
        assert response.status_code == 400 and response.json["field"] == field


def test_csv_export_has_one_row_per_interaction_and_no_pseudonym(seeded):
    response = seeded.get("/api/v1/observatory/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert len(table) == 5
    assert [r["text_fate"] for r in table[:2]] == ["edited", "discarded"]
    assert [r["useful"] for r in table[:2]] == ["oui", "non"]
    assert table[2]["error_code"] == "amont_indisponible"
    assert "user_hash" not in table[0] and "Bon plan" not in text
