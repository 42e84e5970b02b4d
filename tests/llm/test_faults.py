"""Faults of the host: retried before the first token only, then the fallback; cuts end in French."""
from __future__ import annotations

import socket

import pytest

from tests.fakes.upstream import Behaviour, FakeUpstream
from tests.llm.conftest import events, text_of

BODY = {"text": "Il est fait droit à la demande de M. X."}
CUT_SUFFIX = "Le texte déjà affiché est conservé, mais il est incomplet."


def _assist(client, task="rewrite", body=BODY):
    return client.post(f"/api/v1/assist/{task}", json=body)


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retryable_statuses_are_retried_before_the_first_token(llm_client, fake_llm, status):
    fake_llm.then(Behaviour(status=status, retry_after="0"), Behaviour(status=status, retry_after="0"))

    response = _assist(llm_client)

    assert response.status_code == 200
    assert events(response)[-1][0] == "done"
    assert len(fake_llm.chat_requests()) == 3


def test_retry_after_is_honoured(llm_app, fake_llm):
    client = llm_app(LLM_BACKOFF_SECONDS=0.0).test_client()
    fake_llm.then(Behaviour(status=429, retry_after="1"))

    response = _assist(client)

    assert events(response)[-1][0] == "done"
    first, second = fake_llm.chat_requests()
    assert second.received_at - first.received_at >= 1.0


def test_when_retries_are_exhausted_the_error_is_json_before_any_byte(llm_client, fake_llm):
    fake_llm.then(*[Behaviour(status=503)] * 3)

    response = _assist(llm_client)

    assert response.status_code == 502
    assert response.mimetype == "application/json"
    assert response.json["error"] == "amont_indisponible"
    assert "Réessayez" in response.json["message"]
    assert len(fake_llm.chat_requests()) == 3  # PLUME_LLM_RETRIES=2 retries after the first try


def test_a_long_retry_after_is_not_waited_for_and_is_passed_on(llm_client, fake_llm):
    fake_llm.then(Behaviour(status=429, retry_after="120"))

    response = _assist(llm_client)

    assert response.status_code == 503
    assert response.json["error"] == "amont_sature"
    assert response.headers["Retry-After"] == "120"
    assert "120 secondes" in response.json["message"]
    assert len(fake_llm.chat_requests()) == 1


def test_a_rejected_request_is_neither_retried_nor_sent_elsewhere(llm_app, fake_llm):
    with FakeUpstream() as fallback:
        client = llm_app(LLM_FALLBACK_BASE_URL=fallback.url).test_client()
        fake_llm.then(Behaviour(status=400, error_message="unsupported parameter"))

        response = _assist(client)

        assert response.status_code == 502
        assert response.json["error"] == "demande_refusee"
        assert len(fake_llm.chat_requests()) == 1 and fallback.chat_requests() == []


def test_the_fallback_host_answers_when_the_first_is_down(llm_app, fake_llm):
    with FakeUpstream() as fallback:
        client = llm_app(LLM_FALLBACK_BASE_URL=fallback.url, LLM_FALLBACK_MODEL="modele-secours").test_client()
        fake_llm.then(*[Behaviour(status=502)] * 3)

        parsed = events(_assist(client))

        assert parsed[-1][0] == "done"
        assert parsed[-1][1]["model"] == "modele-secours"
        assert len(fake_llm.chat_requests()) == 3
        assert [r.json["model"] for r in fallback.chat_requests()] == ["modele-secours"]


def test_an_unreachable_host_is_retried_then_left_for_the_fallback(llm_app):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{closed.getsockname()[1]}/v1"  # bound, never listening
        with FakeUpstream() as fallback:
            client = llm_app(LLM_BASE_URL=dead_url, LLM_FALLBACK_BASE_URL=fallback.url).test_client()
            parsed = events(_assist(client))
            assert parsed[-1][0] == "done"
            assert len(fallback.chat_requests()) == 1


