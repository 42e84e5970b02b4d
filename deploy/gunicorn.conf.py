"""Gunicorn settings for Plume in production.

    gunicorn -c deploy/gunicorn.conf.py 'backend:create_app()'

Why threads: an assistance answer is a Server-Sent Events stream that holds its request
for as long as the model writes — up to ``PLUME_LLM_TIMEOUT_TOTAL`` (300 s by default) —
while using almost no CPU. A thread per open stream is cheap; a process per stream
(sync workers) is not, and sync workers would be killed by ``timeout`` mid-answer.
So: one process per core (``WEB_CONCURRENCY``), many threads each (``GUNICORN_THREADS``).
Two workers of 160 threads hold 200 open streams, the gateway's target for one instance:
the kernel does not spread connections evenly between workers, and with 2 x 100 threads
bench/gateway.py saw only 159-188 of 200 streams served (200 of 200 with 160).

Each worker builds its own app and database pool after the fork (no ``preload_app``):
psycopg connections must not be shared across processes.

Timeouts, and how they fit with the others (tests/deploy/test_gunicorn.py checks them):

- ``timeout`` is gthread's worker heartbeat, which the worker's main loop sends however
  long a request lasts; it only has to cover start-up (loading the app and models).
- ``graceful_timeout``: on a restart or a rolling update, a worker finishes the streams it
  has for this long: more than ``PLUME_LLM_TIMEOUT_TOTAL`` so no answer is cut.
  systemd's ``TimeoutStopSec`` and Kubernetes' ``terminationGracePeriodSeconds`` are longer.
- ``keepalive`` is longer than the proxy's idle upstream timeout (nginx: 60 s), so the proxy
  always closes an idle connection first.

Environment (not PLUME_ settings: they belong to the process manager, not to the app):
``GUNICORN_BIND`` (default ``127.0.0.1:8000``; the container sets ``0.0.0.0:8000``),
``WEB_CONCURRENCY``, ``GUNICORN_THREADS``, ``FORWARDED_ALLOW_IPS`` (proxies whose
``X-Forwarded-Proto`` is trusted; default loopback).
"""
import os

# Longest model call (the gateway's PLUME_LLM_TIMEOUT_TOTAL, 300 s unless set) and a margin.
STREAM_SECONDS = int(float(os.environ.get("PLUME_LLM_TIMEOUT_TOTAL", 300)))
STREAM_MARGIN_SECONDS = 30

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", min(os.cpu_count() or 1, 4)))
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
