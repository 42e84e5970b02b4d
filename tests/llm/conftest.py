"""An app wired to the fake upstream, with short deadlines so that faults show quickly."""
from __future__ import annotations

import json
from typing import Any

import pytest

FAST = {
    "LLM_MODEL": "fake-chat",
    "LLM_BACKOFF_SECONDS": 0.01,
    "LLM_TIMEOUT_CONNECT": 2.0,
    "LLM_TIMEOUT_FIRST_TOKEN": 5.0,
    "LLM_TIMEOUT_CHUNK": 5.0,
    "LLM_TIMEOUT_TOTAL": 30.0,
}


@pytest.fixture
def llm_app(make_app, fake_llm):
    def factory(**overrides: Any):
        return make_app(**{"LLM_BASE_URL": fake_llm.url, **FAST, **overrides})
    return factory


@pytest.fixture
def llm_client(llm_app):
    return llm_app().test_client()


def events(response) -> list[tuple[str, Any]]:
    """The (event, data) pairs of a text/event-stream response."""
    parsed = []
    for block in response.get_data(as_text=True).split("\n\n"):
        if not block.strip():
            continue
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        parsed.append((name, json.loads("\n".join(data))))
    return parsed


def text_of(parsed: list[tuple[str, Any]]) -> str:
    return "".join(d["text"] for e, d in parsed if e == "delta")