@pytest.fixture
def unanswering_url():
    """A host whose connections never complete: its accept queue is full, so the kernel
    drops every new SYN and a connect waits until its own deadline."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    held = []
    for _ in range(16):  # fill the queue (one connection with listen(0) on Linux)
        probe = socket.socket()
        probe.settimeout(0.3)
        try:
            probe.connect(("127.0.0.1", port))
        except (socket.timeout, BlockingIOError):
            probe.close()
            break
        held.append(probe)
    else:
        pytest.fail("the kernel accepted 16 connections on a listen(0) socket: no silent host")
    yield f"http://127.0.0.1:{port}/v1"
    for sock in held:
        sock.close()
    server.close()


def test_the_connect_deadline_leaves_a_silent_host_for_the_fallback(llm_app, unanswering_url):
    with FakeUpstream() as fallback:
        client = llm_app(LLM_BASE_URL=unanswering_url, LLM_FALLBACK_BASE_URL=fallback.url,
                         LLM_TIMEOUT_CONNECT=0.3, LLM_RETRIES=0).test_client()
        parsed = events(_assist(client))
        assert parsed[-1][0] == "done"
        assert len(fallback.chat_requests()) == 1


def test_the_connect_deadline_without_fallback_is_a_french_502(llm_app, unanswering_url, caplog):
    client = llm_app(LLM_BASE_URL=unanswering_url, LLM_TIMEOUT_CONNECT=0.3,
                     LLM_RETRIES=1).test_client()
    with caplog.at_level("WARNING", logger="backend.llm.upstream"):
        response = _assist(client)
    assert response.status_code == 502
    assert response.json["error"] == "amont_injoignable"
    assert response.json["message"].startswith("Le service d'IA est injoignable")
    attempts = [r for r in caplog.records if r.getMessage() == "upstream attempt failed"]
    assert len(attempts) == 2  # the connect timeout is retried like any connect error
    assert all("ConnectTimeout" in r.detail for r in attempts)


def test_an_unreachable_host_without_fallback_is_a_french_502(llm_app):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        client = llm_app(LLM_BASE_URL=f"http://127.0.0.1:{closed.getsockname()[1]}/v1").test_client()
        response = _assist(client)
    assert response.status_code == 502
    assert response.json["error"] == "amont_injoignable"
    assert response.json["message"].startswith("Le service d'IA est injoignable")


def test_a_reset_before_the_first_token_is_retried(llm_client, fake_llm):
    fake_llm.then(Behaviour(reset_after=0))

    parsed = events(_assist(llm_client))

    assert parsed[-1][0] == "done"
    assert len(fake_llm.chat_requests()) == 2


def test_a_reset_mid_stream_keeps_the_text_and_ends_with_a_french_error(llm_client, fake_llm):
    fake_llm.then(Behaviour(reset_after=3))

    response = _assist(llm_client)

    assert response.status_code == 200
    parsed = events(response)
    assert [n for n, _ in parsed] == ["delta", "delta", "delta", "error"]
    assert text_of(parsed) == "Voici la réponse "
    assert parsed[-1][1]["error"] == "coupure_amont"
    assert parsed[-1][1]["message"].endswith(CUT_SUFFIX)
    assert len(fake_llm.chat_requests()) == 1  # never retried once text was shown


def test_malformed_sse_mid_stream_is_an_error_event(llm_client, fake_llm):
    fake_llm.then(Behaviour(malformed_after=2))

    parsed = events(_assist(llm_client))

    assert [n for n, _ in parsed] == ["delta", "delta", "error"]
    assert parsed[-1][1]["error"] == "reponse_illisible"


def test_an_answer_without_done_marker_but_finished_is_complete(llm_client, fake_llm):
    fake_llm.then(Behaviour(no_done=True))

    parsed = events(_assist(llm_client))

    assert parsed[-1][0] == "done" and parsed[-1][1]["finish_reason"] == "stop"


def test_a_stream_closed_before_its_end_is_reported(llm_client, fake_llm):
    fake_llm.then(Behaviour(close_after=4))

    parsed = events(_assist(llm_client))

    assert [n for n, _ in parsed][-1] == "error"
    assert parsed[-1][1]["error"] == "reponse_interrompue"
    assert len(text_of(parsed)) > 0


def test_a_slow_first_token_is_a_504_before_the_stream(llm_app, fake_llm):
    client = llm_app(LLM_TIMEOUT_FIRST_TOKEN=0.5).test_client()
    fake_llm.then(Behaviour(first_token_delay=3))

    response = _assist(client)

    assert response.status_code == 504
    assert response.json["error"] == "delai_depasse"
    assert "0.5 s" in response.json["message"]
    assert len(fake_llm.chat_requests()) == 1  # a slow host is not asked again
    assert fake_llm.chat_requests()[0].ended.wait(5)
    assert fake_llm.chat_requests()[0].disconnected  # and its connection was closed


def test_a_slow_first_token_goes_to_the_fallback(llm_app, fake_llm):
    with FakeUpstream() as fallback:
        client = llm_app(LLM_TIMEOUT_FIRST_TOKEN=0.5, LLM_FALLBACK_BASE_URL=fallback.url).test_client()
        fake_llm.then(Behaviour(first_token_delay=3))
        parsed = events(_assist(client))
        assert parsed[-1][0] == "done"
        assert len(fallback.chat_requests()) == 1


def test_silence_mid_stream_ends_with_an_error_and_closes_the_host(llm_app, fake_llm):
    client = llm_app(LLM_TIMEOUT_CHUNK=0.5).test_client()
    fake_llm.then(Behaviour(stall_after=2))

    parsed = events(_assist(client))

    assert [n for n, _ in parsed] == ["delta", "delta", "error"]
    assert parsed[-1][1]["error"] == "delai_depasse"
    assert "ne répond plus depuis 0.5 secondes" in parsed[-1][1]["message"]
    request = fake_llm.chat_requests()[0]
    assert request.ended.wait(5) and request.disconnected


def test_the_total_deadline_ends_a_long_answer(llm_app, fake_llm):
    client = llm_app(LLM_TIMEOUT_TOTAL=1.0).test_client()
    fake_llm.then(Behaviour(token_delay=0.3, reply="un deux trois quatre cinq six sept huit neuf dix"))

    parsed = events(_assist(client))

    assert parsed[0][0] == "delta"
    assert parsed[-1][0] == "error"
    assert "durée maximale de 1 secondes" in parsed[-1][1]["message"]


def test_a_refusing_host_key_is_explained(llm_client, fake_llm):
    fake_llm.then(Behaviour(status=401))

    response = _assist(llm_client)

    assert response.status_code == 502
    assert "PLUME_LLM_API_KEY" in response.json["message"]
