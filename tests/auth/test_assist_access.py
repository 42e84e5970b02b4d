"""The real assistance routes apply the roles and quotas of the auth room before any model call."""
from __future__ import annotations

import pytest

from .conftest import bearer

TEXT = {"text": "Le requérant sollicite le renvoi de l'audience du 12 mars pour raisons médicales."}


@pytest.fixture
def assist_client(entra_app, fake_llm):
    return entra_app(LLM_BASE_URL=fake_llm.url, LLM_MODEL="fake-chat", LLM_DEMO=False).test_client()


@pytest.mark.parametrize("task", ["summarize", "rewrite", "draft"])
def test_greffier_cannot_run_the_magistrates_tasks(assist_client, fake_llm, idp, task):
    response = assist_client.post(f"/api/v1/assist/{task}", json=TEXT,
                                  headers=bearer(idp.token(roles=["Plume.Greffier"])))
    assert response.status_code == 403
    assert response.json["message"] == "Votre rôle ne permet pas d'accéder à cette fonction."
    assert fake_llm.chat_requests() == [], "refused before the model is called"


@pytest.mark.parametrize("task", ["mail-summary", "mail-reply"])
def test_magistrat_cannot_run_the_clerks_tasks(assist_client, fake_llm, idp, task):
    response = assist_client.post(f"/api/v1/assist/{task}", json=TEXT,
                                  headers=bearer(idp.token(roles=["Plume.Magistrat"])))
    assert response.status_code == 403
    assert fake_llm.chat_requests() == []


def test_unsigned_callers_never_reach_the_model(assist_client, fake_llm, idp):
    forged = idp.token(roles=["Plume.Magistrat"])[:-4] + "AAAA"
    for headers in ({}, bearer(forged)):
        assert assist_client.post("/api/v1/assist/summarize", json=TEXT, headers=headers).status_code == 401
    assert fake_llm.chat_requests() == []


def test_rate_limit_refuses_assistance_before_the_stream(entra_app, fake_llm, idp, fresh_minute):
    client = entra_app(LLM_BASE_URL=fake_llm.url, LLM_MODEL="fake-chat", LLM_DEMO=False,
                       QUOTA_REQUESTS_PER_MINUTE=1).test_client()
    token = bearer(idp.token(roles=["Plume.Magistrat"]))
    assert client.post("/api/v1/probe/task/summarize", headers=token).status_code == 200  # the one slot
    refused = client.post("/api/v1/assist/summarize", json=TEXT, headers=token)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "trop de demandes" in refused.json["message"]
    spent = client.get("/api/v1/me", headers=token).json["budgets"]["generation"]["spent"]
    assert spent == 0, "a refused request charges nothing"
    assert not [r for r in fake_llm.requests if "chat/completions" in r.path], \
        "a refused request never reaches the model host"
