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


# The Outlook summary reads the whole conversation through Graph -----------------------

QUOTED = ("Bonjour, je vous confirme ma présence à l'audience.\n\n> Le 2 mars, le greffe a écrit :\n"
          "> Merci de confirmer votre présence.")
CONVERSATION = "AAQkADAwATM0MDAAMS1iNmE2LTM0ZjQtMDACLTAwCgAQAK'quote"


@pytest.fixture
def fake_graph():
    from tests.fakes.graph import FakeGraph, Message

    graph = FakeGraph(messages=[
        Message(CONVERSATION, "Maître Dupont", "dupont@avocats.example", "2025-03-01T09:00:00Z",
                "Dossier RG 23/01234", "Je sollicite le renvoi de l'affaire RG 23/01234 pour cause "
                                       "de maladie de mon client."),
        Message(CONVERSATION, "Greffe civil", "greffe@justice.example", "2025-03-02T10:00:00Z",
                "RE: Dossier RG 23/01234", "Merci de confirmer votre présence."),
        Message(CONVERSATION, "Maître Dupont", "dupont@avocats.example", "2025-03-03T11:00:00Z",
                "RE: RE: Dossier RG 23/01234", "Je vous confirme ma présence à l'audience."),
        Message("another-conversation", "X", "x@example", "2025-03-04T11:00:00Z", "Autre",
                "Sans rapport."),
    ]).start()
    yield graph
    graph.stop()


def _summary_client(make_app, idp, fake_llm, fake_graph, **overrides):
    from tests.llm.conftest import FAST

    return make_app(**entra_settings(idp, AUTH_AUTHORITY=idp.authority, LLM_BASE_URL=fake_llm.url,
                                     GRAPH_URL=fake_graph.url, **FAST, **overrides)).test_client()


def _summarise(client, token, **body):
    from tests.llm.conftest import events

    response = client.post("/api/v1/assist/mail-summary", headers=bearer(token),
                           json={"subject": "RE: RE: Dossier RG 23/01234", "text": QUOTED, **body})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert events(response)[-1][0] == "done"


def test_the_outlook_summary_reads_the_whole_conversation_through_graph(
        make_app, tls_idp, fake_llm, fake_graph):
    client = _summary_client(make_app, tls_idp, fake_llm, fake_graph, AUTH_CLIENT_SECRET=SECRET)
    _summarise(client, tls_idp.token(roles=["Plume.Greffier"]), conversation_id=CONVERSATION)

    [sent] = fake_graph.requests
    assert sent.path == "/v1.0/me/messages"
    assert sent.query["$filter"] == [f"conversationId eq '{CONVERSATION.replace(chr(39), chr(39) * 2)}'"]
    assert sent.headers["Authorization"] == "Bearer graph-token-1"  # on behalf of the clerk
    assert "Mail.Read" in tls_idp.obo_requests[0]["scope"][0]
    prompts = "\n".join(r.json["messages"][-1]["content"] for r in fake_llm.chat_requests())
    # What only the first message said, which the quoted text does not hold, reaches the model,
    # oldest message first; another conversation does not.
    assert "renvoi de l'affaire RG 23/01234 pour cause de maladie" in prompts
    assert prompts.index("Message 1 — de Maître Dupont") < prompts.index("Message 3 — de Maître Dupont")
    assert "Sans rapport" not in prompts


def test_without_graph_the_summary_uses_the_quoted_thread(make_app, tls_idp, fake_llm, fake_graph):
    # No client secret: Graph is never asked.
    client = _summary_client(make_app, tls_idp, fake_llm, fake_graph)
    _summarise(client, tls_idp.token(roles=["Plume.Greffier"]), conversation_id=CONVERSATION)
    assert fake_graph.requests == [] and tls_idp.obo_requests == []
    prompts = "\n".join(r.json["messages"][-1]["content"] for r in fake_llm.chat_requests())
    assert "Merci de confirmer votre présence." in prompts and "maladie" not in prompts


def test_a_failing_graph_falls_back_to_the_quoted_thread(make_app, tls_idp, fake_llm, fake_graph, caplog):
    fake_graph.fail_with = 503
    client = _summary_client(make_app, tls_idp, fake_llm, fake_graph, AUTH_CLIENT_SECRET=SECRET)
    with caplog.at_level(logging.WARNING, logger="backend.usecases.mail_thread"):
        _summarise(client, tls_idp.token(roles=["Plume.Greffier"]), conversation_id=CONVERSATION)
    assert len(fake_graph.requests) == 1
    prompts = "\n".join(r.json["messages"][-1]["content"] for r in fake_llm.chat_requests())
    assert "Merci de confirmer votre présence." in prompts and "maladie" not in prompts
    assert [r.error for r in caplog.records if r.name == "backend.usecases.mail_thread"] \
        == ["graph_indisponible"]


def test_a_summary_without_conversation_id_does_not_call_graph(make_app, tls_idp, fake_llm, fake_graph):
    client = _summary_client(make_app, tls_idp, fake_llm, fake_graph, AUTH_CLIENT_SECRET=SECRET)
    _summarise(client, tls_idp.token(roles=["Plume.Greffier"]))
    assert fake_graph.requests == []
