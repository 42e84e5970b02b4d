"""Transcrire: a real recording (espeak-ng, sox) sent in parts through a network cut, followed
as a background job run by a real worker on the test database, then played from a time,
searched, relabelled, exported and inserted — in headless Chromium with the Office mock."""
from __future__ import annotations

import re
import time

import pytest

from backend import jobs
from tests.transcription.conftest import hearing

from .conftest import FeedbackLog, fake_llm_settings, open_tab, plain, word_calls, word_state

PIECE_SECONDS = 30


@pytest.fixture
def served(make_app, serve_app, fake_llm, tmp_path):
    """A served Plume with a job worker, speaking to the fake speech-to-text host."""
    app = make_app(**fake_llm_settings(fake_llm), DATA_DIR=str(tmp_path / "data"),
                   HEARING_PIECE_SECONDS=PIECE_SECONDS, JOB_POLL_SECONDS=0.2)
    worker = jobs.Worker(app, 1).start()
    yield serve_app(app)
    worker.stop(grace=0)


@pytest.fixture
def recording(tmp_path):
    """About 3 minutes of French speech and pauses (a 16 kHz WAV of ~5.5 MB: two parts)."""
    return hearing(tmp_path / "audience.wav", 3)


def wait_status(page, test, timeout=60.0):
    """Waits until the status line passes ``test`` (the pane's CSP forbids evaluated strings)."""
    deadline = time.monotonic() + timeout
    while not test(text := plain(page.inner_text("#transcribe-status"))):
        assert time.monotonic() < deadline, (f"status still {text!r}; "
                                             f"error: {page.inner_text('#transcribe-error')!r}")
        page.wait_for_timeout(50)
    return text


DRAW_DOCUMENT = """() => {
  const s = window.__officeState;
  const box = document.createElement('section');
  box.id = 'mock-document';
  box.style.cssText = 'border: 1px solid #888; margin: 8px; padding: 8px; font: 12px serif; white-space: pre-wrap;';
  const label = document.createElement('div');
  label.textContent = `Document (mock) — contrôle « ${s.contentControls[0].title} », suivi des modifications`;
  label.style.fontStyle = 'italic';
  box.append(label);
  s.paragraphs.forEach((text, index) => {
    const paragraph = document.createElement('p');
    let at = 0;
    for (const f of s.formats.filter((f) => f.paragraph === index && f.bold).sort((a, b) => a.start - b.start)) {
      paragraph.append(text.slice(at, f.start));
      const bold = document.createElement('strong');
      bold.textContent = text.slice(f.start, f.end);
      paragraph.append(bold);
      at = f.end;
    }
    paragraph.append(text.slice(at));
    box.append(paragraph);
  });
  document.body.prepend(box);
}"""


def puts(log):
    return [r for r in log if r[0] == "PUT"]


