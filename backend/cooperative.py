"""Long CPU work, kept off the event loop when Plume runs under gunicorn's gevent workers.

In production each worker is one event loop (``deploy/gunicorn.conf.py``): hundreds of open
answer streams share one thread and take turns at every read and write. Work that keeps
the CPU for a long time without any I/O (reading a 300-page PDF, the embedded embedding
model) would freeze every stream of the worker until it ends. :func:`offload` runs such
work in a native thread beside the loop, where the interpreter's usual thread switching
lets the event loop carry on; the caller waits without blocking the loop. Elsewhere (the
development server, the command line, tests) it is a plain call.
"""
from __future__ import annotations

import sys
from typing import Callable, TypeVar

T = TypeVar("T")


def event_loop_active() -> bool:
    """True in a process whose threads gevent has replaced by greenlets (a gevent worker)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")


def offload(work: Callable[..., T], *args: object) -> T:
    """``work(*args)``, in a native thread when an event loop runs; its exception, if any."""
    if not event_loop_active():
        return work(*args)
    # The exception comes back as a value: gevent would also print a thread's exception as
    # an unhandled error, and a refused upload is not one.
    failed, value = _pool().apply(_capture, (work, args))
    if failed:
        raise value
    return value


_POOL = None


def _pool():  # noqa: ANN202 - gevent.threadpool.ThreadPool
    """One native thread per process, shared by every offloaded call, one call at a time.

    One, because the work is CPU-bound (a second thread would only share the same interpreter
    lock) and because the code that runs there uses gevent's locks (imports, logging): with a
    single thread beside the event loop no two threads of the pool ever wait on each other.
    """
    global _POOL
    if _POOL is None:
        from gevent.threadpool import ThreadPool

        _POOL = ThreadPool(1)
    return _POOL


def _capture(work: Callable[..., T], args: tuple) -> tuple[bool, object]:
    try:
        return False, work(*args)
    except BaseException as exc:  # noqa: BLE001 - raised again in the caller's greenlet
        return True, exc
