"""Gunicorn settings for Plume in production.

    gunicorn -c deploy/gunicorn.conf.py 'backend:create_app()'

Why an event loop: an assistance answer is a Server-Sent Events stream that holds its
request for as long as the model writes — up to ``PLUME_LLM_TIMEOUT_TOTAL`` (300 s by
default) — while using almost no CPU; what it costs is a read from the host and a write to
the pane for every token. So: one process per core (``WEB_CONCURRENCY``), each a gevent
event loop holding up to ``GUNICORN_WORKER_CONNECTIONS`` requests at once. gevent replaces
blocking sockets and threads by cooperative ones in the worker (psycopg 3 and the OpenAI
SDK's HTTP client follow it), so the application code stays plain synchronous Flask; work
that keeps the CPU for long (reading a PDF, the embedded embedding model) runs in a native
thread (``backend/cooperative.py``) so it cannot freeze the other streams.

Measured by bench/gateway.py at 50 open streams on 2 cores, against 160 threads per worker
(``gthread``, the previous setting): the overhead on the time to first token is two to three
times lower, each chunk waits about a third as long, and an open stream takes less memory
(docs/scaling.md).
``GUNICORN_WORKER_CLASS=gthread`` (with ``GUNICORN_THREADS``) remains a way back.
The worker class is gunicorn's own, which also closes the proxy's idle keep-alive
connections when it stops instead of waiting for each to time out (``backend/serving.py``).

Each worker builds its own app and database pool after the fork (no ``preload_app``):
psycopg connections must not be shared across processes.

Timeouts, and how they fit with the others (tests/deploy/test_gunicorn.py checks them):

- ``timeout`` is the worker's heartbeat, which its event loop sends however long a request
  lasts (as long as nothing holds the loop: hence ``offload``); it only has to cover
  start-up (loading the app and models).
- ``graceful_timeout``: on a restart or a rolling update, a worker finishes the streams it
  has for this long: more than ``PLUME_LLM_TIMEOUT_TOTAL`` so no answer is cut.
  systemd's ``TimeoutStopSec`` and Kubernetes' ``terminationGracePeriodSeconds`` are longer.
- ``keepalive`` is longer than the proxy's idle upstream timeout (nginx: 60 s), so the proxy
  always closes an idle connection first.

Environment (not PLUME_ settings: they belong to the process manager, not to the app):
``GUNICORN_BIND`` (default ``127.0.0.1:8000``; the container sets ``0.0.0.0:8000``),
``WEB_CONCURRENCY``, ``GUNICORN_WORKER_CONNECTIONS``, ``GUNICORN_WORKER_CLASS`` and
``GUNICORN_THREADS`` (the way back to threads), ``FORWARDED_ALLOW_IPS`` (proxies whose
``X-Forwarded-Proto`` is trusted; default loopback).
"""
import os

# Longest model call (the gateway's PLUME_LLM_TIMEOUT_TOTAL, 300 s unless set) and a margin.
STREAM_SECONDS = int(float(os.environ.get("PLUME_LLM_TIMEOUT_TOTAL", 300)))
STREAM_MARGIN_SECONDS = 30

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
# gunicorn's gevent worker, closing idle keep-alive connections when it stops (backend/serving.py).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "backend.serving.GeventWorker")
workers = int(os.environ.get("WEB_CONCURRENCY", min(os.cpu_count() or 1, 4)))
# gevent: requests one worker holds at once (mostly open streams). The kernel does not spread
# connections evenly between workers, so each can take far more than its share.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", 1000))
# gthread only (GUNICORN_WORKER_CLASS=gthread): threads per worker. 2 x 100 threads served
# only 159-188 of 200 concurrent streams in bench/gateway.py, 2 x 160 all of them.
threads = int(os.environ.get("GUNICORN_THREADS", 160))
backlog = 2048

timeout = 120
graceful_timeout = STREAM_SECONDS + STREAM_MARGIN_SECONDS
keepalive = 75

# Recycle workers now and then (slow leaks in long-lived processes); the jitter keeps them
# from restarting together, and graceful_timeout lets their open streams finish.
max_requests = 5000
max_requests_jitter = 500

preload_app = False
# A request line (method, path and query) up to 8 KB, gunicorn's largest; Plume refuses
# longer ones too (backend/api/guards.py), both in the JSON error shape.
limit_request_line = 8190
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Plume writes its own JSON access line per request (plume.access); gunicorn's would repeat
# it in another format. Gunicorn's own messages go to stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("PLUME_LOG_LEVEL", "INFO").lower()

# Heartbeat files on a RAM disk: a container's overlay filesystem can stall them.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Gunicorn's control socket (under the home directory) is not used, and a read-only root
# filesystem or a user without a home would make it fail.
control_socket_disable = True


def post_worker_init(worker):  # noqa: ANN001, ARG001 - gunicorn's hook signature
    """In each worker, once the app is loaded: the requests gunicorn refuses itself (a request
    line over ``limit_request_line``, 8 KB here: 414) answered in Plume's JSON error shape
    rather than HTML, and the worker's document reader started now rather than on the first
    upload (``backend/documents/sandbox.py``)."""
    from backend import errors
    from backend.documents import sandbox

    errors.use_json_for_server_errors()
    sandbox.start()


def worker_exit(server, worker):  # noqa: ANN001, ARG001 - gunicorn's hook signature
    """Close the worker's database pool while the worker still runs: left to the interpreter's
    exit, the pool's own finaliser meets gevent's half-finalised threads and prints a traceback
    at every worker restart."""
    app = getattr(worker, "wsgi", None)
    if app is not None and "plume.db" in getattr(app, "extensions", {}):
        from backend import db

        db.close(app)
