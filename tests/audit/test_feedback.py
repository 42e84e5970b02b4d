"""POST /api/v1/feedback: events on one's own interactions, in the chain."""
from __future__ import annotations

import uuid

from .helpers import GREFFIER, MAGISTRAT, record, rows


def _client(make_app, user):
    return make_app(DEV_USER=user).test_client()


def test_feedback_and_text_outcome_are_recorded_as_events(make_app, database_url):
    app = make_app(DEV_USER=MAGISTRAT)
    interaction_id = record(app, MAGISTRAT)
    response = app.test_client().post("/api/v1/feedback", json={
        "interaction_id": interaction_id, "useful": True, "comment": "Résumé fidèle",
        "outcome": "edited"})
    assert response.status_code == 201
    assert response.json == {"recorded": 2, "message": "Merci, votre avis est enregistré."}
    events = rows(database_url, "SELECT interaction_id, kind, useful, comment, seq, user_hash "
                                "FROM audit_events ORDER BY seq")
    assert [(str(e["interaction_id"]), e["kind"], e["useful"], e["comment"]) for e in events] == [
        (interaction_id, "edited", None, None), (interaction_id, "feedback", True, "Résumé fidèle")]
    assert [e["seq"] for e in events] == [2, 3]  # after the interaction, in the same chain
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


def test_unknown_interaction_is_404(make_app):
    client = _client(make_app, MAGISTRAT)
    for interaction_id in (str(uuid.uuid4()), "pas-un-identifiant"):
        response = client.post("/api/v1/feedback", json={"interaction_id": interaction_id,
                                                         "useful": False})
        assert response.status_code == 404
        assert response.json["error"] == "introuvable" and "introuvable" in response.json["message"]


def test_another_users_interaction_is_403(make_app, database_url):
    clerk_app = make_app(DEV_USER=GREFFIER)
    interaction_id = record(clerk_app, GREFFIER, task="mail-summary")
    response = _client(make_app, MAGISTRAT).post(
        "/api/v1/feedback", json={"interaction_id": interaction_id, "outcome": "discarded"})
    assert response.status_code == 403
    assert response.json["message"] == "Vous ne pouvez donner un avis que sur vos propres interactions."
    assert rows(database_url, "SELECT seq FROM audit_events") == []


def test_invalid_bodies_are_400_in_french(make_app):
    app = make_app(DEV_USER=MAGISTRAT)
    interaction_id = record(app, MAGISTRAT)
    client = app.test_client()
    cases = [
        ({"useful": True}, "interaction_id"),
        ({"interaction_id": interaction_id}, "body"),
        ({"interaction_id": interaction_id, "useful": "oui"}, "useful"),
        ({"interaction_id": interaction_id, "outcome": "printed"}, "outcome"),
        ({"interaction_id": interaction_id, "comment": "x" * 1001}, "comment"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/feedback", json=body)
        assert response.status_code == 400, body
        assert response.json["field"] == field and response.json["message"]