def test_upload_through_a_cut_progress_then_play_search_relabel_export_insert(
        served, fake_llm, recording, open_pane, screenshot):
    fake_llm.transcription_delay = 1.5  # pieces of 30 s, two at a time: ~5 s of progress to see
    page = open_pane(served, globals={"__officeMockConfig": {"paragraphs": ["Procès-verbal d'audience."]}})
    feedback = FeedbackLog(page)
    seen: list[tuple[str, str, int]] = []
    page.on("response", lambda r: seen.append((r.request.method, r.url, r.status))
            if "/api/v1/transcriptions" in r.url else None)
    cut = {"done": False}

    def cut_once(route):
        if not cut["done"] and "offset=4194304" in route.request.url:
            cut["done"] = True
            return route.abort("connectionreset")
        return route.continue_()

    page.route(re.compile(r".*/api/v1/transcriptions/.*/upload\?offset=.*"), cut_once)
    open_tab(page, "transcribe")
    page.set_input_files("#transcribe-file", str(recording))
    assert page.inner_text("#transcribe-file-name") == "audience.wav"
    page.click("#transcribe-run")
    wait_status(page, lambda t: "restantes" in t)
    screenshot(page, "word-transcribe-progress")
    page.wait_for_selector("#transcribe-after [data-action=insert]", timeout=60000)

    # The second part was cut once and sent again from the same offset.
    assert cut["done"]
    offsets = [re.search(r"offset=(\d+)", url).group(1) for method, url, _ in puts(seen)]
    assert offsets == ["0", "4194304"] and [s for _, _, s in puts(seen)] == [200, 200]

    stamps = page.eval_on_selector_all("#transcribe-output li button[data-start]",
                                       "(bs) => bs.map((b) => [b.textContent, Number(b.dataset.start)])")
    assert stamps[0] == ["00:00:00", 0]
    assert any(start >= PIECE_SECONDS for _, start in stamps)  # pieces on the hearing's timeline
    assert [s for _, s in stamps] == sorted(s for _, s in stamps)

    # Play from a time: the pane's own copy of the recording, not the server.
    third = page.locator("#transcribe-output li button[data-start]").nth(4)
    third.click()
    start = stamps[4][1]
    assert abs(page.evaluate("document.querySelector('#transcribe-player').currentTime") - start) < 0.5
    player = page.evaluate("(() => { const p = document.querySelector('#transcribe-player'); "
                           "return [p.src, p.error && p.error.code, p.duration]; })()")
    assert player[0].startswith("blob:") and player[1] is None and player[2] > 170

    page.fill("#transcribe-search", "deliberE")  # accents and case do not matter
    visible = page.locator("#transcribe-output li:not([hidden])")
    assert visible.count() == sum(1 for _ in stamps) // 3
    assert "passages trouvés" in page.inner_text("#transcribe-found")
    # Word times: the word found is marked, and Entrée plays from it, not from its segment.
    hits = page.eval_on_selector_all(
        "#transcribe-output li:not([hidden])", "(lis) => lis.map((li) => [Number(li.querySelector("
        "'button[data-start]').dataset.start), li.querySelector('[data-hit]').textContent, "
        "Number(li.querySelector('[data-hit]').dataset.start)])")
    segment_start, word, word_start = hits[0]
    assert word == "délibéré" and word_start > segment_start + 1  # the 5th word of its segment
    assert "Entrée : écouter à partir de « délibéré »" in page.inner_text("#transcribe-found")
    page.press("#transcribe-search", "Enter")
    assert abs(page.evaluate("document.querySelector('#transcribe-player').currentTime")
               - word_start) < 0.3
    page.fill("#transcribe-search", "")

    page.fill("#transcribe-speaker", "Me Durand")
    page.locator("#transcribe-output li [data-action=speaker]").nth(1).click()
    names = page.eval_on_selector_all("#transcribe-output li", "(lis) => lis.map((li) => "
                                      "(li.querySelector('strong') || {}).textContent || null)")
    assert names[0] is None and {plain(name) for name in names[1:]} == {"Me Durand : "}
    wait_status(page, lambda t: t.startswith("Intervenants enregistrés"))
    assert [s for m, u, s in seen if m == "PUT" and u.endswith("/speakers")] == [200]
    screenshot(page, "word-transcribe")

    with page.expect_download() as download:
        page.click("#transcribe-exports [data-export=srt]")
    srt = open(download.value.path(), encoding="utf-8").read()
    assert download.value.suggested_filename == "audience.srt"
    assert srt.startswith("1\n00:00:00,000 --> 00:00:02,400\nAudience du 12 mars 2025\n")
    # The server's export names the speaker the pane chose.
    assert "2\n00:00:02,500 --> 00:00:04,900\nMe Durand : Le tribunal entend les parties\n" in srt

    page.click("#transcribe-after [data-action=insert]")
    page.wait_for_selector("#transcribe-after [data-outcome=inserted]")
    inserted = next(c for c in word_calls(page) if c["api"] == "Range.insertParagraph")
    lines = inserted["args"][0].splitlines()
    assert lines[0].startswith("[00:00:00] Audience du 12 mars 2025")
    assert lines[1].startswith("[00:00:02] Me Durand : ")
    assert inserted["trackingMode"] == "TrackAll"
    # The speakers in bold: each « Me Durand : » of the control, as a tracked change.
    wanted = sum(1 for line in lines if " Me Durand : " in line)
    deadline = time.monotonic() + 10
    while len(bold := [c for c in word_calls(page) if c["api"] == "Range.font.bold"]) < wanted:
        assert time.monotonic() < deadline, bold
        page.wait_for_timeout(50)
    assert len(bold) == wanted > 5
    assert {(c["text"], c["args"][0], c["trackingMode"]) for c in bold} == {
        ("Me Durand :", True, "TrackAll")}
    screenshot(page, "word-transcribe-inserted")
    formats = page.evaluate("window.__officeState.formats")
    assert [f["text"] for f in formats if f.get("bold")] == ["Me Durand :"] * wanted
    # What the mock document holds, drawn above the pane for the screenshot: the bold runs
    # where the mock recorded them.
    page.evaluate(DRAW_DOCUMENT)
    assert page.eval_on_selector_all("#mock-document strong", "(bs) => bs.map((b) => b.textContent)"
                                     ) == ["Me Durand :"] * wanted
    screenshot(page, "word-transcribe-document")
    state = word_state(page)
    assert state["trackingMode"] == "Off"  # the user's own mode, back
    assert "audience.wav" in state["comments"][0]["text"]
    assert state["contentControls"][0]["tag"] == "plume-ai"
    feedback.wait(1)
    assert [(body["outcome"], status) for body, status in feedback.sent] == [("inserted", 201)]


