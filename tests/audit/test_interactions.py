"""Real calls through the gateway and search routes leave exactly one record each, whatever
happens: success, upstream failure before or during the stream, a stop, a client that leaves."""
from __future__ import annotations

import threading

import pytest

from tests.fakes.upstream import Behaviour
from tests.llm.conftest import FAST, events

from .helpers import rows

SUMMARY = {"text": "Le tribunal a statué.\n\nLa demande est rejetée."}


@pytest.fixture
def gateway_app(make_app, fake_llm):
    return make_app(LLM_BASE_URL=fake_llm.url, EMBEDDINGS_BASE_URL=fake_llm.url,
                    EMBEDDINGS_MODEL="fake-embeddings", EMBED_IN_BACKGROUND=False, **FAST)


def _records(database_url):
    return rows(database_url, "SELECT * FROM audit_interactions ORDER BY seq")


def test_a_successful_answer_is_recorded_with_model_host_prompt_tokens_and_ttft(
        gateway_app, fake_llm, database_url):
    response = gateway_app.test_client().post("/api/v1/assist/summarize", json=SUMMARY)
    done = events(response)[-1][1]
    [record] = _records(database_url)
    assert str(record["id"]) == done["interaction_id"]
    assert (record["kind"], record["task"], record["outcome"]) == ("assist", "summarize", "ok")
    assert record["model"] == "fake-chat" and record["host"]
    assert record["prompt_version"]
    assert record["prompt_tokens"] == done["usage"]["prompt_tokens"] > 0
    assert record["completion_tokens"] == done["usage"]["completion_tokens"] > 0
    assert 0 < record["ttft_ms"] <= record["duration_ms"]


def test_an_upstream_failure_before_the_stream_is_recorded(gateway_app, fake_llm, database_url):
    fake_llm.then(Behaviour(status=401))
    response = gateway_app.test_client().post("/api/v1/assist/rewrite", json=SUMMARY)
    assert response.status_code == 502
    [record] = _records(database_url)
    assert (record["outcome"], record["error_code"]) == ("error", response.json["error"])
    assert record["ttft_ms"] is None


def test_an_upstream_cut_mid_stream_is_recorded(gateway_app, fake_llm, database_url):
    fake_llm.then(Behaviour(reset_after=3))
    parsed = events(gateway_app.test_client().post("/api/v1/assist/summarize", json=SUMMARY))
    assert parsed[-1][0] == "error"
    [record] = _records(database_url)
    assert (record["outcome"], record["error_code"]) == ("error", parsed[-1][1]["error"])
    assert record["ttft_ms"] is not None


@pytest.mark.parametrize("read_before_leaving", [2, 0], ids=["stop-button", "client-gone"])
def test_a_stop_or_a_disconnect_is_recorded_as_stopped(gateway_app, fake_llm, database_url,
                                                       read_before_leaving):
    fake_llm.then(Behaviour(token_delay=0.05))
    response = gateway_app.test_client().post("/api/v1/assist/summarize", json=SUMMARY,
                                              buffered=False)
    assert response.status_code == 200
    chunks = iter(response.response)
    for _ in range(read_before_leaving):
        next(chunks)
    response.close()  # what the server does when the pane aborts its fetch
    [record] = _records(database_url)
    assert record["outcome"] == "stopped" and record["error_code"] is None


def test_searches_are_recorded_with_their_sources(gateway_app, database_url):
    response = gateway_app.test_client().get("/api/v1/search?q=licenciement")
    assert response.status_code == 200
    [record] = _records(database_url)
    assert str(record["id"]) == response.json["interaction_id"]
    assert (record["kind"], record["task"], record["outcome"]) == ("search", "search", "ok")
    assert record["source_ids"] == [str(hit["decision_id"]) for hit in response.json["hits"]]


def test_as_many_records_as_requests_under_concurrent_load(gateway_app, fake_llm, database_url):
    fake_llm.then(*[Behaviour(status=401)] * 5)  # some fail, the rest succeed
    outcomes: list[int] = []

    def call(index: int) -> None:
        client = gateway_app.test_client()
        if index % 4 == 3:
            outcomes.append(client.get("/api/v1/search?q=bail").status_code)
        else:
            outcomes.append(client.post("/api/v1/assist/summarize", json=SUMMARY).status_code)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 24 and 502 in outcomes and 200 in outcomes
    records = _records(database_url)
    assert len(records) == 24
    assert sum(r["outcome"] == "error" for r in records) == outcomes.count(502)
    assert gateway_app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
