"""The HTTP/1.1 transport under the SDK's HTTP client: one socket per request, read in one pass.

The OpenAI SDK stays the client (``openai.OpenAI`` on an ``httpx2.Client``); this is what
that client's requests go through to a host instead of httpcore and h11. An answer stream
is hundreds of small chunks, and the general-purpose stack handles each one through a
dozen layers (an event object per chunk, state machines for both directions); here a
chunk is found in the bytes received with two ``find`` calls, and the pieces that arrived
together leave as one. Everything else the client does is unchanged: its headers,
timeouts, the SDK's errors, and proxies (a proxy from the environment is mounted by the
client on its own transport, which this one does not replace).

Connections are kept for the next request to the same host (an answer's connection goes
back once its body is read to the end), up to ``max_keepalive`` idle ones, each for
``keepalive_expiry`` seconds. A kept connection the host has closed in the meantime is
noticed before it is used, or when the request finds it closed before any byte of the
answer, and the request is sent again once on a new connection: the host never began
this request, so nothing is duplicated.

Failures are the client's own exceptions: ``ConnectError``/``ConnectTimeout`` before
the request is sent, ``ReadTimeout``/``ReadError``/``RemoteProtocolError`` while reading
the answer, so the gateway's rules (:mod:`.upstream`) see what they always saw. The
socket is exposed as the response's ``network_stream`` extension for the watchdog
(:mod:`.watchdog`), which shuts it down when a deadline passes.
"""
from __future__ import annotations

import select
import socket
import ssl
import threading
import time
from typing import Any, Iterator

import httpx2

# Longest status line or header block accepted from a host.
MAX_HEAD_BYTES = 64 * 1024
RECEIVE_BYTES = 65536
EXPIRY_SECONDS = 4.0     # under the 5 s keep-alive of common servers (uvicorn, vLLM)
MAX_KEEPALIVE = 64


class _Connection:
    """One socket to an origin, with the bytes received and not yet consumed."""

    __slots__ = ("buffer", "idle_since", "origin", "reused", "sock")

    def __init__(self, sock: socket.socket, origin: tuple[str, str, int]):
        self.sock = sock
        self.origin = origin
        self.buffer = b""
        self.idle_since = 0.0
        self.reused = False

    def get_extra_info(self, name: str) -> Any:
        """What httpcore's network stream answers (the watchdog asks for ``socket``)."""
        return self.sock if name == "socket" else None

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def receive(self, request: httpx2.Request) -> bytes:
        try:
            return self.sock.recv(RECEIVE_BYTES)
        except TimeoutError as err:
            raise httpx2.ReadTimeout(str(err) or "timed out", request=request) from err
        except OSError as err:
            raise httpx2.ReadError(str(err) or type(err).__name__, request=request) from err


class _Body(httpx2.SyncByteStream):
    """The answer's body as it arrives; the connection goes back to the pool when the body
    is read to its end, and is closed when the answer is dropped before."""

    def __init__(self, transport: "LeanTransport", conn: _Connection, request: httpx2.Request,
                 pieces: Iterator[bytes], keep: bool):
        self._transport = transport
        self._conn: _Connection | None = conn
        self._request = request
        self._pieces = pieces
        self._keep = keep

    def __iter__(self) -> Iterator[bytes]:
        yield from self._pieces
        conn, self._conn = self._conn, None
        if conn is not None:
            if self._keep:
                self._transport._release(conn)
            else:
                conn.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


