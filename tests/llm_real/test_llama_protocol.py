"""What llama.cpp's server really does on the wire, as Plume relies on it.

Each test pins one behaviour that ``docs/llm-compatibility.md`` describes and the gateway
depends on (usage chunk, end of stream, error bodies, model listing, cancellation), so a
new xllamacpp version that changes it fails here first, in plain view.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from backend.llm import demo

from .conftest import CONTEXT_TOKENS, Llama, sse_events

ROOT = Path(__file__).resolve().parents[2]
PROMPT = [{"role": "user", "content": "Résume en une phrase : le tribunal rejette la demande."}]


def stream(llama: Llama, body: dict) -> list:
    response = llama.chat({"messages": PROMPT, "stream": True, **body}, stream=True)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    return list(sse_events(response.iter_lines(decode_unicode=True)))


def test_stream_reports_usage_in_a_last_chunk_without_choices_then_done(idle_llama):
    before = idle_llama.metrics()
    events = stream(idle_llama, {"max_tokens": 12, "stream_options": {"include_usage": True}})

    assert events[-1] == ("message", "[DONE]")
    chunks = [data for _, data in events[:-1]]
    *deltas, last = chunks
    assert last["choices"] == [] and set(last["usage"]) >= {"prompt_tokens", "completion_tokens",
                                                            "total_tokens"}
    assert all("usage" not in chunk for chunk in deltas)
    assert deltas[-1]["choices"][0]["finish_reason"] in {"stop", "length"}
    text_chunks = [c for c in deltas if c["choices"][0]["delta"].get("content")]
    assert text_chunks, "no text streamed"

    usage = last["usage"]
    after = idle_llama.metrics()
    assert usage["completion_tokens"] == after["tokens_predicted_total"] - before["tokens_predicted_total"]
    # prompt_tokens counts the whole prompt, the part reused from the slot's cache included.
    assert usage["prompt_tokens"] == (after["prompt_tokens_total"] - before["prompt_tokens_total"]
                                      + after["prompt_tokens_cached_total"]
                                      - before["prompt_tokens_cached_total"])
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_without_stream_options_no_usage_only_llama_timings(idle_llama):
    events = stream(idle_llama, {"max_tokens": 8})

    chunks = [data for _, data in events if data != "[DONE]"]
    assert all("usage" not in chunk for chunk in chunks)
    # llama.cpp's own, non-OpenAI figures on the finishing chunk: cached prompt tokens are
    # in cache_n, not in prompt_n.
    assert set(chunks[-1]["timings"]) >= {"prompt_n", "predicted_n", "cache_n"}
    assert chunks[-1]["timings"]["predicted_n"] <= 8


def test_models_lists_the_alias_with_the_context_of_one_slot(idle_llama):
    listing = idle_llama.get("/v1/models").json()

    assert listing["object"] == "list"
    (model,) = listing["data"]
    assert model["id"] == demo.MODEL_NAME and model["owned_by"] == "llamacpp"
    assert model["meta"]["n_ctx"] == CONTEXT_TOKENS


def test_a_prompt_longer_than_the_context_is_refused_before_streaming(idle_llama):
    response = idle_llama.chat({"messages": [{"role": "user", "content": "Attendu que " * 3000}],
                                "stream": True, "max_tokens": 8})

    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["type"] == "exceed_context_size_error" and error["code"] == 400
    assert error["n_ctx"] == CONTEXT_TOKENS and error["n_prompt_tokens"] > CONTEXT_TOKENS


def test_a_malformed_request_gets_an_openai_style_error_body(idle_llama):
    response = idle_llama.chat({"messages": "pas une liste"})

    assert response.status_code == 400
    assert response.json()["error"] == {"code": 400, "message": "Expected 'messages' to be an array",
                                        "type": "invalid_request_error"}


def test_only_the_api_key_drawn_at_start_is_accepted(idle_llama):
    root = idle_llama.server.root_url
    assert requests.get(root + "/health", timeout=5).status_code == 200  # probes stay open
    for path in ("/v1/models", "/v1/chat/completions", "/slots", "/metrics"):
        response = requests.get(root + path, headers={"Authorization": "Bearer devine"}, timeout=5)
        assert response.status_code == 401, path
        assert response.json()["error"]["type"] == "authentication_error"


def test_browser_extras_are_off(idle_llama):
    root = idle_llama.server.root_url
    assert requests.get(root + "/", timeout=5).status_code == 404  # no web UI
    preflight = requests.options(root + "/v1/chat/completions", timeout=5, headers={
        "Origin": "https://exemple.fr", "Access-Control-Request-Method": "POST"})
    assert preflight.headers.get("Access-Control-Allow-Origin", "") in {"", None}


def test_the_server_listens_on_loopback_only(idle_llama):
    port = int(idle_llama.server.root_url.rsplit(":", 1)[1])
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1, and nothing on 0.0.0.0 or ::


def test_closing_the_connection_cancels_generation_and_frees_the_slot(idle_llama):
    before = idle_llama.metrics()
    response = idle_llama.chat({"messages": [{"role": "user", "content": "Écris un très long "
                                              "récit sur la justice en France."}],
                                "stream": True, "max_tokens": 800}, stream=True)
    lines = response.iter_lines(decode_unicode=True)
    while "content" not in next(lines):
        pass
    assert idle_llama.busy_slots() == 1
    response.close()

    assert idle_llama.wait_idle() == 0
    predicted = idle_llama.metrics()["tokens_predicted_total"] - before["tokens_predicted_total"]
    assert predicted < 800


def test_the_server_dies_with_the_process_that_started_it(tmp_path):
    """Even a SIGKILLed backend leaves no llama.cpp server behind (lifeline pipe)."""
    script = ("import sys, time; from backend.llm import demo; "
              f"s = demo.start({str(tmp_path)!r}, context_tokens=1024, threads=1); "
              "print(s.pid, s.root_url, flush=True); time.sleep(600)")
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True)
    child_pid, root_url = parent.stdout.readline().split()
    assert requests.get(root_url + "/health", timeout=5).status_code == 200

    parent.send_signal(signal.SIGKILL)
    parent.wait()

    deadline = time.monotonic() + 10
    while _alive(int(child_pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(int(child_pid))


def _alive(pid: int) -> bool:
    """Running and not a zombie (the orphan is reaped by init, not by us)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_busy_configured_port_fails_in_plain_words(llama, tmp_path):
    port = int(llama.server.root_url.rsplit(":", 1)[1])
    try:
        demo.start(tmp_path, port=port, context_tokens=1024, threads=1, timeout=30)
    except demo.DemoError as exc:
        assert "did not start" in str(exc)
    else:
        raise AssertionError("a second server started on a port already in use")
