"""A Plume worker killed in the middle of an answer (issue 23): what the user sees in the pane.

Measured with gunicorn and ``kill -9``: the answer is a 200 chunked ``text/event-stream``, a few
complete ``delta`` events, then the TCP connection closes (FIN) without the terminating
``0\\r\\n\\r\\n`` chunk and without any ``done`` or ``error`` event. :class:`KilledWorker` is a
TCP proxy in front of a real served Plume that ends the streamed answer exactly so; the browser
reads it through its real network stack (no mocked ``fetch``). The record of the interrupted
call is tested on the server side (tests/core/test_metered.py).
"""
from __future__ import annotations

import socket
import threading
from typing import Any
from urllib.parse import urlsplit

from .conftest import open_tab, wait_until, word_calls

SELECTION = {"__officeMockConfig": {"paragraphs": ["Attendu que le pourvoi est recevable."], "selection": [0, 0]}}
REPLY = "Premier point établi. Deuxième point établi. Troisième point jamais reçu."
ASSIST = b"/api/v1/assist/"
IO_TIMEOUT = 15.0


class KilledWorker:
    """A TCP proxy in front of a served Plume that dies like a killed worker on the streamed
    assist path (``POST /api/v1/assist/…``) while ``armed``.

    Every other request (the pane, its scripts, ``/me``…) is relayed unchanged. On the assist
    path it relays the real answer's status line, headers and chunks until ``deltas`` complete
    ``delta`` events have passed, waits for :meth:`kill`, then closes both sockets: the browser
    gets a FIN, no final chunk. ``cut_answers`` keeps the bytes each cut answer sent to it.

    With ``deltas=None`` the worker dies before the status line: the request was received
    (Plume started the call), the browser gets a FIN and no byte of answer.

    The test kills once the pane shows the text, as a worker dies while the user reads. When
    the deltas and the FIN arrive in the same instant, Chromium reports the cut before handing
    those bytes to the page (seen here: nothing shown), which no pane code can change.
    """

    def __init__(self, upstream: str, *, deltas: int | None = 2):
        target = urlsplit(upstream)
        self.upstream = (target.hostname, target.port)
        self.deltas = deltas
        self.armed = True
        self.cut_answers: list[bytes] = []
        self.killed = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self._accept, name="killed-worker", daemon=True)
        self.thread.start()

    def kill(self) -> None:
        """Kills the worker: the streamed answer held after its deltas ends with a FIN."""
        self.killed.set()

    def close(self) -> None:
        self.killed.set()
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(IO_TIMEOUT)
        try:
            with client, socket.create_connection(self.upstream, timeout=IO_TIMEOUT) as upstream:
                request = read_request(client.makefile("rb"))
                if request is None:  # a speculative connection that never sent anything
                    return
                upstream.sendall(request)
                answer = upstream.makefile("rb")
                if self.armed and request.startswith(b"POST " + ASSIST):
                    sent = b"" if self.deltas is None else self._relay_deltas(answer, client)
                    self.killed.wait(IO_TIMEOUT)
                    self.cut_answers.append(sent)
                    client.shutdown(socket.SHUT_RDWR)  # FIN, as the kernel sends for a killed process
                    return
                while chunk := answer.read1(65536):
                    client.sendall(chunk)
        except OSError:
            pass

    def _relay_deltas(self, answer: Any, client: socket.socket) -> bytes:
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += answer.readline()
        client.sendall(head)
        sent, deltas = head, 0
        while deltas < self.deltas:
            size_line = answer.readline()
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                raise AssertionError("the answer ended before the cut")
            chunk = size_line + answer.read(size + 2)
            client.sendall(chunk)
            sent += chunk
            deltas += chunk.count(b"event: delta\n")
        return sent


def read_request(reader: Any) -> bytes | None:
    """One HTTP request, asking the server to close the connection after it (so that the
    browser does not reuse it and each request goes through :meth:`KilledWorker._serve`)."""
    line = reader.readline()
    if not line:
        return None
    headers, length = [], 0
    while (header := reader.readline()) not in (b"\r\n", b"\n", b""):
        name = header.split(b":", 1)[0].strip().lower()
        if name == b"content-length":
            length = int(header.split(b":", 1)[1])
        if name not in (b"connection", b"keep-alive"):
            headers.append(header)
    return line + b"".join(headers) + b"Connection: close\r\n\r\n" + reader.read(length)