class LeanTransport(httpx2.BaseTransport):
    """HTTP/1.1 to OpenAI-compatible hosts, ``http`` and ``https`` (see the module docstring)."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None,
                 max_keepalive: int = MAX_KEEPALIVE, keepalive_expiry: float = EXPIRY_SECONDS):
        self._ssl_context = ssl_context
        self._max_keepalive = max_keepalive
        self._expiry = keepalive_expiry
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()

    # Connections ------------------------------------------------------------------
    def _ssl(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            # What the client's own transport would use: certifi, or SSL_CERT_FILE/DIR.
            self._ssl_context = httpx2.create_ssl_context()
        return self._ssl_context

    def _connect(self, origin: tuple[str, str, int], request: httpx2.Request,
                 timeout: dict[str, float | None]) -> _Connection:
        scheme, host, port = origin
        try:
            sock = socket.create_connection((host, port), timeout=timeout.get("connect"))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock = self._ssl().wrap_socket(sock, server_hostname=host)
        except TimeoutError as err:
            raise httpx2.ConnectTimeout(str(err) or "timed out", request=request) from err
        except OSError as err:
            raise httpx2.ConnectError(str(err) or type(err).__name__, request=request) from err
        return _Connection(sock, origin)

    def _take(self, origin: tuple[str, str, int]) -> _Connection | None:
        """A kept connection to ``origin`` that is still open, if any."""
        now = time.monotonic()
        with self._lock:
            found = None
            for index in range(len(self._idle) - 1, -1, -1):
                conn = self._idle[index]
                if conn.origin == origin:
                    found = self._idle.pop(index)
                    break
            expired = [c for c in self._idle if now - c.idle_since > self._expiry]
            if expired:
                self._idle = [c for c in self._idle if now - c.idle_since <= self._expiry]
        for conn in expired:
            conn.close()
        if found is None:
            return None
        if now - found.idle_since > self._expiry or found.buffer or _readable(found.sock):
            # Expired, or the host closed it (or sent what nobody asked for): not reusable.
            found.close()
            return None
        found.reused = True
        return found

    def _release(self, conn: _Connection) -> None:
        if conn.buffer:
            conn.close()  # bytes past the end of the answer: the exchange is out of step
            return
        conn.idle_since = time.monotonic()
        with self._lock:
            if len(self._idle) < self._max_keepalive:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    # One exchange -----------------------------------------------------------------
    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in ("http", "https"):
            raise httpx2.UnsupportedProtocol(f"unsupported scheme {scheme!r}", request=request)
        origin = (scheme, url.host, url.port or (443 if scheme == "https" else 80))
        timeout = request.extensions.get("timeout") or {}
        message = _message(request)
        conn = self._take(origin)
        if conn is not None:
            try:
                return self._exchange(conn, request, message, timeout)
            except _Stale:
                pass  # the host closed the kept connection: once more on a new one
        conn = self._connect(origin, request, timeout)
        try:
            return self._exchange(conn, request, message, timeout)
        except _Stale as stale:
            raise httpx2.RemoteProtocolError("Server disconnected without sending a response.",
                                             request=request) from stale.__cause__

    def _exchange(self, conn: _Connection, request: httpx2.Request, message: bytes,
                  timeout: dict[str, float | None]) -> httpx2.Response:
        sock = conn.sock
        try:
            sock.settimeout(timeout.get("write"))
            sock.sendall(message)
            sock.settimeout(timeout.get("read"))
        except OSError as err:
            conn.close()
            if conn.reused and not isinstance(err, TimeoutError):
                raise _Stale() from err
            kind = httpx2.WriteTimeout if isinstance(err, TimeoutError) else httpx2.WriteError
            raise kind(str(err) or type(err).__name__, request=request) from err
        try:
            status, reason, headers, version = self._read_head(conn, request)
        except BaseException:
            conn.close()
            raise
        length, chunked, close = None, False, version == b"HTTP/1.0"
        for name, value in headers:
            lowered = name.lower()
            if lowered == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    conn.close()
                    raise httpx2.RemoteProtocolError("bad Content-Length", request=request) from None
            elif lowered == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif lowered == b"connection":
                close = close or b"close" in value.lower()
        if request.method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            pieces: Iterator[bytes] = iter(())
            length = 0
        elif chunked:
            pieces = _chunked(conn, request)
        elif length is not None:
            pieces = _sized(conn, request, length)
        else:
            pieces, close = _until_closed(conn, request), True
        body = _Body(self, conn, request, pieces, keep=not close)
        return httpx2.Response(status, headers=headers, stream=body, extensions={
            "http_version": version, "reason_phrase": reason, "network_stream": conn})

    def _read_head(self, conn: _Connection, request: httpx2.Request
                   ) -> tuple[int, bytes, list[tuple[bytes, bytes]], bytes]:
        buffer = conn.buffer
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(buffer) > MAX_HEAD_BYTES:
                raise httpx2.RemoteProtocolError("response head too long", request=request)
            try:
                data = conn.receive(request)
            except httpx2.ReadError as err:
                if conn.reused and not buffer:
                    raise _Stale() from err
                raise
            if not data:
                if conn.reused and not buffer:
                    raise _Stale()
                raise httpx2.RemoteProtocolError("Server disconnected without sending a response.",
                                                 request=request)
            buffer += data
        head, conn.buffer = buffer[:end], buffer[end + 4:]
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        try:
            version, status = parts[0], int(parts[1])
        except (IndexError, ValueError):
            raise httpx2.RemoteProtocolError(f"bad status line {lines[0][:100]!r}",
                                             request=request) from None
        if not version.startswith(b"HTTP/1."):
            raise httpx2.RemoteProtocolError(f"unsupported {version[:20]!r}", request=request)
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                raise httpx2.RemoteProtocolError("malformed header line", request=request)
            headers.append((name.strip(), value.strip()))
        if status == 100:  # an interim answer: the real one follows
            return self._read_head(conn, request)
        return status, parts[2] if len(parts) > 2 else b"", headers, version


class _Stale(Exception):
    """A kept connection the host had closed: the request was not taken."""


def _readable(sock: socket.socket) -> bool:
    """Whether an idle connection has something to read: the host's close, most often."""
    if not isinstance(sock, ssl.SSLSocket):
        # A peek that never waits (the next exchange sets the socket's timeouts again):
        # under gevent a poll, even with no timeout, is a trip through the event loop.
        try:
            sock.settimeout(0.0)
            sock.recv(1, socket.MSG_PEEK)
            return True  # a byte, or b"": the host closed it
        except BlockingIOError:
            return False
        except OSError:
            return True
    try:
        # poll, not select: a worker holding many streams has descriptors past select's 1024.
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def _message(request: httpx2.Request) -> bytes:
    """The request line, headers and body, sent with one ``sendall``."""
    url = request.url
    lines = [b"%s %s HTTP/1.1" % (request.method.encode(), url.raw_path)]
    chunked = False
    for name, value in request.headers.raw:
        lines.append(name + b": " + value)
        if name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    body = b"".join(request.stream)  # type: ignore[arg-type]
    if chunked:
        body = (b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)) if body else b"0\r\n\r\n"
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _chunked(conn: _Connection, request: httpx2.Request) -> Iterator[bytes]:
    """The data of a chunked body; the chunks found in the bytes at hand leave together."""
    buffer, conn.buffer = conn.buffer, b""
    remaining = -1      # data bytes left in the current chunk; -1: a size line is next
    trailer = False     # after the last chunk: trailer lines up to an empty one
    while True:
        out = []
        while buffer:
            if remaining > 0:
                piece = buffer[:remaining]
                out.append(piece)
                remaining -= len(piece)
                buffer = buffer[len(piece):]
                if remaining == 0:
                    remaining = -2   # the CRLF after the chunk's data
            elif remaining == -2:
                if len(buffer) < 2:
                    break
                if buffer[:2] != b"\r\n":
                    raise httpx2.RemoteProtocolError("chunk not followed by CRLF", request=request)
                buffer = buffer[2:]
                remaining = -1
            else:
                end = buffer.find(b"\r\n")
                if end < 0:
                    if len(buffer) > MAX_HEAD_BYTES:
                        raise httpx2.RemoteProtocolError("chunk size line too long", request=request)
                    break
                line, buffer = buffer[:end], buffer[end + 2:]
                if trailer:
                    if not line:
                        conn.buffer = buffer
                        if out:
                            yield b"".join(out)
                        return
                    continue
                try:
                    size = int(line.split(b";", 1)[0], 16)
                except ValueError:
                    raise httpx2.RemoteProtocolError(f"bad chunk size {line[:40]!r}",
                                                     request=request) from None
                if size < 0:
                    raise httpx2.RemoteProtocolError("bad chunk size", request=request)
                if size == 0:
                    trailer = True
                else:
                    remaining = size
        if out:
            yield b"".join(out)
        data = conn.receive(request)
        if not data:
            raise httpx2.RemoteProtocolError("peer closed connection without sending complete "
                                             "message body (incomplete chunked read)",
                                             request=request)
        buffer = buffer + data if buffer else data


def _sized(conn: _Connection, request: httpx2.Request, length: int) -> Iterator[bytes]:
    """A body of ``length`` bytes (Content-Length)."""
    buffer, conn.buffer = conn.buffer, b""
    if len(buffer) > length:
        buffer, conn.buffer = buffer[:length], buffer[length:]
    left = length - len(buffer)
    if buffer:
        yield buffer
    while left > 0:
        data = conn.receive(request)
        if not data:
            raise httpx2.RemoteProtocolError("peer closed connection without sending complete "
                                             f"message body (received {length - left} of "
                                             f"{length} bytes)", request=request)
        if len(data) > left:
            data, conn.buffer = data[:left], data[left:]
        left -= len(data)
        yield data


def _until_closed(conn: _Connection, request: httpx2.Request) -> Iterator[bytes]:
    """A body that ends when the host closes the connection (HTTP/1.0, no length)."""
    buffer, conn.buffer = conn.buffer, b""
    if buffer:
        yield buffer
    while data := conn.receive(request):
        yield data
