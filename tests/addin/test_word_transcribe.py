"""Transcrire: a real WAV upload through Plume to the fake speech-to-text host, the transcript
with timestamps, and its insertion on a click."""
from __future__ import annotations

import wave

import pytest

from .conftest import FeedbackLog, word_calls, word_state, open_tab


@pytest.fixture
def recording(tmp_path):
    """One second of silence as a 16 kHz mono WAV file."""
    path = tmp_path / "audience.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * 16000)
    return path


def test_transcript_with_timestamps_then_insertion(plume, fake_llm, recording, open_pane, screenshot):
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": ["Procès-verbal d'audience."]}})
    feedback = FeedbackLog(page)
    open_tab(page, "transcribe")
    page.set_input_files("#transcribe-file", str(recording))
    assert page.inner_text("#transcribe-file-name") == "audience.wav"
    page.click("#transcribe-run")
    page.wait_for_selector("#transcribe-after [data-action=insert]")
    lines = page.evaluate("""() => [...document.querySelectorAll('#transcribe-output li')]
        .map((li) => [li.children[0].textContent, li.children[1].textContent])""")
    assert len(lines) >= 2 and lines[0][0] == "00:00"
    assert all(stamp.count(":") == 1 for stamp, _ in lines)
    assert lines[0][1].startswith("Audience du 12 mars 2025")
    upload = [r for r in fake_llm.requests if r.path == "/v1/audio/transcriptions"][-1]
    assert upload.form["model"] == "fake-whisper"
    screenshot(page, "word-transcribe")

    page.click("#transcribe-after [data-action=insert]")
    page.wait_for_selector("#transcribe-after [data-outcome=inserted]")
    inserted = next(c for c in word_calls(page) if c["api"] == "Range.insertParagraph")
    assert inserted["args"][0].splitlines()[0] == f"[00:00] {lines[0][1]}"
    assert inserted["trackingMode"] == "TrackAll"
    state = word_state(page)
    assert "audience.wav" in state["comments"][0]["text"]
    assert state["contentControls"][0]["tag"] == "plume-ai"
    feedback.wait(1)
    assert [(body["outcome"], status) for body, status in feedback.sent] == [("inserted", 201)]


def test_a_file_that_is_not_audio_is_refused_in_french(plume, tmp_path, open_pane):
    text = tmp_path / "notes.txt"
    text.write_text("pas un son")
    page = open_pane(plume())
    open_tab(page, "transcribe")
    page.click("#transcribe-run")
    assert page.inner_text("#transcribe-error") == "Choisissez d'abord un fichier audio."
    page.set_input_files("#transcribe-file", str(text))
    page.click("#transcribe-run")
    assert "n'est pas un format audio accepté" in page.inner_text("#transcribe-error")
