"""A fake OpenAI-compatible host: a real HTTP server in a thread that streams like the real thing.

Serves ``/v1/chat/completions`` (streamed or not, with ``stream_options.include_usage``),
``/v1/embeddings``, ``/v1/audio/transcriptions`` and ``/v1/models``, and records every
request it receives (``.requests``). It misbehaves on request: queue behaviours with
:meth:`FakeUpstream.then` (one per coming call) or change the defaults::

    fake.then(Behaviour(status=429, retry_after="1"), Behaviour(status=503))   # two failures
    fake.then(Behaviour(reset_after=3))          # RST after 3 tokens
    fake.then(Behaviour(malformed_after=2))      # a garbled SSE line after 2 tokens
    fake.then(Behaviour(no_done=True))           # no ``data: [DONE]``
    fake.then(Behaviour(stall_after=2))          # silence after 2 tokens (until the client leaves)
    fake.when(lambda body: body["model"] == "x", Behaviour(status=500))   # by request content
    fake.reply = "Texte de la réponse"           # or a function(request_json) -> str

Also a program, for the benchmark: ``python -m tests.fakes.upstream --port 8099
--token-delay 0.02 --tokens 50 --stamp`` (``--stamp`` puts the send time in each token).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import ThreadingHTTPServer
from typing import Any, Callable

from .http import JSONHandler

DEFAULT_MODELS = ("fake-chat", "fake-whisper")
_TOKEN = re.compile(r"\S+\s*|\s+")


@dataclass
class Behaviour:
    """How the fake answers one call (defaults: a well-formed streamed answer)."""

    status: int = 200
    retry_after: str | None = None
    error_message: str = "fake upstream error"
    first_token_delay: float | None = None
    token_delay: float | None = None
    reset_after: int | None = None       # tokens sent before a TCP reset
    close_after: int | None = None       # tokens sent before a clean end without finish_reason
    malformed_after: int | None = None   # tokens sent before a line that is not JSON
    stall_after: int | None = None       # tokens sent before going silent
    no_done: bool = False
    report_usage: bool | None = None
    reply: str | Callable[[dict], str] | None = None
    segments: bool = True                # transcription: give timed segments


@dataclass
class Received:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any = None
    form: dict[str, Any] = field(default_factory=dict)
    received_at: float = field(default_factory=time.monotonic)
    tokens_sent: int = 0
    completed: bool = False
    disconnected: bool = False        # the client closed the connection while we streamed
    ended: threading.Event = field(default_factory=threading.Event)


def default_reply(body: dict) -> str:
    """A deterministic French answer that says which task it answers."""
    system = next((m.get("content", "") for m in body.get("messages", []) if m.get("role") == "system"), "")
    task = "une demande"
    match = re.search(r"Ta tâche : ([^.\n]+)", system or "")
    if match:
        task = match.group(1)
    if "Tu réponds uniquement par un objet JSON" in (system or ""):
        return json.dumps({"parties": [], "numeros": [], "dates": [], "action_demandee": None})
    return f"Voici la réponse pour {task}. Le texte fourni a été traité avec soin et fidélité."


class _Handler(JSONHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def setup(self) -> None:
        super().setup()
        with self.server.fake.lock:
            self.server.fake.connections += 1
        # Like real hosts (uvicorn, llama.cpp): small SSE writes go out at once, not after
        # the client's delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # Plumbing -----------------------------------------------------------------------
    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _event(self, payload: Any) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        self._chunk(f"data: {text}\n\n".encode())

    def _reset(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _record(self, body: Any = None, form: dict | None = None) -> Received:
        received = Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                            json=body, form=form or {})
        with self.server.fake.lock:
            self.server.fake.requests.append(received)
        return received

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # Routes -------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802
        self._record()
        if self.path.rstrip("/") == "/v1/models":
            fake = self.server.fake
            self.send_json(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in fake.models]})
        else:
            self.send_json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:  # noqa: N802
        fake = self.server.fake
        raw = self._read_body()
        if self.path == "/v1/audio/transcriptions":
            return self._transcription(raw)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._record(raw.decode(errors="replace"))
            return self.send_json(400, {"error": {"message": "invalid json"}})
        received = self._record(body)
        try:
            if self.path == "/v1/chat/completions":
                behaviour = fake.next_behaviour(body)
                if behaviour.status != 200:
                    headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else {}
                    return self.send_json(behaviour.status, {"error": {
                        "message": behaviour.error_message, "type": "fake", "code": behaviour.status}},
                        headers)
                if body.get("stream"):
                    return self._stream(body, behaviour, received)
                return self._complete(body, behaviour)
            if self.path == "/v1/embeddings":
                return self._embeddings(body)
            self.send_json(404, {"error": {"message": "not found"}})
        finally:
            received.completed = not received.disconnected
            received.ended.set()

    def _answer_text(self, body: dict, behaviour: Behaviour) -> str:
        reply = behaviour.reply if behaviour.reply is not None else self.server.fake.reply
        return reply(body) if callable(reply) else str(reply)

    def _usage(self, body: dict, text: str) -> dict[str, int]:
        prompt = sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) // 4 + 1
        completion = len(_TOKEN.findall(text))
        return {"prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion}

    def _complete(self, body: dict, behaviour: Behaviour) -> None:
        text = self._answer_text(body, behaviour)
        self.send_json(200, {
            "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model"), "usage": self._usage(body, text),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}]})

    def _stream(self, body: dict, behaviour: Behaviour, received: Received) -> None:
        fake = self.server.fake
        text = self._answer_text(body, behaviour)
        tokens = _TOKEN.findall(text)
        token_delay = fake.token_delay if behaviour.token_delay is None else behaviour.token_delay
        first_delay = fake.first_token_delay if behaviour.first_token_delay is None \
            else behaviour.first_token_delay
        report_usage = fake.report_usage if behaviour.report_usage is None else behaviour.report_usage
        model = body.get("model")
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": model}
        with fake.lock:
            fake.active += 1
            fake.max_active = max(fake.max_active, fake.active)
            fake.opened.notify_all()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            self._event({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                              "finish_reason": None}]})
            if first_delay:
                time.sleep(first_delay)
            if fake.hold_until_active:
                with fake.lock:
                    fake.opened.wait_for(lambda: fake.active >= fake.hold_until_active, timeout=30)
            for number, token in enumerate(tokens):
                if behaviour.reset_after is not None and number >= behaviour.reset_after:
                    return self._reset()
                if behaviour.close_after is not None and number >= behaviour.close_after:
                    self._chunk(b"")
                    return
                if behaviour.malformed_after is not None and number >= behaviour.malformed_after:
                    self._chunk(b'data: {"choices": [{"delta": {"content": "coup\n\n')
                    self._chunk(b"")
                    return
                if behaviour.stall_after is not None and number >= behaviour.stall_after:
                    self._stall(received)
                    return
                if number and token_delay:
                    time.sleep(token_delay)
                if fake.stamp:
                    token = f"{time.time_ns()} "
                self._event({**base, "choices": [{"index": 0, "delta": {"content": token},
                                                  "finish_reason": None}]})
                received.tokens_sent += 1
            self._event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            if report_usage and (body.get("stream_options") or {}).get("include_usage"):
                self._event({**base, "choices": [], "usage": self._usage(body, text)})
            if not behaviour.no_done:
                self._event("[DONE]")
            self._chunk(b"")
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
            received.disconnected = True
            self.close_connection = True
        finally:
            with fake.lock:
                fake.active -= 1

    def _stall(self, received: Received) -> None:
        """Say nothing more, until the client gives up (the fake notices the close)."""
        self.connection.settimeout(0.05)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.connection.recv(1) == b"":
                    break
            except socket.timeout:
                continue
            except OSError:
                break
        received.disconnected = True
        self.close_connection = True

    def _embeddings(self, body: dict) -> None:
        inputs = body.get("input")
        inputs = [inputs] if isinstance(inputs, str) else list(inputs or [])
        dim = self.server.fake.embedding_dim
        data = []
        for index, text in enumerate(inputs):
            digest = hashlib.sha256(str(text).encode()).digest()
            vector = [((digest[i % len(digest)] / 255.0) - 0.5) for i in range(dim)]
            data.append({"object": "embedding", "index": index, "embedding": vector})
        self.send_json(200, {"object": "list", "data": data, "model": body.get("model"),
                              "usage": {"prompt_tokens": 1, "total_tokens": 1}})

    def _transcription(self, raw: bytes) -> None:
        fake = self.server.fake
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + self.headers.get("Content-Type", "").encode() + b"\r\n\r\n" + raw)
        form: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            if filename is not None:
                form[name] = {"filename": filename, "size": len(payload),
                              "content_type": part.get_content_type()}
            elif name.endswith("[]"):
                form.setdefault(name, []).append(payload.decode())
            else:
                form[name] = payload.decode()
        received = self._record(form=form)
        behaviour = fake.next_behaviour()
        try:
            if behaviour.status != 200:
                headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else {}
                return self.send_json(behaviour.status, {"error": {"message": behaviour.error_message}},
                                       headers)
            time.sleep(fake.transcription_delay)
            text = fake.transcript
            if form.get("response_format") == "verbose_json" and behaviour.segments:
                words = text.split(". ")
                segments = [{"id": i, "start": i * 2.5, "end": i * 2.5 + 2.4, "text": w}
                            for i, w in enumerate(words)]
                body = {"task": "transcribe", "language": "french",
                        "duration": len(words) * 2.5, "text": text, "segments": segments}
                if "word" in form.get("timestamp_granularities[]", []):  # OpenAI's top-level list
                    body["words"] = [{"word": w, "start": round(s["start"] + j * 0.3, 2),
                                      "end": round(s["start"] + j * 0.3 + 0.25, 2)}
                                     for s in segments for j, w in enumerate(s["text"].split())]
                return self.send_json(200, body)
            self.send_json(200, {"text": text})
        finally:
            received.completed = True
            received.ended.set()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512
    fake: "FakeUpstream"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # resets and vanished clients are part of the script


class FakeUpstream:
    """The fake host; use as a context manager or :meth:`start` / :meth:`stop`."""

    def __init__(self, port: int = 0, *, token_delay: float = 0.0, first_token_delay: float = 0.0,
                 reply: str | Callable[[dict], str] = default_reply, report_usage: bool = True,
                 stamp: bool = False, models: tuple[str, ...] = DEFAULT_MODELS):
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        self.opened = threading.Condition(self.lock)
        # When set, each stream's first token waits (at most 30 s) until this many streams are
        # open together: a test of concurrency that does not depend on the machine's speed.
        self.hold_until_active: int | None = None
        self.token_delay = token_delay
        self.first_token_delay = first_token_delay
        self.reply = reply
        self.report_usage = report_usage
        self.stamp = stamp
        self.models = models
        self.embedding_dim = 384
        self.active = 0           # chat streams being answered right now
        self.max_active = 0       # the most at any one time
        self.connections = 0      # TCP connections accepted (keep-alive reuses them)
        self.transcription_delay = 0.0  # seconds each transcription takes
        self.transcript = ("Audience du 12 mars 2025. Le tribunal entend les parties. "
                           "L'affaire est mise en délibéré au 2 avril 2025.")
        self._queue: list[Behaviour] = []
        self._rules: list[tuple[Callable[[dict], bool], Behaviour]] = []
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.fake = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The base URL to configure (``PLUME_LLM_BASE_URL``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def then(self, *behaviours: Behaviour) -> "FakeUpstream":
        """Queue behaviours for the next calls, in order (then back to normal)."""
        with self.lock:
            self._queue.extend(behaviours)
        return self

    def when(self, predicate: Callable[[dict], bool], behaviour: Behaviour) -> "FakeUpstream":
        """Answer every call whose JSON body matches ``predicate`` with ``behaviour``."""
        with self.lock:
            self._rules.append((predicate, behaviour))
        return self

    def next_behaviour(self, body: dict | None = None) -> Behaviour:
        with self.lock:
            for predicate, behaviour in self._rules:
                if body is not None and predicate(body):
                    return behaviour
            return self._queue.pop(0) if self._queue else Behaviour()

    def chat_requests(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == "/v1/chat/completions"]

    def start(self) -> "FakeUpstream":
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-upstream",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeUpstream":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible host (tests, bench).")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--token-delay", type=float, default=0.02)
    parser.add_argument("--first-token-delay", type=float, default=0.0)
    parser.add_argument("--tokens", type=int, default=50, help="tokens per answer")
    parser.add_argument("--stamp", action="store_true", help="tokens carry their send time (ns)")
    args = parser.parse_args()
    reply = " ".join(f"mot{i}" for i in range(args.tokens))
    fake = FakeUpstream(args.port, token_delay=args.token_delay,
                        first_token_delay=args.first_token_delay, reply=reply, stamp=args.stamp)
    print(f"fake upstream on {fake.url}", flush=True)
    fake._server.serve_forever()


if __name__ == "__main__":
    main()
