"""The least a Python relay can do: the floor under Plume's gateway figures.

    gunicorn -c deploy/gunicorn.conf.py bench.bare_relay:app     (bench/gateway.py --relay bare)

A WSGI application served exactly as Plume is (same gunicorn settings, gevent workers, one
per core) that forwards every request to ``BARE_RELAY_UPSTREAM`` (``host:port`` of an
OpenAI-compatible host) as a fixed streamed chat completion and relays the host's body, event
by event, as it arrives. No Flask, no authentication, no quota, no record, no prompt, no SDK:
one socket to the host and the HTTP chunked decoding, nothing else. What bench/gateway.py
measures through it is what the extra hop costs on this machine whatever the application
does; Plume's overhead beyond it is what Plume's own work costs.
"""
from __future__ import annotations

import json
import os
import socket
from typing import Iterator

BODY = json.dumps({"model": "fake-chat", "stream": True, "stream_options": {"include_usage": True},
                   "messages": [{"role": "user", "content": "Il est fait droit."}]}).encode()


def _request(host: str) -> bytes:
    return (f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Accept: text/event-stream\r\nContent-Length: {len(BODY)}\r\nConnection: close\r\n\r\n"
            ).encode() + BODY


def _chunks(reader) -> Iterator[bytes]:
    """The payloads of an HTTP/1.1 chunked body."""
    while True:
        size = int(reader.readline().split(b";", 1)[0], 16)
        if size == 0:
            return
        data = reader.read(size)
        reader.readline()  # the CRLF after each chunk
        yield data


def app(environ, start_response):
    environ["wsgi.input"].read()
    host = os.environ["BARE_RELAY_UPSTREAM"]
    name, port = host.rsplit(":", 1)
    sock = socket.create_connection((name, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(_request(host))
    reader = sock.makefile("rb")
    status = reader.readline().split(b" ", 2)
    chunked = False
    while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    start_response(f"{int(status[1])} {status[2].decode().strip()}",
                   [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
                    ("X-Accel-Buffering", "no")])

    def body() -> Iterator[bytes]:
        try:
            if chunked:
                yield from _chunks(reader)
            else:
                while data := reader.read1(65536):
                    yield data
        finally:
            reader.close()
            sock.close()

    return body()
