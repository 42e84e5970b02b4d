"""Dictation: audio proxied to the host, segments with timestamps, formats and size checked."""
from __future__ import annotations

import io
import struct

import pytest

from tests.fakes.upstream import Behaviour


def wav(seconds: float = 0.5, rate: int = 8000) -> bytes:
    """A silent mono 16-bit WAV file."""
    frames = b"\x00\x00" * int(seconds * rate)
    header = b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return header + fmt + b"data" + struct.pack("<I", len(frames)) + frames


@pytest.fixture
def stt_client(llm_app):
    return llm_app(LLM_TRANSCRIPTION_MODEL="fake-whisper").test_client()


def _post(client, data: bytes, filename: str = "dictee.wav", **form):
    return client.post("/api/v1/transcribe", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), filename), **form})


def test_a_recording_comes_back_as_text_with_timed_segments(stt_client, fake_llm):
    response = _post(stt_client, wav())

    assert response.status_code == 200
    body = response.json
    assert body["text"].startswith("Audience du 12 mars 2025.")
    assert body["segments"][0] == {"start": 0.0, "end": 2.4, "text": "Audience du 12 mars 2025"}
    assert body["segments"][1]["start"] == 2.5
    assert body["model"] == "fake-whisper" and body["interaction_id"]
    sent = fake_llm.requests[-1]
    assert sent.path == "/v1/audio/transcriptions"
    assert sent.form["model"] == "fake-whisper" and sent.form["language"] == "fr"
    assert sent.form["response_format"] == "verbose_json"
    assert sent.form["file"]["filename"] == "dictee.wav" and sent.form["file"]["size"] == len(wav())


@pytest.mark.parametrize("head,kind", [
    (b"ID3\x04\x00\x00\x00\x00\x00\x00", "mp3"), (b"\x00\x00\x00\x20ftypM4A ", "m4a"),
    (b"OggS\x00\x02\x00\x00", "ogg"), (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", "webm")])
def test_each_accepted_format_is_recognised_by_its_content(stt_client, fake_llm, head, kind):
    response = _post(stt_client, head + b"\x00" * 64, filename="sans-extension")

    assert response.status_code == 200
    assert fake_llm.requests[-1].form["file"]["filename"] == f"enregistrement.{kind}"


def test_hosts_without_segments_still_give_the_text(stt_client, fake_llm):
    fake_llm.then(Behaviour(segments=False))

    body = _post(stt_client, wav()).json

    assert body["text"].startswith("Audience") and body["segments"] == []


def test_a_file_that_is_not_audio_is_415(stt_client, fake_llm):
    response = _post(stt_client, b"%PDF-1.7 not audio", filename="note.wav")

    assert response.status_code == 415
    assert "wav, mp3, m4a, ogg, webm" in response.json["message"]
    assert fake_llm.requests == []


def test_a_file_over_the_limit_is_413(llm_app, fake_llm):
    client = llm_app(LLM_TRANSCRIPTION_MODEL="fake-whisper", LLM_TRANSCRIPTION_MAX_BYTES=4000).test_client()

    response = _post(client, wav(seconds=1.0))

    assert response.status_code == 413
    assert fake_llm.requests == []


def test_missing_file_is_400(stt_client):
    response = stt_client.post("/api/v1/transcribe", content_type="multipart/form-data", data={})
    assert response.status_code == 400 and response.json["field"] == "file"


def test_without_a_transcription_model_the_setting_is_named(llm_client, fake_llm):
    response = _post(llm_client, wav())

    assert response.status_code == 503
    assert "PLUME_LLM_TRANSCRIPTION_MODEL" in response.json["message"]


def test_without_a_host_transcription_is_503_naming_the_base_url(make_app):
    client = make_app(LLM_TRANSCRIPTION_MODEL="whisper").test_client()
    response = _post(client, wav())
    assert response.status_code == 503 and "PLUME_LLM_BASE_URL" in response.json["message"]


def test_a_busy_host_is_retried(stt_client, fake_llm):
    fake_llm.then(Behaviour(status=503), Behaviour(status=429, retry_after="0"))

    assert _post(stt_client, wav()).status_code == 200
    assert len([r for r in fake_llm.requests if r.path == "/v1/audio/transcriptions"]) == 3