def test_worker_killed_mid_answer_keeps_the_text_and_offers_retry(plume, fake_llm, open_pane, screenshot):
    fake_llm.reply = REPLY
    worker = KilledWorker(plume())
    try:
        page = open_pane(worker.url, globals=SELECTION)
        open_tab(page, "summarize")
        page.click("#summarize-run")
        # Both deltas shown (« Premier point »), then the worker dies.
        wait_until(page, "() => document.querySelector('#summarize-output').textContent.includes('point')")
        worker.kill()
        page.wait_for_selector("#summarize-error .plume-bar")

        # The browser met what a killed worker leaves: a chunked 200, two deltas, then FIN.
        [cut] = worker.cut_answers
        head, _, body = cut.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and b"Transfer-Encoding: chunked" in head
        assert b"Content-Type: text/event-stream" in head
        assert body.count(b"event: delta\n") == 2 and not body.endswith(b"0\r\n\r\n")
        assert b"event: done" not in body and b"event: error" not in body

        bars = page.locator("#summarize-error .plume-bar")
        assert bars.count() == 1
        bar = bars.first
        assert bar.get_attribute("data-error-code") == "flux_interrompu"
        assert bar.get_attribute("role") == "alert"
        text = bar.locator(".plume-bar__text").inner_text()
        assert text == ("La connexion au serveur a été coupée pendant la réponse. "
                        "Le texte reçu, incomplet, reste affiché."), text
        assert "Impossible de joindre" not in text and "VPN" not in text
        assert bar.locator("[data-action=retry]").inner_text() == "Réessayer"
        assert page.inner_text("#summarize-status") == ""  # said once, in the bar

        # The text that arrived stays; the incomplete answer cannot be inserted.
        assert page.inner_text("#summarize-output").strip() == "Premier point"
        assert page.locator("#summarize-output").is_visible()
        assert page.locator("#summarize-after [data-action=insert]").count() == 0
        assert page.locator("#summarize-after [data-action=regenerate]").count() == 1
        assert page.locator("#summarize-after .plume-oversight").count() == 1
        assert page.locator("#summarize-stop").is_hidden()
        assert page.locator("#summarize-run").get_attribute("aria-disabled") is None
        assert not [c for c in word_calls(page) if c["api"].startswith("Range.insert")]
        screenshot(page, "word-worker-killed")

        # A new worker answers: « Réessayer » gives the whole answer, which can be inserted.
        worker.armed = False
        bar.locator("[data-action=retry]").click()
        page.wait_for_selector("#summarize-after [data-action=insert]")
        assert page.locator("#summarize-error").is_hidden()
        wait_until(page, "() => document.querySelector('#summarize-output').textContent.includes('jamais reçu')")
        assert len(worker.cut_answers) == 1
    finally:
        worker.close()


def test_worker_killed_before_answering_offers_retry(plume, fake_llm, open_pane):
    """The browser cannot tell a FIN before any byte of answer from a server it never reached
    (both are « Failed to fetch »): the pane says the server could not be reached and offers
    « Réessayer », which reaches the new worker."""
    fake_llm.reply = REPLY
    worker = KilledWorker(plume(), deltas=None)
    try:
        page = open_pane(worker.url, globals=SELECTION)
        open_tab(page, "summarize")
        page.click("#summarize-run")
        worker.kill()
        page.wait_for_selector("#summarize-error .plume-bar")
        assert worker.cut_answers == [b""]

        bars = page.locator("#summarize-error .plume-bar")
        assert bars.count() == 1
        assert bars.first.get_attribute("data-error-code") == "reseau"
        assert bars.first.locator("[data-action=retry]").inner_text() == "Réessayer"
        assert page.locator("#summarize-output").is_hidden()
        assert page.locator("#summarize-after [data-action=insert]").count() == 0

        worker.armed = False
        bars.first.locator("[data-action=retry]").click()
        page.wait_for_selector("#summarize-after [data-action=insert]")
        assert page.locator("#summarize-error").is_hidden()
    finally:
        worker.close()
