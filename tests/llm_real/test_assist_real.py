"""Every assistance task through Plume, end to end, against the real llama.cpp server.

The fake upstream proves the gateway's logic; these tests prove that Plume speaks the
protocol the way a real host does: text streams as ``delta`` events, ``done`` carries the
usage llama.cpp counted (checked against the server's own ``/metrics``), a client that
leaves stops the generation on the server, a document longer than the model's context is
read part by part, two answers stream side by side, and a server that dies mid-answer
ends the stream with a French ``error`` event.
"""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from backend.llm import demo
from tests.llm.conftest import events as sse_of

from .conftest import Llama, sse_events

CORPUS = Path(__file__).resolve().parents[2] / "backend" / "data" / "corpus" / "decisions.jsonl"
SHORT_ANSWER = 32
LONG_ANSWER = 400

BODIES: dict[str, dict[str, str]] = {
    "summarize": {"text": "Le tribunal judiciaire de Paris a été saisi par M. Martin d'une demande de "
                          "dommages et intérêts.\n\nLa demande est rejetée faute de preuve du préjudice."},
    "rewrite": {"text": "Attendu que le demandeur ne justifie pas de l'existence d'un préjudice certain, "
                        "il convient de le débouter de l'intégralité de ses prétentions."},
    "draft": {"instructions": "Rédige le dispositif d'un jugement qui rejette la demande de M. Martin."},
    "mail-summary": {"subject": "Audience RG 23/01234",
                     "text": "Bonjour, dans le dossier RG 23/01234, l'audience est fixée au 12 mars 2025. "
                             "Maître Dupont représente M. Martin. Merci de confirmer. Cordialement."},
    "mail-reply": {"text": "Bonjour, pouvez-vous me transmettre la copie du jugement du 3 février ? "
                           "Cordialement, Maître Durand.", "tone": "formel", "length": "courte"},
    "attachment-summary": {"filename": "bail.pdf",
                           "text": "[p. 1] Contrat de bail entre M. Martin et Mme Durand.\n\n"
                                   "[p. 2] Le loyer mensuel est fixé à 800 euros."},
}


@pytest.fixture
def plume_on(make_app):
    """Build an app pointed at a llama.cpp server exactly as `make run` points it."""
    def build(server: demo.DemoServer, max_output: int = SHORT_ANSWER, **overrides: Any):
        settings = {"LLM_MAX_OUTPUT_TOKENS": max_output, **overrides}
        return make_app(**{**settings, **demo.settings_for(server, make_app(**settings).config)})
    return build


def consumed(before: dict[str, float], after: dict[str, float]) -> dict[str, int]:
    """Tokens the server counted between two /metrics readings."""
    prompt = (after["prompt_tokens_total"] - before["prompt_tokens_total"]
              + after["prompt_tokens_cached_total"] - before["prompt_tokens_cached_total"])
    return {"prompt_tokens": int(prompt),
            "completion_tokens": int(after["tokens_predicted_total"] - before["tokens_predicted_total"])}


def audit_record(database_url: str, interaction_id: str) -> dict[str, Any] | None:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT outcome, error_code, prompt_tokens, completion_tokens, model "
                           "FROM audit_interactions WHERE id = %s", (interaction_id,)).fetchone()
    if row is None:
        return None
    return dict(zip(("outcome", "error_code", "prompt_tokens", "completion_tokens", "model"), row))


@pytest.mark.parametrize("task", list(BODIES))
def test_every_task_streams_deltas_then_done_with_the_usage_llama_counted(task, plume_on, idle_llama,
                                                                         database_url):
    client = plume_on(idle_llama.server).test_client()
    before = idle_llama.metrics()

    response = client.post(f"/api/v1/assist/{task}", json=BODIES[task])

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/event-stream"
    events = sse_of(response)
    names = [name for name, _ in events]
    assert names[0] == "delta" and names[-1] == "done", names
    assert "error" not in names
    text = "".join(data["text"] for name, data in events if name == "delta")
    assert text.strip()
    done = events[-1][1]
    assert done["demo"] is True and done["model"] == demo.MODEL_NAME
    usage = done["usage"]
    assert usage["estimated"] is False
    assert {k: usage[k] for k in ("prompt_tokens", "completion_tokens")} == consumed(before,
                                                                                   idle_llama.metrics())
    if task == "mail-summary":
        assert names.index("fields") > names.index("delta") and usage["calls"] == 2
    else:
        assert usage["calls"] == 1 and usage["completion_tokens"] <= SHORT_ANSWER
    record = audit_record(database_url, done["interaction_id"])
    assert record == {"outcome": "ok", "error_code": None, "prompt_tokens": usage["prompt_tokens"],
                      "completion_tokens": usage["completion_tokens"], "model": demo.MODEL_NAME}


def test_models_says_demo_with_a_french_notice(plume_on, idle_llama):
    listing = plume_on(idle_llama.server).test_client().get("/api/v1/models").json

    assert listing["demo"] is True and listing["default"] == demo.MODEL_NAME
    assert "démonstration" in listing["notice"] and "PLUME_LLM_BASE_URL" in listing["notice"]


def test_a_client_that_hangs_up_stops_the_generation_on_the_server(plume_on, idle_llama, serve_app,
                                                                     database_url):
    url = serve_app(plume_on(idle_llama.server, max_output=LONG_ANSWER))
    before = idle_llama.metrics()
    response = requests.post(f"{url}/api/v1/assist/rewrite", stream=True, timeout=300,
                             json={"text": BODIES["rewrite"]["text"] * 6})
    assert response.status_code == 200
    lines = response.iter_lines(decode_unicode=True)
    while next(lines) != "event: delta":
        pass
    assert idle_llama.busy_slots() == 1  # still generating when the pane goes away
    response.close()

    assert idle_llama.wait_idle() == 0
    assert consumed(before, idle_llama.metrics())["completion_tokens"] < LONG_ANSWER
    assert _stopped_record(database_url)["outcome"] == "stopped"


