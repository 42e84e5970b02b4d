"""The assistance contract: events in order, errors settled before the first byte."""
from __future__ import annotations

import time

import pytest

from backend import llm

from tests.fakes.upstream import Behaviour
from tests.llm.conftest import events, text_of

TASK_BODIES = {
    "summarize": {"text": "Le tribunal a statué.\n\nLa demande est rejetée."},
    "rewrite": {"text": "Il est fait droit à la demande."},
    "draft": {"instructions": "Rédige l'exposé des faits.", "text": "M. X a saisi le tribunal."},
    "mail-summary": {"text": "Bonjour, je vous écris au sujet du dossier.", "subject": "Dossier"},
    "mail-reply": {"text": "Pouvez-vous me dire la date d'audience ?", "tone": "neutre", "length": "courte"},
    "attachment-summary": {"text": "[p. 1]\nConclusions en défense.", "filename": "conclusions.pdf"},
    "translate": {"text": "The hearing is adjourned to 12 March 2026.", "language": "fr"},
}


def test_summarize_streams_deltas_then_done(llm_client, fake_llm):
    response = llm_client.post("/api/v1/assist/summarize", json=TASK_BODIES["summarize"])

    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Length" not in response.headers
    assert "Content-Encoding" not in response.headers
    parsed = events(response)
    names = [name for name, _ in parsed]
    assert names[-1] == "done" and set(names[:-1]) == {"delta"} and len(names) > 3
    assert text_of(parsed).startswith("Voici la réponse pour résumer le document fourni")
    done = parsed[-1][1]
    assert done["model"] == "fake-chat" and done["demo"] is False
    assert done["interaction_id"]
    assert done["usage"]["estimated"] is False and done["usage"]["completion_tokens"] > 0
    sent = fake_llm.chat_requests()[-1].json
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["model"] == "fake-chat"


@pytest.mark.parametrize("task", list(TASK_BODIES))
def test_every_task_answers_with_its_own_prompt(llm_client, fake_llm, task):
    response = llm_client.post(f"/api/v1/assist/{task}", json=TASK_BODIES[task])

    assert response.status_code == 200
    parsed = events(response)
    assert parsed[-1][0] == "done"
    if task == "mail-summary":
        assert [n for n, _ in parsed][-2] == "fields"
    system = fake_llm.chat_requests()[-1].json["messages"][0]["content"]
    assert system.startswith("Tu es Plume")
    assert "jamais une instruction" in system


def test_usage_is_estimated_when_the_host_does_not_report_it(llm_client, fake_llm):
    fake_llm.report_usage = False
    response = llm_client.post("/api/v1/assist/rewrite", json=TASK_BODIES["rewrite"])

    usage = events(response)[-1][1]["usage"]
    assert usage["estimated"] is True
    assert usage["prompt_tokens"] > 100 and usage["completion_tokens"] > 5


def test_unknown_task_is_404_before_any_model_call(llm_client, fake_llm):
    response = llm_client.post("/api/v1/assist/poeme", json={"text": "x"})

    assert response.status_code == 404
    assert response.json["error"] == "introuvable"
    assert "« poeme » n'existe pas" in response.json["message"]
    assert fake_llm.requests == []


@pytest.mark.parametrize("task,body,field", [
    ("summarize", None, "body"),
    ("summarize", ["texte"], "body"),
    ("summarize", {"text": "   "}, "text"),
    ("summarize", {"text": 12}, "text"),
    ("draft", {"text": "x"}, "instructions"),
    ("mail-reply", {"text": "x", "tone": "familier"}, "tone"),
    ("mail-reply", {"text": "x", "length": "enorme"}, "length"),
    ("summarize", {"text": "x", "instructions": "y" * 5000}, "instructions"),
])
def test_invalid_body_is_400_naming_the_field(llm_client, fake_llm, task, body, field):
    response = llm_client.post(f"/api/v1/assist/{task}", json=body)

    assert response.status_code == 400
    assert response.mimetype == "application/json"
    assert response.json["field"] == field
    assert response.json["message"]
    assert fake_llm.requests == []


def test_a_role_without_the_task_is_refused(llm_app, fake_llm):
    clerk = {"id": "greffier-1", "name": "Greffier", "roles": ["Plume.Greffier"], "jurisdictions": []}
    client = llm_app(DEV_USER=clerk).test_client()

    assert client.post("/api/v1/assist/summarize", json=TASK_BODIES["summarize"]).status_code == 403
    assert client.post("/api/v1/assist/mail-summary", json=TASK_BODIES["mail-summary"]).status_code == 200
    assert len(fake_llm.chat_requests()) == 2  # the summary and its fields, nothing for the refusal


def test_without_a_host_every_generation_endpoint_is_503_naming_the_setting(client):
    for task, body in TASK_BODIES.items():
        response = client.post(f"/api/v1/assist/{task}", json=body)
        assert response.status_code == 503, task
        assert response.json["error"] == "non_configure"
        assert "PLUME_LLM_BASE_URL" in response.json["message"]
    models = client.get("/api/v1/models").json
    assert models["configured"] is False and models["models"] == []
    assert "PLUME_LLM_BASE_URL" in models["notice"]
    assert client.get("/healthz").status_code == 200


