"""The embedded Whisper: weights reassembled and checked, loaded with no network, and serving
``POST /api/v1/transcribe`` end to end through the gateway like a sovereign host.

The audio is French from Debian's ``espeak-ng``: robotic speech that Whisper base half
misunderstands, so the end-to-end test asks for words it recovers from this voice.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from backend.llm import whisper_local

ROOT = Path(__file__).resolve().parents[2]
SPEECH = ("La parole est à la défense. Le témoin est entendu. "
          "Monsieur le président, je demande le renvoi de l'affaire.")
# Base gets all seven from this voice at 130 and 170 words a minute (not « renvoi »,
# « affaire »): five leave room for the small numeric differences of another CPU.
EXPECTED_WORDS = {"parole", "défense", "témoin", "entendu", "monsieur", "président", "demande"}


def espeak(text: str, path: Path, speed: int = 130) -> bytes:
    """French speech from espeak-ng (words a minute, 8 ms more between words)."""
    subprocess.run(["espeak-ng", "-v", "fr", "-s", str(speed), "-g", "8", "-w", str(path), text],
                   check=True)
    return path.read_bytes()


@pytest.fixture(scope="module")
def whisper_data(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("whisper-data")


@pytest.fixture(scope="module")
def whisper_server(whisper_data):
    server = whisper_local.start(whisper_data)
    yield server
    server.stop()


@pytest.fixture
def stt_client(make_app, whisper_server):
    # No generation host at all: transcription goes to the embedded server alone.
    return make_app(**whisper_local.settings_for(whisper_server)).test_client()


def _post(client, data: bytes, filename: str = "audience.wav"):
    return client.post("/api/v1/transcribe", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), filename)})


def _words(text: str) -> set[str]:
    return {w.strip(".,;:!?«»'\"").lower() for w in text.replace("'", " ").split()}


# End to end -----------------------------------------------------------------------------

def test_french_speech_is_transcribed_by_the_embedded_model(stt_client, tmp_path):
    audio = espeak(SPEECH, tmp_path / "audience.wav")

    response = _post(stt_client, audio)

    assert response.status_code == 200, response.json
    body = response.json
    found = EXPECTED_WORDS & _words(body["text"])
    assert len(found) >= 5, body["text"]
    assert body["model"] == "faster-whisper-base" and body["demo"] is True
    assert body["language"] == "fr" and 6.0 < body["duration"] < 15.0
    segments = body["segments"]
    assert len(segments) >= 2  # one per sentence or so, not one per 30 s window
    assert all(0 <= s["start"] < s["end"] <= body["duration"] + 0.5 for s in segments)
    assert all(a["end"] <= b["start"] + 0.01 for a, b in zip(segments, segments[1:]))
    assert body["interaction_id"]


def test_the_models_list_says_transcription_is_the_demonstration_model(make_app, whisper_server,
                                                                       fake_llm):
    client = make_app(LLM_BASE_URL=fake_llm.url, LLM_MODEL="fake-chat",
                      **whisper_local.settings_for(whisper_server)).test_client()

    models = client.get("/api/v1/models").json["models"]

    assert {"id": "faster-whisper-base", "tasks": ["transcribe"], "context_tokens": None,
            "demo": True} in models


def test_generation_stays_on_its_own_host_when_speech_is_embedded(make_app, whisper_server,
                                                                  fake_llm, tmp_path):
    client = make_app(LLM_BASE_URL=fake_llm.url, LLM_MODEL="fake-chat",
                      **whisper_local.settings_for(whisper_server)).test_client()

    response = _post(client, espeak("Bonjour.", tmp_path / "bonjour.wav"))

    assert response.status_code == 200
    assert [r.path for r in fake_llm.requests] == []  # nothing went to the generation host


def test_a_wav_header_over_garbage_is_refused_in_french(stt_client):
    fake = b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(2000)

    response = _post(stt_client, fake)

    assert response.status_code == 502
    assert response.json["error"] and "refusé" in response.json["message"]


def test_without_a_speech_host_or_the_embedded_model_transcription_is_503(make_app, tmp_path):
    client = make_app(WHISPER_LOCAL=False).test_client()

    response = _post(client, espeak("Bonjour.", tmp_path / "bonjour.wav"))

    assert response.status_code == 503
    assert "PLUME_LLM_BASE_URL" in response.json["message"]


def test_serve_wants_the_embedded_model_only_without_a_transcription_host(make_app):
    assert make_app().config["WHISPER_LOCAL_START"] is True  # development, nothing configured
    assert make_app(LLM_TRANSCRIPTION_MODEL="whisper-large-v3").config["WHISPER_LOCAL_START"] is False
    assert make_app(WHISPER_LOCAL=False).config["WHISPER_LOCAL_START"] is False


# Reassembly -----------------------------------------------------------------------------

def test_reassembled_weights_match_the_pinned_digest(whisper_server, whisper_data):
    folder = whisper_local.model_dir(whisper_data, "base")
    digest = hashlib.sha256((folder / "model.bin").read_bytes()).hexdigest()

    assert digest == whisper_local.MODELS["base"].sha256
    assert sorted(p.name for p in folder.iterdir()) == sorted(whisper_local.REQUIRED_FILES)


def _corrupted_parts(tmp_path: Path, flip_at: int | None, cut: int = 0) -> tuple[list[Path], list[Path]]:
    parts, files = whisper_local.MODELS["base"].locate()
    bad = tmp_path / "model.bin.part2"
    shutil.copyfile(parts[1], bad)
    with open(bad, "r+b") as f:
        if flip_at is not None:
            f.seek(flip_at)
            byte = f.read(1)
            f.seek(flip_at)
            f.write(bytes([byte[0] ^ 0xFF]))
        if cut:
            f.truncate(whisper_local.MODELS["base"].parts[1].size - cut)
    return [parts[0], bad], files


@pytest.mark.parametrize("flip_at,cut,why", [(1_000_000, 0, "empreinte SHA-256"),
                                             (None, 10, "octets au lieu de")])
def test_a_corrupted_part_is_refused_and_nothing_half_written_is_left(tmp_path, flip_at, cut, why):
    parts, files = _corrupted_parts(tmp_path, flip_at, cut)
    target = tmp_path / "whisper" / "faster-whisper-base"

    with pytest.raises(whisper_local.WhisperError) as refused:
        whisper_local.assemble(target, whisper_local.MODELS["base"], parts, files)

    assert "altérés" in str(refused.value) and why in str(refused.value)
    assert not (target / "model.bin").exists()
    assert [p.name for p in target.iterdir() if p.name.startswith(".")] == []  # no temporary file


def test_an_unknown_model_is_refused_in_french(tmp_path):
    with pytest.raises(whisper_local.WhisperError, match="inconnu"):
        whisper_local.prepare(tmp_path, "large")


# Offline --------------------------------------------------------------------------------

class NetworkTrap:
    """A proxy that answers nothing and records every connection made through it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.hits: list[bytes] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(2)
            try:
                self.hits.append(conn.recv(200))
            except OSError:
                self.hits.append(b"")
            conn.close()

    def env(self, **extra: str) -> dict[str, str]:
        proxy = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")
               and not k.startswith("HF_")}
        env.update({"HTTP_PROXY": proxy, "HTTPS_PROXY": proxy, "http_proxy": proxy,
                    "https_proxy": proxy, "NO_PROXY": "", "HF_HOME": "/nonexistent-hf-home",
                    "PYTHONPATH": str(ROOT), **extra})
        return env