def _stopped_record(database_url: str, seconds: float = 30) -> dict[str, Any]:
    """The newest assist record, once the server thread has finished it (bounded wait)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with psycopg.connect(database_url) as conn:
            row = conn.execute("SELECT outcome FROM audit_interactions WHERE kind = 'assist' "
                               "ORDER BY seq DESC LIMIT 1").fetchone()
        if row is not None:
            return {"outcome": row[0]}
        time.sleep(0.1)
    raise AssertionError("no audit record for the interrupted answer")


def long_document(min_chars: int) -> str:
    """Real decisions from the sample corpus, paragraph by paragraph, up to ``min_chars``."""
    paragraphs: list[str] = []
    with CORPUS.open(encoding="utf-8") as corpus:
        for line in corpus:
            for paragraph in json.loads(line)["text"].split("\n"):
                if len(paragraph.strip()) > 80:
                    paragraphs.append(paragraph.strip())
                if sum(len(p) for p in paragraphs) >= min_chars:
                    return "\n\n".join(paragraphs)
    raise AssertionError("the sample corpus is shorter than expected")


def test_a_document_longer_than_the_context_is_summarised_part_by_part(plume_on, idle_llama):
    document = long_document(8500)
    tokens = requests.post(idle_llama.server.root_url + "/tokenize", json={"content": document},
                           headers=idle_llama.headers, timeout=30).json()["tokens"]
    assert len(tokens) > idle_llama.server.context_tokens  # would not fit in one request
    # Deadlines out of the way: this test is about the parts, not the speed of a busy CPU.
    client = plume_on(idle_llama.server, LLM_TIMEOUT_FIRST_TOKEN=900.0,
                      LLM_TIMEOUT_TOTAL=1800.0).test_client()
    before = idle_llama.metrics()

    response = client.post("/api/v1/assist/summarize", json={"text": document})

    assert response.status_code == 200
    events = sse_of(response)
    names = [name for name, _ in events]
    assert names[0] == "progress" and names[-1] == "done", names
    total = events[0][1]["total"]
    assert total >= 2
    # Every part was read (merging partial summaries may add steps of its own after that).
    assert any(d["done"] == total for n, d in events[1:] if n == "progress")
    assert names.index("delta") > max(i for i, n in enumerate(names) if n == "progress")
    usage = events[-1][1]["usage"]
    assert usage["calls"] >= total + 1  # one call per part, then the final summary
    assert {k: usage[k] for k in ("prompt_tokens", "completion_tokens")} == consumed(before,
                                                                                   idle_llama.metrics())


def test_two_answers_stream_side_by_side(plume_on, idle_llama, serve_app):
    url = serve_app(plume_on(idle_llama.server, max_output=64))
    arrivals: dict[str, list[tuple[float, str, Any]]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def ask(name: str, text: str) -> None:
        start.wait()
        response = requests.post(f"{url}/api/v1/assist/rewrite", json={"text": text}, stream=True,
                                 timeout=300)
        for event, data in sse_events(response.iter_lines(decode_unicode=True)):
            arrivals[name].append((time.monotonic(), event, data))

    before = idle_llama.metrics()
    threads = [threading.Thread(target=ask, args=("a", BODIES["rewrite"]["text"])),
               threading.Thread(target=ask, args=("b", BODIES["summarize"]["text"]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)

    deltas = {}
    for name, got in arrivals.items():
        assert [event for _, event, _ in got][-1] == "done", got
        deltas[name] = [at for at, event, _ in got if event == "delta"]
        assert len(deltas[name]) >= 2
    # Each answer received text while the other was still streaming.
    assert deltas["a"][0] < deltas["b"][-1] and deltas["b"][0] < deltas["a"][-1]
    dones = [got[-1][2] for got in arrivals.values()]
    assert dones[0]["interaction_id"] != dones[1]["interaction_id"]
    together = {k: sum(d["usage"][k] for d in dones) for k in ("prompt_tokens", "completion_tokens")}
    assert together == consumed(before, idle_llama.metrics())


def test_a_server_that_dies_mid_answer_ends_the_stream_with_a_french_error(plume_on, serve_app, tmp_path):
    server = demo.start(tmp_path, context_tokens=2048, threads=1)
    try:
        url = serve_app(plume_on(server, max_output=LONG_ANSWER, LLM_RETRIES=0))
        response = requests.post(f"{url}/api/v1/assist/rewrite", stream=True, timeout=300,
                                 json={"text": BODIES["rewrite"]["text"] * 6})
        assert response.status_code == 200
        events = sse_events(response.iter_lines(decode_unicode=True))
        first = next(events)
        assert first[0] == "delta"
        server.process.kill()
        rest = list(events)

        assert rest[-1][0] == "error", rest
        assert rest[-1][1]["error"] == "coupure_amont"
        assert "coupée" in rest[-1][1]["message"] and "texte déjà affiché est conservé" in rest[-1][1]["message"]
        assert all(name == "delta" for name, _ in rest[:-1])

        again = requests.post(f"{url}/api/v1/assist/rewrite", json=BODIES["rewrite"], timeout=60)
        assert again.status_code == 502
        assert again.json()["error"] == "amont_injoignable"
        assert "injoignable" in again.json()["message"]
    finally:
        server.stop()
