"""`python -m backend serve` with no LLM setting (the command `make run` ends with; `make`
itself is not run here): `serve` starts the demonstration model, Plume streams a summary
from it labelled as a demonstration, and the model stops with the backend."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from ..conftest import ctrl_c_delivered, free_port
from .conftest import sse_events

ROOT = Path(__file__).resolve().parents[2]


def children(pid: int) -> list[int]:
    """Child processes of ``pid`` (a thread may end while we read: it has none then)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def start_serve(env: dict[str, str], port: int) -> tuple[subprocess.Popen, float]:
    """`python -m backend serve`, the command `make run` runs; returns it once /healthz answers."""
    began = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "backend", "serve"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               preexec_fn=ctrl_c_delivered)
    deadline = began + 180
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return process, time.monotonic() - began
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"serve did not answer within 180 s:\n{process.stdout.read()}")


def test_serve_without_llm_settings_serves_a_labelled_demo_and_stops_it(empty_database, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUME_")}
    env.update({"PLUME_ENV": "development", "DATABASE_URL": empty_database,
                "PLUME_DATA_DIR": str(tmp_path), "PORT": str(port), "PLUME_DEV_TLS": "0",
                "PLUME_LOAD_SAMPLE_CORPUS": "0", "PLUME_LLM_MAX_OUTPUT_TOKENS": "24",
                "PLUME_WHISPER_LOCAL": "0"})  # whisper: its own test
    base = f"http://127.0.0.1:{port}"

    process, first_start = start_serve(env, port)
    try:
        (llama,) = children(process.pid)
        models = requests.get(f"{base}/api/v1/models", timeout=10).json()
        assert models["demo"] is True and models["default"] == "SmolLM2-135M-Instruct"
        assert "démonstration" in models["notice"] and "PLUME_LLM_BASE_URL" in models["notice"]

        answer = requests.post(f"{base}/api/v1/assist/summarize", stream=True, timeout=600, json={
            "text": "Le tribunal rejette la demande de M. Martin.\n\nLes dépens sont à sa charge."})
        assert answer.status_code == 200
        events = list(sse_events(answer.iter_lines(decode_unicode=True)))
        assert [name for name, _ in events][0] == "delta"
        assert events[-1][0] == "done" and events[-1][1]["demo"] is True
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    assert "Modèle de démonstration local" in output and "ne sont pas fiables" in output

    deadline = time.monotonic() + 10
    while alive(llama) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(llama), "the llama.cpp server outlived the backend"

    again, second_start = start_serve(env, port)
    try:
        assert requests.get(f"{base}/api/v1/models", timeout=10).json()["demo"] is True
    finally:
        again.send_signal(signal.SIGINT)
        again.communicate(timeout=30)
    print(json.dumps({"serve_ready_s": {"first": round(first_start, 1),
                                        "second": round(second_start, 1)}}))
