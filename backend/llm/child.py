"""A model server run as a child process on loopback: the demonstration LLM (:mod:`.demo`)
and the embedded Whisper (:mod:`.whisper_local`) are both started and stopped this way.

The child holds the read end of a pipe (its stdin) as a lifeline: when this process exits,
however it exits, the pipe closes and the child stops itself.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

STOP_TIMEOUT_S = 5.0


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
