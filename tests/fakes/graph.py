"""A fake Microsoft Graph, as a real HTTP server in a thread: the signed-in user's messages
(``GET /v1.0/me/messages``) filtered by ``conversationId`` the way Graph filters them, with
bodies as text when asked (``Prefer: outlook.body-content-type="text"``).

It accepts only the bearer tokens the fake identity provider issues on behalf of a user
(``graph-token-N``), and can misbehave on request (``fail_with = 500``).
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .http import JSONHandler

FILTER = re.compile(r"^conversationId eq '((?:[^']|'')*)'$")


@dataclass
class Message:
    conversation_id: str
    sender: str
    address: str
    received: str
    subject: str
    unique_body: str

    def as_graph(self, text: bool, select: set[str]) -> dict[str, Any]:
        body = self.unique_body if text else f"<html><body><p>{self.unique_body}</p></body></html>"
        item = {
            "id": f"msg-{self.received}", "conversationId": self.conversation_id,
            "subject": self.subject, "receivedDateTime": self.received,
            "from": {"emailAddress": {"name": self.sender, "address": self.address}},
            "uniqueBody": {"contentType": "text" if text else "html", "content": body},
        }
        return {k: v for k, v in item.items() if not select or k in select or k == "id"}


@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class FakeGraph:
    messages: list[Message] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    fail_with: int | None = None

    def __post_init__(self) -> None:
        fake = self

        class Handler(JSONHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                fake.requests.append(Received(url.path, query, dict(self.headers)))
                if not re.fullmatch(r"Bearer graph-token-\d+", self.headers.get("Authorization", "")):
                    self.send_json(401, {"error": {"code": "InvalidAuthenticationToken"}})
                    return
                if fake.fail_with:
                    self.send_json(fake.fail_with, {"error": {"code": "ServiceNotAvailable"}})
                    return
                if url.path != "/v1.0/me/messages":
                    self.send_json(404, {"error": {"code": "ResourceNotFound"}})
                    return
                match = FILTER.match(query.get("$filter", [""])[0])
                if not match:
                    self.send_json(400, {"error": {"code": "BadRequest"}})
                    return
                wanted = match.group(1).replace("''", "'")
                text = 'outlook.body-content-type="text"' in self.headers.get("Prefer", "")
                select = set(query.get("$select", [""])[0].split(",")) - {""}
                found = [m.as_graph(text, select) for m in fake.messages if m.conversation_id == wanted]
                self.send_json(200, {"value": found})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The Graph root to configure (``PLUME_GRAPH_URL``)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FakeGraph":
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="fake-graph", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
