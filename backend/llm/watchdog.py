"""Deadlines on upstream streams: first token, silence between chunks, total duration.

A synchronous read cannot be given a new timeout once it has started (the HTTP client
fixes the read timeout when the body starts), yet the first token may take a minute on
a long prompt while a silence of that length in the middle of an answer means the host
is stuck. One daemon thread per process therefore watches every open stream and, when
a deadline passes, shuts the stream's socket down: the blocked read returns at once,
the host sees the connection close, and the reader learns why from :attr:`Watch.fired`.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

# Deadlines are checked this often; timeouts are seconds long, so 50 ms is precise enough.
TICK_SECONDS = 0.05


class Watch:
    """The deadline of one open upstream response, moved forward as chunks arrive."""

    __slots__ = ("_response", "deadline", "reason", "fired", "_watchdog")

    def __init__(self, watchdog: "Watchdog", response: Any, deadline: float, reason: str):
        self._watchdog = watchdog
        self._response = response
        self.deadline = deadline
        self.reason = reason
        self.fired: str | None = None

    def arm(self, deadline: float, reason: str) -> None:
        """Set the next deadline (monotonic seconds) and what it means if it passes."""
        self.reason = reason
        self.deadline = deadline

    def release(self) -> None:
        """Stop watching (the stream ended or was closed)."""
        self._watchdog._discard(self)

    def _socket(self) -> Any:
        stream = getattr(self._response, "extensions", {}).get("network_stream")
        return stream.get_extra_info("socket") if stream is not None else None

    def _fire(self) -> None:
        self.fired = self.reason
        sock = self._socket()
        if sock is None:
            return
        try:
            # The plain socket method: an SSL wrapper's own shutdown would tear down TLS
            # state under the reading thread's feet.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass  # already closed


class Watchdog:
    """One thread that enforces the deadlines of every open stream of this process."""

    def __init__(self) -> None:
        self._watches: set[Watch] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, response: Any, deadline: float, reason: str) -> Watch:
        watch = Watch(self, response, deadline, reason)
        # From here the deadlines are this thread's: the socket's own read timeout (a
        # backstop, longer than any of them) would only start and stop a timer on every
        # read. The next request on this connection sets its timeouts again.
        sock = watch._socket()
        if sock is not None:
            sock.settimeout(None)
        with self._lock:
            self._watches.add(watch)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="plume-llm-watchdog",
                                                daemon=True)
                self._thread.start()
        self._wake.set()
        return watch

    def open_count(self) -> int:
        """How many upstream streams are open in this process (tests, bench)."""
        with self._lock:
            return len(self._watches)

    def _discard(self, watch: Watch) -> None:
        with self._lock:
            self._watches.discard(watch)

    def _run(self) -> None:
        while True:
            with self._lock:
                watches = list(self._watches)
            if not watches:
                self._wake.wait()
                self._wake.clear()
                continue
            now = time.monotonic()
            for watch in watches:
                if watch.fired is None and watch.deadline <= now:
                    log.info("upstream deadline passed", extra={"reason": watch.reason})
                    watch._fire()
            time.sleep(TICK_SECONDS)