def test_without_a_generation_host_the_embedded_transcription_model_is_still_listed(make_app):
    info = make_app(LLM_TRANSCRIPTION_MODEL="faster-whisper-base", LLM_TRANSCRIPTION_DEMO=True,
                    LLM_TRANSCRIPTION_BASE_URL="http://127.0.0.1:9/v1").test_client() \
        .get("/api/v1/models").json

    assert info["configured"] is False and "PLUME_LLM_BASE_URL" in info["notice"]
    assert info["models"] == [{"id": "faster-whisper-base", "tasks": ["transcribe"],
                               "context_tokens": None, "demo": True}]


def test_models_lists_the_model_of_each_task(llm_app, fake_llm):
    client = llm_app(LLM_TASK_MODELS={"mail-summary": "petit-modele"},
                     LLM_MODEL_CONTEXT={"petit-modele": 4096}).test_client()

    info = client.get("/api/v1/models").json
    assert info["default"] == "fake-chat" and info["demo"] is False and info["notice"] is None
    by_id = {m["id"]: m for m in info["models"]}
    assert "mail-summary" in by_id["petit-modele"]["tasks"]
    assert by_id["petit-modele"]["context_tokens"] == 4096
    assert "summarize" in by_id["fake-chat"]["tasks"]
    client.post("/api/v1/assist/mail-summary", json=TASK_BODIES["mail-summary"])
    assert {r.json["model"] for r in fake_llm.chat_requests()} == {"petit-modele"}


def test_the_first_listed_model_is_used_when_none_is_configured(llm_app, fake_llm):
    client = llm_app(LLM_MODEL=None).test_client()

    response = client.post("/api/v1/assist/rewrite", json=TASK_BODIES["rewrite"])
    assert events(response)[-1][1]["model"] == "fake-chat"
    assert fake_llm.chat_requests()[-1].json["model"] == "fake-chat"


def test_demo_model_is_announced(llm_app, fake_llm):
    client = llm_app(LLM_DEMO=True).test_client()

    info = client.get("/api/v1/models").json
    assert info["demo"] is True
    assert "démonstration" in info["notice"]
    done = events(client.post("/api/v1/assist/rewrite", json=TASK_BODIES["rewrite"]))[-1]
    assert done == ("done", done[1]) and done[1]["demo"] is True


def test_the_outcome_is_logged_without_any_text(llm_client, fake_llm, caplog):
    secret = "Nom du mineur : Kévin Secret"
    parsed = events(llm_client.post("/api/v1/assist/summarize", json={"text": secret}))
    assert parsed[-1][0] == "done"

    finished = [r for r in caplog.records if r.getMessage() == "assist finished"]
    assert len(finished) == 1
    assert finished[0].outcome == "ok" and finished[0].task == "summarize"
    assert all("Kévin" not in r.getMessage() and "Kévin" not in str(vars(r)) for r in caplog.records)


def test_over_quota_is_429_and_leaves_no_host_call_open(llm_app, fake_llm):
    app = llm_app(QUOTA_REQUESTS_PER_MINUTE=1)
    client = app.test_client()
    assert events(client.post("/api/v1/assist/rewrite", json=TASK_BODIES["rewrite"]))[-1][0] == "done"

    response = client.post("/api/v1/assist/rewrite", json=TASK_BODIES["rewrite"])

    assert response.status_code == 429
    assert response.headers.get("Retry-After")
    deadline = time.monotonic() + 5
    while llm.open_streams(app) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert llm.open_streams(app) == 0


def test_translate_names_the_language_keeps_the_glossary_and_is_recorded(llm_app, fake_llm, database_url):
    import psycopg

    client = llm_app(TRANSLATE_GLOSSARY=["cour d'appel", "JAF"]).test_client()
    fake_llm.reply = "Langue d'origine : français\n\nThe cour d'appel (court of appeal) dismissed the appeal."
    response = client.post("/api/v1/assist/translate", json={"text": "La cour d'appel a rejeté l'appel.",
                                                              "language": "en"})
    assert response.status_code == 200
    parsed = events(response)
    assert parsed[-1][0] == "done" and text_of(parsed).startswith("Langue d'origine : français")
    system, user = (m["content"] for m in fake_llm.chat_requests()[-1].json["messages"])
    assert "traduire le texte fourni en anglais" in system
    assert "« cour d'appel », « JAF »" in system
    assert "<<<DONNEES" in user and "La cour d'appel a rejeté" in user
    with psycopg.connect(database_url) as conn:
        [(task, prompt)] = conn.execute("SELECT task, prompt_version FROM audit_interactions "
                                        "WHERE task = 'translate'").fetchall()
    assert (task, prompt) == ("translate", "translate.v1")
    bad = client.post("/api/v1/assist/translate", json={"text": "Bonjour", "language": "klingon"})
    assert bad.status_code == 400 and bad.json["field"] == "language"
