"""The lean HTTP/1.1 transport under the SDK's client, against real sockets that answer
the way hosts do: split chunks, trailers, lengths, closes, idle connections dropped."""
from __future__ import annotations

import socket
import ssl
import threading
import time

import httpx2
import pytest

from backend import devcert
from backend.llm.transport import LeanTransport


class RawHost:
    """A TCP server in a thread; each accepted connection gets the scripted answers, one per
    request read, then is closed (``close_after``) or kept."""

    def __init__(self, answers: list[list[bytes]], close_after: int | None = None,
                 tls: ssl.SSLContext | None = None):
        self.tls = tls
        self.answers = list(answers)
        self.close_after = close_after
        self.accepted = 0
        self.requests: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            if self.tls is not None:
                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except (OSError, ssl.SSLError):
                    conn.close()  # the client refused our certificate
                    continue
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        served = 0
        with conn:
            while self.answers:
                data = b""
                while b"\r\n\r\n" not in data:
                    more = conn.recv(65536)
                    if not more:
                        return
                    data += more
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length")), b"0"))
                while len(body) < length:
                    body += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + body)
                for piece in self.answers.pop(0):
                    conn.sendall(piece)
                    time.sleep(0.005)  # each piece arrives in its own read
                served += 1
                if self.close_after is not None and served >= self.close_after:
                    return

    def close(self) -> None:
        self.sock.close()


def chunked(*parts: bytes, trailer: bytes = b"") -> list[bytes]:
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n" + trailer + b"\r\n"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    # Cut everywhere a host's writes may be cut: inside sizes, data and CRLFs.
    whole = head + body
    return [whole[i:i + 7] for i in range(0, len(whole), 7)]


@pytest.fixture
def client():
    http = httpx2.Client(transport=LeanTransport(), timeout=5)
    yield http
    http.close()


def test_a_chunked_stream_cut_anywhere_arrives_whole_and_the_connection_is_kept(client):
    events = [b"data: {\"n\": %d}\n\n" % n for n in range(5)]
    host = RawHost([chunked(*events, trailer=b"X-Fin: 1\r\n"), chunked(b"data: [DONE]\n\n")])
    try:
        with client.stream("POST", host.url + "/v1/chat/completions", content=b'{"a": 1}') as answer:
            assert answer.status_code == 200
            assert b"".join(answer.iter_raw()) == b"".join(events)
        with client.stream("POST", host.url + "/v1/chat/completions", content=b"{}") as answer:
            assert b"".join(answer.iter_raw()) == b"data: [DONE]\n\n"
        assert host.accepted == 1  # the second request reused the first connection
        assert host.requests[0].startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
        assert host.requests[0].endswith(b'\r\n\r\n{"a": 1}')
    finally:
        host.close()


def test_a_connection_the_host_closed_while_idle_is_replaced_without_failing(client):
    sized = [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", b"hello"]
    host = RawHost([sized, sized], close_after=1)  # the host drops each connection after one answer
    try:
        assert client.post(host.url + "/v1/models").content == b"hello"
        time.sleep(0.05)  # the host has closed the kept connection by now
        assert client.post(host.url + "/v1/models").content == b"hello"
        assert host.accepted == 2
    finally:
        host.close()


def test_a_body_cut_before_its_end_is_an_error_not_a_short_answer(client):
    host = RawHost([[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"]], close_after=1)
    try:
        with client.stream("POST", host.url + "/v1/chat/completions") as answer, \
                pytest.raises(httpx2.RemoteProtocolError):
            b"".join(answer.iter_raw())
    finally:
        host.close()


def test_a_body_that_ends_with_the_connection_and_an_error_status(client):
    host = RawHost([[b"HTTP/1.0 503 Service Unavailable\r\nRetry-After: 2\r\n\r\n", b"busy"]],
                   close_after=1)
    try:
        answer = client.post(host.url + "/v1/chat/completions")
        assert (answer.status_code, answer.headers["retry-after"], answer.content) == (503, "2", b"busy")
    finally:
        host.close()


def test_a_host_that_refuses_the_connection_is_a_connect_error(client):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(httpx2.ConnectError):
        client.post(f"http://127.0.0.1:{port}/v1/chat/completions")


def test_https_hosts_are_verified_and_answered(tmp_path):
    cert, key, ca = devcert.ensure_certificate(str(tmp_path))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    sized = [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]
    host = RawHost([sized, sized], tls=server)
    url = host.url.replace("http://127.0.0.1", "https://localhost") + "/v1/models"
    try:
        trusted = httpx2.Client(transport=LeanTransport(
            ssl_context=ssl.create_default_context(cafile=ca)), timeout=5)
        assert trusted.get(url).content == b"ok"
        trusted.close()
        # The system's trust store does not know the development CA: refused before any request.
        default = httpx2.Client(transport=LeanTransport(), timeout=5)
        with pytest.raises(httpx2.ConnectError):
            default.get(url)
        default.close()
        assert len(host.requests) == 1
    finally:
        host.close()
