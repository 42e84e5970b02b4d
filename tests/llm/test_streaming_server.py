"""Through a real HTTP server: chunks arrive one by one, a client leaving closes the host call."""
from __future__ import annotations

import http.client
import json
import time

import pytest

from backend import llm
from tests.fakes.upstream import Behaviour


@pytest.fixture
def served(llm_app, serve_app):
    """Start the app on a real threaded server (``serve_app``); returns (app, port)."""
    def start(**overrides):
        app = llm_app(**overrides)
        return app, int(serve_app(app).rsplit(":", 1)[1])

    return start


def _open(port: int, task: str, body: dict) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", f"/api/v1/assist/{task}", body=json.dumps(body),
                       headers={"Content-Type": "application/json"})
    return connection.getresponse()


def _read_event(response: http.client.HTTPResponse) -> tuple[str, dict]:
    """The next event, reading only as many bytes as the server has sent."""
    buffer = getattr(response, "sse_buffer", b"")
    while b"\n\n" not in buffer:
        chunk = response.read1(65536)
        assert chunk, "stream ended before the next event"
        buffer += chunk
    block, _, response.sse_buffer = buffer.partition(b"\n\n")
    fields = dict(line.split(": ", 1) for line in block.decode().split("\n"))
    return fields["event"], json.loads(fields["data"])


def _wait(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_each_token_is_forwarded_before_the_next_is_produced(served, fake_llm):
    app, port = served()
    fake_llm.then(Behaviour(token_delay=0.3))
    response = _open(port, "rewrite", {"text": "Texte."})
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/event-stream")
    assert response.getheader("X-Accel-Buffering") == "no"

    name, data = _read_event(response)
    # The first delta is in our hands while the host has produced only that one token.
    assert name == "delta" and data["text"] == "Voici "
    assert fake_llm.chat_requests()[0].tokens_sent == 1
    response.close()


def test_a_client_leaving_closes_the_host_request_and_frees_everything(served, fake_llm, caplog):
    app, port = served()
    fake_llm.then(Behaviour(token_delay=0.05, reply=" ".join(["mot"] * 400)))
    response = _open(port, "rewrite", {"text": "Texte."})
    assert _read_event(response)[0] == "delta"
    assert _read_event(response)[0] == "delta"

    response.close()  # the user pressed "Arrêter" or closed the pane

    upstream = fake_llm.chat_requests()[0]
    assert upstream.ended.wait(10)
    assert upstream.disconnected and upstream.tokens_sent < 400
    assert _wait(lambda: llm.open_streams(app) == 0)
    assert _wait(lambda: any(r.getMessage() == "assist finished" for r in caplog.records))
    finished = [r for r in caplog.records if r.getMessage() == "assist finished"][0]
    assert finished.outcome == "stopped"


def test_a_finished_stream_leaves_nothing_open(served, fake_llm):
    app, port = served()
    response = _open(port, "rewrite", {"text": "Texte."})
    body = response.read().decode()
    assert body.rstrip().split("\n")[-2] == "event: done"
    assert fake_llm.chat_requests()[0].ended.wait(5)
    assert _wait(lambda: llm.open_streams(app) == 0)


def test_answers_one_after_another_reuse_one_connection_to_the_host(served, fake_llm):
    # A real host is reached over TLS: a new connection per answer would cost a handshake
    # on the way to every first token. The whole body (after [DONE]) must be read for the
    # connection to go back to the pool.
    app, port = served()
    for _ in range(3):
        body = _open(port, "rewrite", {"text": "Texte."}).read().decode()
        assert "event: done" in body
    assert len(fake_llm.chat_requests()) == 3
    assert fake_llm.connections == 1


def test_the_interaction_is_recorded_before_done_reaches_the_pane(served, fake_llm):
    app, port = served()
    response = _open(port, "rewrite", {"text": "Texte."})
    while (event := _read_event(response))[0] != "done":
        pass

    # The pane sends feedback as soon as it reads `done`, before the stream is even closed.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", "/api/v1/feedback", headers={"Content-Type": "application/json"},
                       body=json.dumps({"interaction_id": event[1]["interaction_id"], "useful": True,
                                        "comment": None, "outcome": "inserted"}))
    assert connection.getresponse().status == 201
    response.close()
