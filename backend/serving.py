"""Gunicorn's gevent worker, stopping like a proxy's peer should (``deploy/gunicorn.conf.py``).

On a stop (a restart, a rolling update), gunicorn's gevent worker finishes the requests it
is serving, up to ``graceful_timeout``, which is right for answer streams. But it also waits
for every idle keep-alive connection to time out (``keepalive``, 75 s), and nginx keeps
its connections to Plume open between requests: every stop would last a minute for no
request at all. This worker closes, when the stop begins, the connections that sit between
two requests, as web servers do on a graceful shutdown; requests in progress are finished
(gunicorn answers them with ``Connection: close``), and the proxy opens a new connection,
to another instance, for its next request.
"""
from __future__ import annotations

import socket
from typing import Any

from gunicorn.workers.ggevent import GeventWorker as _GeventWorker


class GeventWorker(_GeventWorker):
    """``worker_class = "backend.serving.GeventWorker"``."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.connections: set[socket.socket] = set()   # every open client connection
        self.serving: set[socket.socket] = set()       # those inside a request

    def handle(self, listener: Any, client: socket.socket, addr: Any) -> None:
        self.connections.add(client)
        try:
            super().handle(listener, client, addr)
        finally:
            self.connections.discard(client)

    def handle_request(self, listener_name: Any, req: Any, sock: socket.socket, addr: Any) -> Any:
        self.serving.add(sock)
        try:
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            self.serving.discard(sock)

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)
        for client in self.connections - self.serving:
            try:
                # The connection's greenlet, waiting for a next request, reads the end of the
                # stream and closes it.
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already gone
