"""Gunicorn's gevent worker, stopping like a proxy's peer should (``deploy/gunicorn.conf.py``).

On a stop (a restart, a rolling update), gunicorn's gevent worker finishes the requests it
is serving, up to ``graceful_timeout``, which is right for answer streams. But it also waits
for every idle keep-alive connection to time out (``keepalive``, 75 s), and nginx keeps
its connections to Plume open between requests: every stop would last a minute for no
request at all. This worker closes, when the stop begins, the connections that sit between
two requests, as web servers do on a graceful shutdown, and each other connection as soon as
its request in progress is finished; the proxy opens a new connection, to another instance,
for its next request.
"""
from __future__ import annotations

import socket
from typing import Any

import gevent
from gunicorn.workers.ggevent import GeventWorker as _GeventWorker


class GeventWorker(_GeventWorker):
    """``worker_class = "backend.serving.GeventWorker"``."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Every open client connection and the greenlet that serves it; those inside a request.
        self.connections: dict[socket.socket, gevent.Greenlet] = {}
        self.serving: set[socket.socket] = set()

    def handle(self, listener: Any, client: socket.socket, addr: Any) -> None:
        self.connections[client] = gevent.getcurrent()
        try:
            super().handle(listener, client, addr)
        finally:
            self.connections.pop(client, None)

    def handle_request(self, listener_name: Any, req: Any, sock: socket.socket, addr: Any) -> Any:
        self.serving.add(sock)
        try:
            result = super().handle_request(listener_name, req, sock, addr)
        finally:
            self.serving.discard(sock)
        if not self.alive:
            # The stop began during this request (an answer stream, often): gunicorn chose
            # keep-alive when the request began, so end the connection here rather than idle
            # on it. gunicorn's connection loop reads StopIteration as "close".
            raise StopIteration("the worker is stopping")
        return result

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)
        for client, greenlet in list(self.connections.items()):
            if client not in self.serving:
                # Waiting for a next request: StopIteration is how gunicorn's connection loop
                # learns that there is none, and it closes the connection quietly.
                greenlet.kill(StopIteration("the worker is stopping"), block=False)
