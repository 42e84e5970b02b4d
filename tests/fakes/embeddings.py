"""A fake OpenAI-compatible embeddings host whose vectors carry meaning (a little).

``POST /v1/embeddings`` embeds each input as a hashed bag of word stems (accents folded,
first five letters, the e5 « query: » / « passage: » prefix removed), L2-normalised,
384 dimensions: texts sharing words are close, so hybrid search can be tested for real
without the slow in-process model. ``fake.fail = 503`` makes every call fail;
``fake.requests`` records the inputs received.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import unicodedata
from http.server import ThreadingHTTPServer
from typing import Any

from .http import JSONHandler

DIMENSION = 384


def fake_vector(text: str, dim: int = DIMENSION) -> list[float]:
    """The fake's embedding of ``text`` (also usable directly by tests)."""
    text = re.sub(r"^(query|passage): ", "", text)
    folded = "".join(c for c in unicodedata.normalize("NFD", text.lower())
                     if not unicodedata.combining(c))
    vector = [0.0] * dim
    for word in re.findall(r"[a-z]{3,}", folded):
        digest = hashlib.blake2b(word[:5].encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % dim
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


class _Handler(JSONHandler):
    server: "_Server"

    def do_POST(self) -> None:  # noqa: N802
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        inputs = body.get("input")
        inputs = [inputs] if isinstance(inputs, str) else list(inputs or [])
        with fake.lock:
            fake.requests.append({"path": self.path, "model": body.get("model"), "input": inputs,
                                  "authorization": self.headers.get("Authorization")})
        if self.path != "/v1/embeddings":
            return self.send_json(404, {"error": {"message": "not found"}})
        if fake.fail:
            return self.send_json(fake.fail, {"error": {"message": "fake failure"}})
        data = [{"object": "embedding", "index": i, "embedding": fake_vector(str(t), fake.dimension)}
                for i, t in enumerate(inputs)]
        self.send_json(200, {"object": "list", "data": list(reversed(data)), "model": body.get("model"),
                         "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)}})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: "FakeEmbeddings"


class FakeEmbeddings:
    """Use as a context manager; ``url`` is the base URL to configure (``…/v1``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.fail: int | None = None
        self.dimension = DIMENSION
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> "FakeEmbeddings":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
