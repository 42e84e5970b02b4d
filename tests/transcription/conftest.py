"""Fixtures of the hearing tests: real recordings made with espeak-ng and sox (and PyAV for
the containers sox does not write), an application whose jobs are quick to lose and retry,
in-process workers and real ``python -m backend worker`` processes on the test database."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from backend import jobs
from tests.jobs.processes import WorkerProcesses, WorkerThreads

FAST = {"JOB_LEASE_SECONDS": 1.5, "JOB_POLL_SECONDS": 0.2, "JOB_RETRY_DELAY": 0.0,
        "JOB_STOP_GRACE": 2.0}
HASH_KEY = "test-hash-key"  # tests/conftest.py's: the worker process must name users alike
SPEECH = ("La parole est à la défense. Le témoin est entendu. "
          "Monsieur le président, je demande le renvoi de l'affaire.")


def espeak(text: str, path: Path, speed: int = 140) -> Path:
    """French speech from espeak-ng as a 16 kHz mono WAV file."""
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", "fr", "-s", str(speed), "-g", "8", "-w", str(raw), text],
                   check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", str(path)], check=True)
    raw.unlink()
    return path


def hearing(path: Path, minutes: float, *, clip: Path | None = None, pause_s: float = 4.0) -> Path:
    """About ``minutes`` of a spoken clip and pauses, repeated (sox writes the format its
    suffix names: .wav, .ogg, .flac)."""
    clip = clip or espeak(SPEECH, path.parent / "clip.wav")
    padded = path.parent / "padded.wav"
    subprocess.run(["sox", str(clip), str(padded), "pad", "0", str(pause_s)], check=True)
    length = float(subprocess.run(["soxi", "-D", str(padded)], capture_output=True, text=True,
                                  check=True).stdout)
    repeats = max(0, int(minutes * 60 / length) - 1)
    subprocess.run(["sox", str(padded), str(path), "repeat", str(repeats)], check=True)
    return path


def transcode(source: Path, target: Path, codec: str) -> Path:
    """``source`` re-encoded by PyAV into ``target``'s container (mp4, webm, mp3…)."""
    import av

    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        stream = out.add_stream(codec, rate=48000 if codec in {"libopus", "opus"} else 16000)
        resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=stream.rate)
        for frame in inp.decode(audio=0):
            frame.pts = None
            for converted in resampler.resample(frame):
                for packet in stream.encode(converted):
                    out.mux(packet)
        for converted in resampler.resample(None):
            for packet in stream.encode(converted):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return target


@pytest.fixture
def hearing_app(make_app, fake_llm, tmp_path) -> Iterator[Any]:
    app = make_app(LLM_BASE_URL=fake_llm.url, LLM_TRANSCRIPTION_MODEL="fake-whisper",
                   DATA_DIR=str(tmp_path / "data"), **FAST)
    with app.app_context():
        yield app


@pytest.fixture
def start_worker(hearing_app) -> Iterator[Callable[..., jobs.Worker]]:
    threads = WorkerThreads(hearing_app, 1)
    yield threads.start
    threads.stop_all()


@pytest.fixture
def spawn_worker(hearing_app, database_url: str, fake_llm, tmp_path: Path
                 ) -> Iterator[Callable[..., subprocess.Popen]]:
    """``python -m backend worker`` processes on the test database, speaking to the fake host,
    each with its own data folder (as on two machines)."""
    processes = WorkerProcesses(database_url, tmp_path, {
        "PLUME_AUDIT_HASH_KEY": HASH_KEY, "PLUME_LLM_BASE_URL": fake_llm.url,
        "PLUME_LLM_TRANSCRIPTION_MODEL": "fake-whisper", "PLUME_WHISPER_LOCAL": "0"},
        own_data_dir=True)
    yield processes.spawn
    processes.kill_all()