@pytest.fixture
def trap():
    t = NetworkTrap()
    yield t
    t.sock.close()


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def _without_tokenizer(whisper_data: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "sans-tokenizer"
    folder.mkdir()
    source = whisper_local.model_dir(whisper_data, "base")
    for name in ("model.bin", "config.json", "vocabulary.txt"):
        os.link(source / name, folder / name)
    return folder


def test_the_trap_catches_faster_whisper_reaching_for_a_hub(trap, whisper_server, whisper_data,
                                                            tmp_path):
    """Why the check exists: given a folder without tokenizer.json, faster-whisper goes online."""
    folder = _without_tokenizer(whisper_data, tmp_path)

    done = _run(f"from faster_whisper import WhisperModel; WhisperModel({str(folder)!r})", trap.env())

    assert done.returncode != 0
    assert any(b"huggingface.co" in hit for hit in trap.hits), trap.hits


@pytest.mark.parametrize("what", ["no tokenizer", "a model name", "a missing folder"])
def test_an_incomplete_model_is_refused_in_french_without_any_network(trap, whisper_server,
                                                                      whisper_data, tmp_path, what):
    folder = {"no tokenizer": lambda: str(_without_tokenizer(whisper_data, tmp_path)),
              "a model name": lambda: "base",
              "a missing folder": lambda: str(tmp_path / "absent")}[what]()
    code = ("import sys\nfrom backend.llm import whisper_local as w\n"
            f"try:\n    w.load({folder!r})\nexcept w.WhisperError as e:\n"
            "    print(e); sys.exit(3)\n")

    done = _run(code, trap.env())  # HF_HUB_OFFLINE deliberately unset: the check decides

    assert done.returncode == 3, done.stderr
    assert "modèle de transcription" in done.stdout
    assert ("tokenizer.json" in done.stdout) if what == "no tokenizer" else ("n'existe pas" in done.stdout)
    assert trap.hits == []


def test_the_complete_model_loads_and_transcribes_with_no_network(trap, whisper_server, whisper_data,
                                                                  tmp_path):
    audio = espeak("Bonjour.", tmp_path / "bonjour.wav")
    code = ("import json, sys\nfrom backend.llm import whisper_local as w\n"
            f"p = w.load({str(whisper_local.model_dir(whisper_data, 'base'))!r}, threads=1)\n"
            f"print(json.dumps(w.transcribe(p, open({str(tmp_path / 'bonjour.wav')!r}, 'rb').read())))\n")

    done = _run(code, trap.env())

    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout.strip().splitlines()[-1])
    assert body["language"] == "fr" and body["duration"] > 0 and audio
    assert trap.hits == []