def test_a_pane_reopened_after_a_cut_resumes_the_upload(served, fake_llm, recording, open_pane):
    page = open_pane(served)
    page.route(re.compile(r".*/upload\?offset=(?!0$)\d+"), lambda route: route.abort("connectionreset"))
    open_tab(page, "transcribe")
    page.set_input_files("#transcribe-file", str(recording))
    page.click("#transcribe-run")
    wait_status(page, lambda t: "Connexion interrompue" in t, 30)
    page.unroute_all()  # the network comes back…
    page.reload()  # …and the pane, closed in the middle, is opened again
    page.wait_for_selector("body[data-ready]")
    sent: list[tuple[str, str]] = []
    page.on("request", lambda r: sent.append((r.method, r.url)) if "/transcriptions" in r.url else None)
    open_tab(page, "transcribe")
    page.set_input_files("#transcribe-file", str(recording))
    page.click("#transcribe-run")
    page.wait_for_selector("#transcribe-after [data-action=insert]", timeout=60000)
    # The same job, asked where its upload stands, then only what it lacked.
    methods = [(m, re.sub(r"[0-9a-f-]{36}", "ID", url.split("/api/v1")[1])) for m, url in sent]
    assert methods[:3] == [("GET", "/transcriptions/ID"), ("PUT", "/transcriptions/ID/upload?offset=4194304"),
                           ("POST", "/transcriptions/ID/start")]
    uploads = [r for r in fake_llm.requests if r.path == "/v1/audio/transcriptions"]
    assert len(uploads) >= 6  # 3 minutes in pieces of 30 s


def test_cancel_during_the_job(served, fake_llm, recording, open_pane):
    fake_llm.transcription_delay = 1.0
    page = open_pane(served)
    open_tab(page, "transcribe")
    page.set_input_files("#transcribe-file", str(recording))
    page.click("#transcribe-run")
    wait_status(page, lambda t: t.startswith("Transcription :"))
    page.click("#transcribe-stop")
    wait_status(page, lambda t: t == "Transcription annulée.", 30)
    assert page.locator("#transcribe-output li").count() == 0
    assert page.is_hidden("#transcribe-stop")


def test_a_file_that_is_not_audio_is_refused_in_french(served, tmp_path, open_pane):
    text = tmp_path / "notes.txt"
    text.write_text("pas un son")
    page = open_pane(served)
    open_tab(page, "transcribe")
    page.click("#transcribe-run")
    assert plain(page.inner_text("#transcribe-error")) == "Choisissez d'abord un fichier audio."
    page.set_input_files("#transcribe-file", str(text))
    page.click("#transcribe-run")
    assert "n'est pas un format accepté" in plain(page.inner_text("#transcribe-error"))


def test_a_corrupt_recording_fails_with_the_servers_french_message(served, tmp_path, open_pane):
    bad = tmp_path / "audience.ogg"
    bad.write_bytes(b"OggS" + bytes(range(256)) * 200)
    page = open_pane(served)
    open_tab(page, "transcribe")
    page.set_input_files("#transcribe-file", str(bad))
    page.click("#transcribe-run")
    page.wait_for_selector("#transcribe-error:not([hidden])", timeout=30000)
    assert "illisible ou endommagé" in page.inner_text("#transcribe-error")
    assert page.locator("#transcribe-output li").count() == 0
