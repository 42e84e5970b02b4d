"""A real llama.cpp server for the whole session, started the way `make run` starts it.

The fixture uses :func:`backend.llm.demo.start` (the xllamacpp wheel with SmolLM2-135M),
kept small so the suite stays fast: 3072 tokens per request (the least that leaves room
for the gateway's mail-fields call), two slots, two threads; tests ask for short answers.
:class:`Llama` reads the server's own monitoring endpoints (``/slots``, ``/metrics``) so
tests can see what the server did, not only what Plume says it did.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Iterator

import pytest
import requests

from backend.llm import demo

CONTEXT_TOKENS = 3072
PARALLEL = 2
THREADS = 2
SETTLE_SECONDS = 30.0


@dataclass
class Llama:
    """A running llama.cpp server and a client of its native endpoints."""

    server: demo.DemoServer

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.server.api_key}"}

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.server.root_url + path, headers=self.headers, timeout=10, **kwargs)

    def chat(self, body: dict[str, Any], **kwargs: Any) -> requests.Response:
        """POST /v1/chat/completions with the demo model."""
        return requests.post(self.server.base_url + "/chat/completions", headers=self.headers,
                             json={"model": self.server.model, **body}, timeout=120, **kwargs)

    def metrics(self) -> dict[str, float]:
        """The Prometheus counters of ``/metrics``, without the ``llamacpp:`` prefix."""
        values = {}
        for line in self.get("/metrics").text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.split()
                values[name.removeprefix("llamacpp:")] = float(value)
        return values

    def busy_slots(self) -> int:
        return sum(1 for slot in self.get("/slots").json() if slot["is_processing"])

    def wait_idle(self, seconds: float = SETTLE_SECONDS) -> int:
        """Poll until no slot is processing (bounded); returns the slots still busy."""
        deadline = time.monotonic() + seconds
        while (busy := self.busy_slots()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return busy


@pytest.fixture(scope="session")
def llama(tmp_path_factory) -> Iterator[Llama]:
    server = demo.start(tmp_path_factory.mktemp("llama"), context_tokens=CONTEXT_TOKENS,
                        parallel=PARALLEL, threads=THREADS)
    yield Llama(server)
    server.stop()


@pytest.fixture
def idle_llama(llama: Llama) -> Llama:
    """The session server with no request left running by an earlier test."""
    assert llama.wait_idle() == 0, "an earlier test left a request running on the server"
    return llama


def sse_events(lines: Iterator[str]) -> Iterator[tuple[str, Any]]:
    """(event, data) pairs of a text/event-stream, data decoded as JSON when it is JSON."""
    event, data = "message", []
    for line in lines:
        if line == "":
            if data:
                text = "\n".join(data)
                try:
                    yield event, json.loads(text)
                except ValueError:
                    yield event, text
            event, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