# make run ------------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_serve_without_a_transcription_host_transcribes_with_the_embedded_model(
        empty_database, whisper_data, tmp_path):
    import requests

    from tests.conftest import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUME_")}
    env.update({"PLUME_ENV": "development", "DATABASE_URL": empty_database,
                "PLUME_DATA_DIR": str(whisper_data), "PORT": str(port), "PLUME_DEV_TLS": "0",
                "PLUME_LOAD_SAMPLE_CORPUS": "0", "PLUME_EMBEDDINGS_BACKGROUND": "0",
                "PLUME_LLM_DEMO": "0"})  # the demonstration LLM has its own test
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([sys.executable, "-m", "backend", "serve"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(600):
            assert process.poll() is None, process.stdout.read()
            try:
                requests.get(f"{base}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        (speech,) = _children(process.pid)
        audio = espeak(SPEECH, tmp_path / "audience.wav")

        answer = requests.post(f"{base}/api/v1/transcribe", timeout=300,
                               files={"file": ("audience.wav", audio, "audio/wav")})

        assert answer.status_code == 200, answer.text
        assert answer.json()["demo"] is True and answer.json()["model"] == "faster-whisper-base"
        assert len(EXPECTED_WORDS & _words(answer.json()["text"])) >= 5
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    assert "Transcription par le modèle embarqué" in output and "PLUME_LLM_TRANSCRIPTION_MODEL" in output
    deadline = time.monotonic() + 10
    while _alive(speech) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(speech), "the embedded Whisper outlived the backend"


# A hearing through the job path, transcribed by the embedded model -------------------------

def test_a_hearing_job_is_cut_transcribed_by_the_embedded_model_and_stitched(
        make_app, whisper_server, tmp_path):
    from docx import Document

    from backend import jobs
    from tests.jobs.processes import wait_until
    from tests.transcription.conftest import espeak, hearing

    clip = espeak(SPEECH, tmp_path / "clip.wav")
    recording = hearing(tmp_path / "audience.ogg", 1.7, clip=clip, pause_s=3.0)
    app = make_app(**whisper_local.settings_for(whisper_server), DATA_DIR=str(tmp_path / "data"),
                   HEARING_PIECE_SECONDS=30, JOB_POLL_SECONDS=0.2)
    client = app.test_client()
    with open(recording, "rb") as data:
        created = client.post("/api/v1/transcriptions", content_type="multipart/form-data",
                              data={"file": (data, "audience.ogg")})
    assert created.status_code == 202, created.json
    job_id = created.json["id"]
    worker = jobs.Worker(app, 1).start()
    try:
        body = wait_until(lambda: (b := client.get(f"/api/v1/transcriptions/{job_id}").json)[
            "state"] in {"done", "failed"} and b, timeout=300)
    finally:
        worker.stop(grace=0)

    assert body["state"] == "done", body
    assert body["pieces"] >= 3 and body["model"] == "faster-whisper-base" and body["demo"] is True
    assert 95 < body["duration"] < 110 and body["language"] == "fr"
    late = [s for s in body["segments"] if s["start"] > 60]
    assert late, body["segments"]  # the last pieces' segments are on the hearing's timeline
    assert len(EXPECTED_WORDS & _words(" ".join(s["text"] for s in late))) >= 4
    assert len(EXPECTED_WORDS & _words(body["text"])) >= 5
    # Word times (PLUME_HEARING_WORD_TIMES): each word inside its segment, on the hearing's
    # timeline, spelling the segment's text.
    for segment in body["segments"]:
        words = segment["words"]
        assert " ".join(w["word"] for w in words) == " ".join(segment["text"].split()), segment
        assert all(segment["start"] - 0.5 <= w["start"] <= w["end"] <= segment["end"] + 0.5
                   for w in words), segment
    assert any(w["start"] > 60 and w["word"].lower().strip(".,") in EXPECTED_WORDS
               for s in late for w in s["words"])

    docx = client.get(f"/api/v1/transcriptions/{job_id}/export.docx")
    paragraphs = [p.text for p in Document(io.BytesIO(docx.data)).paragraphs]
    assert any(p.startswith("[00:01:") for p in paragraphs)
    vtt = client.get(f"/api/v1/transcriptions/{job_id}/export.vtt").text
    assert vtt.startswith("WEBVTT") and vtt.count(" --> ") == len(
        [s for s in body["segments"] if s["text"].strip()])


def test_a_separate_worker_transcribes_with_the_embedded_model(
        make_app, database_url, whisper_server, whisper_data, tmp_path):
    """``python -m backend worker`` without a transcription host starts the embedded Whisper
    itself (as ``serve`` does), so a worker on another machine transcribes offline."""
    from tests.jobs.processes import WorkerProcesses, wait_until
    from tests.transcription.conftest import HASH_KEY, espeak, hearing

    recording = hearing(tmp_path / "audience.ogg", 0.4, clip=espeak(SPEECH, tmp_path / "clip.wav"),
                        pause_s=2.0)
    # The submitting instance has no speech-to-text at all: only the worker has one.
    app = make_app(DATA_DIR=str(tmp_path / "web"), JOB_WORKER_IN_SERVE=False)
    client = app.test_client()
    with open(recording, "rb") as data:
        created = client.post("/api/v1/transcriptions", content_type="multipart/form-data",
                              data={"file": (data, "audience.ogg")})
    assert created.status_code == 202, created.json
    processes = WorkerProcesses(database_url, tmp_path, {
        "PLUME_AUDIT_HASH_KEY": HASH_KEY, "PLUME_DATA_DIR": str(whisper_data)})
    worker = processes.spawn()
    try:
        body = wait_until(lambda: (b := client.get(f"/api/v1/transcriptions/{created.json['id']}")
                                   .json)["state"] in {"done", "failed"} and b, timeout=300)
        speech = _children(worker.pid)
    finally:
        processes.kill_all()

    assert body["state"] == "done", body
    assert body["model"] == "faster-whisper-base" and body["demo"] is True
    assert len(EXPECTED_WORDS & _words(body["text"])) >= 5
    log = Path(worker.log_path).read_text()
    assert "Transcription par le modèle embarqué" in log, log
    assert len(speech) == 1
    deadline = time.monotonic() + 10
    while _alive(speech[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(speech[0]), "the embedded Whisper outlived its worker"
