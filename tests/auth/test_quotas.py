"""Quotas: per-user request rate and daily token budget, shared by every worker through
PostgreSQL, refused with 429, Retry-After and a French message."""
from __future__ import annotations

import threading

import psycopg
import pytest

from backend import auth
from backend.auth import quotas

from .conftest import bearer

GREFFIER, MAGISTRAT = auth.ROLE_GREFFIER, auth.ROLE_MAGISTRAT
pytestmark = pytest.mark.usefixtures("fresh_minute")


def _task(client, token, task="mail-summary"):
    return client.post(f"/api/v1/probe/task/{task}", headers=bearer(token))


def test_request_rate_is_limited_per_user_with_retry_after(entra_app, idp):
    client = entra_app(QUOTA_REQUESTS_PER_MINUTE=3).test_client()
    token = idp.token(roles=[GREFFIER])
    assert [_task(client, token).status_code for _ in range(3)] == [200, 200, 200]
    refused = _task(client, token)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json["error"] == "quota_depasse"
    assert refused.json["message"].startswith("Vous avez envoyé trop de demandes en peu de temps. Réessayez dans")
    assert refused.json["retry_after"] == int(refused.headers["Retry-After"])
    # Someone else is not affected.
    other = idp.token(roles=[GREFFIER], oid="b0000000-0000-4000-8000-000000000002")
    assert _task(client, other).status_code == 200


def test_rate_is_shared_between_workers(entra_app, idp):
    """Two apps on one database stand for two gunicorn workers (or two instances)."""
    workers = [entra_app(QUOTA_REQUESTS_PER_MINUTE=4).test_client() for _ in range(2)]
    token = idp.token(roles=[GREFFIER])
    statuses = [_task(workers[i % 2], token).status_code for i in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_concurrent_requests_never_exceed_the_rate(entra_app):
    app = entra_app(QUOTA_REQUESTS_PER_MINUTE=5)
    outcomes: list[str] = []
    barrier = threading.Barrier(12)

    def attempt() -> None:
        with app.app_context():
            barrier.wait()
            try:
                quotas.check("concurrent-user", "generation", per_minute=5, daily_budget=None)
                outcomes.append("ok")
            except Exception as exc:  # noqa: BLE001 - the refusal is what we count
                outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["RateLimited"] * 7 + ["ok"] * 5


def test_daily_token_budget_per_family(entra_app, idp):
    client = entra_app(QUOTA_DAILY_TOKENS={"generation": 1000}).test_client()
    token = idp.token(roles=[GREFFIER, MAGISTRAT])
    assert client.post("/api/v1/probe/charge/mail-summary/600", headers=bearer(token)).status_code == 200
    assert _task(client, token, "draft").status_code == 200, "600 of 1000 spent: still allowed"
    client.post("/api/v1/probe/charge/draft/450", headers=bearer(token))

    refused = _task(client, token, "mail-reply")
    assert refused.status_code == 429
    assert refused.json["message"] == ("Vous avez atteint votre quota quotidien pour la rédaction "
                                       "assistée. Il sera rétabli à minuit.")
    assert 1 <= int(refused.headers["Retry-After"]) <= 25 * 3600
    assert _task(client, token, "search").status_code == 200, "other families keep their own budget"
    other = idp.token(roles=[GREFFIER], oid="c0000000-0000-4000-8000-000000000003")
    assert _task(client, other, "mail-reply").status_code == 200, "budgets are per user"

    me = client.get("/api/v1/me", headers=bearer(token)).json
    assert me["budgets"] == {"generation": {"budget": 1000, "spent": 1050}}


def test_counters_hold_pseudonyms_not_user_ids(entra_app, idp, database_url):
    client = entra_app(QUOTA_DAILY_TOKENS={"generation": 1000}).test_client()
    token = idp.token(roles=[GREFFIER])
    _task(client, token)
    client.post("/api/v1/probe/charge/mail-summary/10", headers=bearer(token))
    with psycopg.connect(database_url) as conn:
        stored = conn.execute("SELECT user_hash FROM quota_rate UNION ALL "
                              "SELECT user_hash FROM quota_tokens").fetchall()
    assert len(stored) == 2
    assert all(row[0] != idp.claims()["oid"] and len(row[0]) == 32 for row in stored)


def test_limits_can_be_switched_off(entra_app, idp):
    client = entra_app(QUOTA_REQUESTS_PER_MINUTE=0, QUOTA_DAILY_TOKENS={}).test_client()
    token = idp.token(roles=[GREFFIER])
    client.post("/api/v1/probe/charge/mail-summary/99999999", headers=bearer(token))
    assert all(_task(client, token).status_code == 200 for _ in range(70))
