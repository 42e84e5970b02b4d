"""A model server run as a child process on loopback: the demonstration LLM (:mod:`.demo`)
and the embedded Whisper (:mod:`.whisper_local`) are both started and stopped this way.

The child holds the read end of a pipe (its stdin) as a lifeline: when this process exits,
however it exits, the pipe closes and the child stops itself.
"""
from __future__ import annotations

import json
import select
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

STOP_TIMEOUT_S = 5.0


class ChildStartError(RuntimeError):
    """The child gave no handshake in time; the message holds the last lines of its log."""


def launch(module: str, spec: Mapping[str, Any], log_path: Path, env: Mapping[str, str],
           timeout: float) -> tuple[subprocess.Popen, str]:
    """Start ``python -m module`` with ``spec`` as one JSON line on its stdin (kept open as
    the lifeline) and wait for its one handshake line on stdout, ``{"address": URL}``.

    Returns the process and the address; a child that gives none is killed and
    :class:`ChildStartError` names the end of its log.
    """
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen([sys.executable, "-m", module], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=log_file, env=dict(env))
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write((json.dumps(spec) + "\n").encode())
    process.stdin.flush()
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    line = process.stdout.readline() if ready else b""
    process.stdout.close()
    try:
        return process, json.loads(line)["address"].rstrip("/")
    except (ValueError, KeyError, TypeError, AttributeError):
        process.kill()
        process.wait()
        raise ChildStartError(_tail(log_path)) from None


def _tail(path: Path, lines: int = 5) -> str:
    text = path.read_text(errors="replace").strip().splitlines()
    return " | ".join(text[-lines:]) or "—"


@dataclass
class LoopbackChild:
    """A running model server, child of this process.

    ``base_url`` ends with ``/v1`` (what OpenAI clients expect); ``root_url`` is the server
    itself, for its own endpoints (``/health``…).
    """

    root_url: str
    model: str
    api_key: str
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Close the lifeline pipe, then insist if the child lingers."""
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
