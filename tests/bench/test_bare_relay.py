"""bench/bare_relay.py, the floor bench/gateway.py measures Plume against, relays for real."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from werkzeug.test import Client

RELAY = Path(__file__).resolve().parents[2] / "bench" / "bare_relay.py"


def _relay_app():
    spec = importlib.util.spec_from_file_location("bare_relay", RELAY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def test_the_bare_relay_forwards_the_hosts_stream_event_by_event(fake_llm, monkeypatch):
    monkeypatch.setenv("BARE_RELAY_UPSTREAM", fake_llm.url.split("//", 1)[1].split("/", 1)[0])
    response = Client(_relay_app()).post("/relay", data=b"{}", buffered=False)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/event-stream"
    events = [piece for piece in response.iter_encoded() if piece]
    body = b"".join(events)
    assert len(events) > 3                       # one piece per host chunk, not one block
    assert body.count(b"data: ") >= 3 and body.rstrip().endswith(b"data: [DONE]")
    assert fake_llm.requests[-1].path == "/v1/chat/completions"
