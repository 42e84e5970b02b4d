"""Workers: threads that pick jobs, run their handlers step by step, and keep their leases.

One :class:`Worker` per process runs ``threads`` job threads, one heartbeat thread (extends
the leases of the jobs it runs every third of the lease, and learns of cancellations), one
listener thread (``LISTEN plume_jobs``: a new job wakes idle threads at once, a cancel
reaches the running job at once; polling every ``PLUME_JOB_POLL_SECONDS`` covers a lost
connection and expired leases, which no one announces) and, in the workers the commands
start, one purge thread (:mod:`.retention`: expired jobs of every kind, every
``PLUME_JOB_PURGE_MINUTES``).
"""
from __future__ import annotations

import logging
import os
from collections import Counter
import socket
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Mapping

import psycopg
from flask import Flask

from .. import db
from . import retention, store
from .store import BlobInfo

log = logging.getLogger(__name__)

Handler = Callable[["JobContext"], Any]
HANDLERS: dict[str, Handler] = {}
"""Job kinds and their handlers; filled by :func:`backend.jobs.handler` at import time."""
PER_PROCESS: dict[str, int] = {}
"""Kinds that one worker process runs at most so many of at once (CPU-bound work)."""

PROGRESS_EVERY_S = 0.5
HEARTBEAT_TICK_S = 0.2
LISTEN_WAIT_S = 5.0  # at start, how long job threads wait for the listener to be listening  # how often the heartbeat thread looks whether a beat is due or it may end  # a pane polls about once a second: more writes than this show nothing
FAILED_CODE = "traitement_echoue"
INTERRUPTED_CODE = "traitement_interrompu"


class Cancelled(Exception):
    """The owner cancelled the job; raised by :meth:`JobContext.step` or a handler."""


class Failure(Exception):
    """A handler's permanent failure: the job fails at once (no retry) with this French message."""

    def __init__(self, message: str, *, code: str = FAILED_CODE, detail: str | None = None):
        super().__init__(detail or message)
        self.message, self.code = message, code


class Interrupted(Exception):
    """The run stops without a verdict: the job goes on in another run (a handler that
    catches exceptions to record an outcome lets this one through)."""


class _Released(Interrupted):
    """The worker is stopping: the job goes back to the queue after its current step."""


class _LeaseLost(Interrupted):
    """Another worker holds the job now (or it was deleted): stop without writing."""


def bounded_map(fn: Callable[[Any], Any], items: list[Any], *, concurrency: int,
                name: str) -> list[Any]:
    """``fn(item)`` for each item, ``concurrency`` at a time, results in order.

    The first failure (or cancel) is seen at once, not when its turn in order comes; the
    items not started yet are then dropped, those running finish, and the failure is raised.
    """
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix=name)
    try:
        futures = [pool.submit(fn, item) for item in items]
        wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in futures if f.done() and f.exception() is not None), None)
        if failed is not None:
            pool.shutdown(wait=True, cancel_futures=True)
            raise failed.exception()  # type: ignore[misc]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class JobContext:
    """What a handler receives: its job's params, steps, progress, cancellation and blobs."""

    def __init__(self, worker: "Worker", row: dict[str, Any]):
        self.id: str = row["id"]
        self.kind: str = row["kind"]
        self.owner: str = row["owner"]
        self.params: dict[str, Any] = row["params"]
        self.attempt: int = row["attempts"]
        self.max_attempts: int = row["max_attempts"]
        self._worker = worker
        self._token: str = row["lease_token"]
        self._done = store.finished_steps(self.id)
        self._cancel = threading.Event()
        self._lost = threading.Event()
        self._progress_lock = threading.Lock()
        self._pending: tuple[int, int | None, str | None, dict[str, Any] | None] | None = None
        self._last_write = 0.0
        self.sealed = False

    # -- steps -------------------------------------------------------------------------------

    def step(self, key: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` once for this job and store its (JSON) result under ``key``.

        If a previous run of the job finished this step, return its stored result without
        calling ``fn``. Before a new step starts, a cancellation raises :class:`Cancelled`
        and a stopping worker hands the job back to the queue.
        """
        if key in self._done:
            return self._done[key]
        self._check()
        self._flush_progress()
        if not store.step_started(self.id, self._token, key):
            raise _LeaseLost(key)
        try:
            result = fn(*args)
        except BaseException as exc:
            code = exc.code if isinstance(exc, Failure) else type(exc).__name__
            store.step_failed(self.id, self._token, key, code)
            raise
        if not store.step_finished(self.id, self._token, key, result):
            raise _LeaseLost(key)
        self._done[key] = result
        return result

    def map_steps(self, steps: Iterable[tuple[str, Callable[[], Any]]], *,
                  concurrency: int) -> list[Any]:
        """Run keyed steps ``concurrency`` at a time (each once, as :meth:`step`); results in
        order. For bounded parallelism toward a host (a dossier's map calls)."""
        app = self._worker.app

        def run(item: tuple[str, Callable[[], Any]]) -> Any:
            with app.app_context():
                return self.step(*item)

        return bounded_map(run, list(steps), concurrency=concurrency,
                           name=f"plume-job-{self.id[:8]}")

    def results(self, prefix: str = "") -> dict[str, Any]:
        """Results of the steps finished so far, this run's and earlier runs', by key (those
        whose key starts with ``prefix``): what a handler adds up when it ends."""
        return {key: value for key, value in list(self._done.items()) if key.startswith(prefix)}

    # -- host calls: what a run spends, even when its worker dies -----------------------------

    @contextmanager
    def host_call(self, step: str, estimate: Mapping[str, Any]) -> Iterator["HostCall"]:
        """Note a host call of ``step`` before it is sent, with ``estimate`` (its usage as far
        as it is known before: ``{"prompt_tokens": n}``), then its real usage::

            with ctx.host_call(key, {"prompt_tokens": n}) as spent:
                answer = gw.complete(...)
                spent.answered(answer.usage)

        A call that raises is noted ``failed`` (not charged). A call whose worker dies before
        its answer stays ``sent``: :meth:`spent` counts it with its estimate, so the job's one
        record shows what the host served, repeats included."""
        call_id = store.call_sent(self.id, self._token, step, self.attempt, estimate)
        if call_id is None:
            raise _LeaseLost(step)
        note = HostCall()
        try:
            yield note
        except BaseException:
            store.call_ended(self.id, call_id, "failed", None)
            raise
        store.call_ended(self.id, call_id, "answered" if note.usage is not None else "failed",
                         note.usage)

    def spent(self) -> list[dict[str, Any]]:
        """The usage of every host call of this job, every run's (see :func:`spent`)."""
        return spent(self.id)

    # -- progress and cancellation -----------------------------------------------------------

    def progress(self, done: int, total: int | None = None, message: str | None = None,
                 detail: dict[str, Any] | None = None) -> None:
        """Record progress (``done`` of ``total``, a short French message for the pane, and
        optionally ``detail``: small JSON in the use case's own terms, kept until replaced).

        Written at most every half second; the latest value is always written at the next
        step and at the end."""
        with self._progress_lock:
            self._pending = (int(done), None if total is None else int(total), message, detail)
            if time.monotonic() - self._last_write < PROGRESS_EVERY_S and done != total:
                return
        self._flush_progress()

    def _flush_progress(self) -> None:
        with self._progress_lock:
            pending, self._pending = self._pending, None
            if pending is None:
                return
            self._last_write = time.monotonic()
        if not store.progress(self.id, self._token, *pending):
            raise _LeaseLost("progress")

    @property
    def last_attempt(self) -> bool:
        """True when a failure of this run fails the job (no retry follows)."""
        return self.attempt >= self.max_attempts

    @property
    def cancelled(self) -> bool:
        """True once the owner asked to cancel (a handler checks it inside long steps)."""
        return self._cancel.is_set()

    def seal(self) -> None:
        """The point of no return, just before the handler records its success: from now on
        a cancel is refused (409 for the owner). Raises :class:`Cancelled` when a cancel was
        accepted first: cancel wins, the job ends ``cancelled``. The worker seals a job whose
        handler returned without sealing it."""
        if self.sealed:
            return
        if not store.seal(self.id, self._token):
            if store.cancel_requested(self.id):
                self._cancel.set()
                raise Cancelled()
            raise _LeaseLost("seal")
        self.sealed = True

    def _check(self) -> None:
        if self._lost.is_set():
            raise _LeaseLost("heartbeat")
        if self._cancel.is_set():
            raise Cancelled()
        if self._worker.stopping.is_set():
            raise _Released()

    # -- input files -------------------------------------------------------------------------

    def blobs(self) -> list[BlobInfo]:
        """The files stored with this job at submission."""
        return store.blob_infos(self.id)

    def open_blob(self, name: str) -> BinaryIO:
        """A binary stream over one of them, read a chunk at a time."""
        return store.open_blob(self.id, name)


class Worker:
    """Job threads, a heartbeat and a listener for one process (``python -m backend worker``,
    or inside ``serve``); ``purge=True`` (those two): the scheduled retention purge too."""

    def __init__(self, app: Flask, threads: int | None = None, name: str | None = None, *,
                 purge: bool = False):
        self.app = app
        self.purge = purge
        config = app.config
        self.threads = threads or config["JOB_WORKERS"]
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.lease = float(config["JOB_LEASE_SECONDS"])
        self.poll = float(config["JOB_POLL_SECONDS"])
        self.retry_delay = float(config["JOB_RETRY_DELAY"])
        self.purge_every = retention.purge_seconds(config)
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self.active: dict[str, JobContext] = {}
        self._active_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._listening = threading.Event()
        self._pick_lock = threading.Lock()
        self._running: Counter[str] = Counter()  # jobs running here per kind, under _pick_lock

    # -- life --------------------------------------------------------------------------------

    def start(self) -> "Worker":
        kinds = sorted(HANDLERS)
        log.info("job worker started", extra={"worker": self.name, "threads": self.threads,
                                              "kinds": kinds})
        # Listening first: a cancel sent before LISTEN would only arrive with a heartbeat.
        self._spawn(self._listen, "plume-job-listener")
        if not self._listening.wait(LISTEN_WAIT_S):
            log.warning("job listener not ready; polling meanwhile", extra={"worker": self.name})
        self._spawn(self._heartbeat, "plume-job-heartbeat")
        for index in range(self.threads):
            self._spawn(self._run_jobs, f"plume-job-{index}", f"{self.name}:{index}")
        if self.purge:
            self._spawn(self._purge, "plume-job-purge")
        return self

    def _spawn(self, target: Callable[..., None], name: str, *args: Any) -> None:
        def run() -> None:
            with self.app.app_context():
                target(*args)

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self, grace: float | None = None) -> None:
        """Stop picking; wait ``grace`` seconds for running steps to end (their jobs go back to
        the queue at the next step), then hand back the jobs still running."""
        grace = self.app.config["JOB_STOP_GRACE"] if grace is None else grace
        self.stopping.set()
        self.wake.set()
        deadline = time.monotonic() + grace
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        with self._active_lock:
            left = list(self.active.values())
        with self.app.app_context():
            for ctx in left:
                ctx._lost.set()  # its thread must not write after this
                try:
                    store.release(ctx.id, ctx._token)
                except Exception:  # noqa: BLE001 - the lease will expire instead
                    log.exception("could not release job", extra={"job_id": ctx.id})
        log.info("job worker stopped", extra={"worker": self.name, "released": len(left)})

    # -- threads -----------------------------------------------------------------------------

    def _run_jobs(self, name: str) -> None:
        while not self.stopping.is_set():
            try:
                row = self._pick(name)
            except Exception:  # noqa: BLE001 - database away: wait and try again
                log.exception("job pick failed", extra={"worker": name})
                row = None
            if row is None:
                self.wake.wait(self.poll)
                self.wake.clear()
                continue
            try:
                self._run(row, name)
            except Exception:  # noqa: BLE001 - a write failed (database away): the lease
                # expires and the job is picked again; this thread goes on with the next one.
                log.exception("job bookkeeping failed", extra={"job_id": row["id"], "worker": name})
                self.stopping.wait(self.poll)
            finally:
                with self._pick_lock:
                    self._running[row["kind"]] -= 1

    def _pick(self, name: str) -> dict[str, Any] | None:
        """Pick a job of a kind this process may take one more of (see ``PER_PROCESS``); the
        lock makes "how many run here" and the pick one step for this process's threads."""
        with self._pick_lock:
            kinds = sorted(kind for kind in HANDLERS
                           if self._running[kind] < PER_PROCESS.get(kind, self.threads))
            row = store.pick(kinds, name, self.lease) if kinds else None
            if row is not None:
                self._running[row["kind"]] += 1
            return row

    def _run(self, row: dict[str, Any], name: str) -> None:
        job, kind, attempt = row["id"], row["kind"], row["attempts"]
        fields = {"job_id": job, "kind": kind, "attempt": attempt, "worker": name}
        if row["cancel_requested"]:  # cancelled while its worker was dead
            store.finish(job, row["lease_token"], "cancelled")
            log.info("job cancelled", extra=fields)
            return
        if attempt > row["max_attempts"]:  # its last allowed run died with its worker
            store.finish(job, row["lease_token"], "failed", error_code=INTERRUPTED_CODE,
                         error_message=(f"Le traitement a été interrompu {row['max_attempts']} fois "
                                        "(arrêt d'un serveur) et a été abandonné. Relancez-le."))
            log.warning("job abandoned after interrupted runs", extra=fields)
            return
        ctx = JobContext(self, row)
        with self._active_lock:
            self.active[job] = ctx
        started = time.monotonic()
        log.info("job run started", extra={**fields, "steps_done": len(ctx._done)})
        try:
            result = HANDLERS[kind](ctx)
            ctx.seal()
            ctx._flush_progress()
            if store.finish(job, ctx._token, "done", result=result):
                log.info("job done", extra={**fields, "duration_s": _since(started)})
        except Cancelled:
            store.finish(job, ctx._token, "cancelled")
            log.info("job cancelled", extra={**fields, "duration_s": _since(started)})
        except _Released:
            store.release(job, ctx._token)
            log.info("job handed back (worker stopping)", extra=fields)
        except _LeaseLost as exc:
            log.warning("job lease lost; stopped without writing", extra={**fields, "at": str(exc)})
        except Failure as exc:
            store.finish(job, ctx._token, "failed", error_code=exc.code, error_message=exc.message)
            log.warning("job failed: %s", exc, extra=fields)
        except Exception as exc:  # noqa: BLE001 - any handler error is a failed run
            self._failed_run(ctx, row, exc, fields)
        finally:
            with self._active_lock:
                self.active.pop(job, None)

    def _failed_run(self, ctx: JobContext, row: dict[str, Any], exc: Exception,
                    fields: dict[str, Any]) -> None:
        log.error("job run failed", exc_info=exc, extra=fields)
        attempts, limit = row["attempts"], row["max_attempts"]
        if attempts < limit:
            delay = self.retry_delay * 2 ** (attempts - 1)
            store.retry_later(ctx.id, ctx._token, delay, FAILED_CODE)
            log.info("job will be tried again", extra={**fields, "delay_s": delay})
            return
        store.finish(ctx.id, ctx._token, "failed", error_code=FAILED_CODE,
                     error_message=(f"Le traitement a échoué après {attempts} tentative"
                                    f"{'s' if attempts > 1 else ''}. Réessayez plus tard ; "
                                    "si l'erreur persiste, contactez le support."))

    def _heartbeat(self) -> None:
        # Beats go on while a stopping worker lets its steps finish (the grace may outlast
        # the lease); the thread ends when nothing is left to hold.
        next_beat = time.monotonic() + self.lease / 3
        while not (self.stopping.is_set() and not self.active):
            time.sleep(min(HEARTBEAT_TICK_S, self.lease / 3))
            if time.monotonic() < next_beat:
                continue
            next_beat = time.monotonic() + self.lease / 3
            with self._active_lock:
                held = {job: ctx._token for job, ctx in self.active.items()
                        if not ctx._lost.is_set()}
            if not held:
                continue
            try:
                alive = store.heartbeat(held, self.lease)
            except Exception:  # noqa: BLE001 - next beat may succeed before the lease ends
                log.exception("job heartbeat failed", extra={"worker": self.name})
                continue
            with self._active_lock:
                for job, ctx in self.active.items():
                    if job not in held:
                        continue
                    if job not in alive:
                        ctx._lost.set()
                    elif alive[job]:
                        ctx._cancel.set()

    def _purge(self) -> None:
        """A turn at start, then every ``purge_every`` seconds; a turn that fails is logged
        and the next one tries again (the thread never ends on a failure)."""
        while True:
            self.purge_turn()
            if self.stopping.wait(self.purge_every):
                return

    def purge_turn(self) -> retention.Purged | None:
        """One scheduled purge: None when it failed or another worker was purging."""
        try:
            return retention.purge_expired(wait=False)
        except Exception:  # noqa: BLE001 - database away: the next turn tries again
            log.exception("job purge failed; tried again at the next turn",
                          extra={"worker": self.name})
            return None

    def _listen(self) -> None:
        url = db.database_url(self.app)
        while not self.stopping.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {store.CHANNEL}")
                    self._listening.set()
                    while not self.stopping.is_set():
                        for note in conn.notifies(timeout=1.0):
                            self._notified(note.payload)
            except Exception:  # noqa: BLE001 - polling goes on meanwhile
                if self.stopping.is_set():
                    return
                log.warning("job listener disconnected; retrying", exc_info=True)
                self.stopping.wait(self.poll)

    def _notified(self, payload: str) -> None:
        what, _, value = payload.partition(":")
        if what == "new":
            self.wake.set()
        elif what == "cancel":
            with self._active_lock:
                ctx = self.active.get(value)
            if ctx is not None:
                ctx._cancel.set()


class HostCall:
    """What :meth:`JobContext.host_call` yields: give it the host's usage once answered."""

    def __init__(self) -> None:
        self.usage: dict[str, Any] | None = None

    def answered(self, usage: Mapping[str, Any] | None) -> None:
        self.usage = dict(usage or {})


def spent(job_id: str) -> list[dict[str, Any]]:
    """The usage of each host call a job's runs made, in order: the host's own figures for
    calls answered, the estimate (marked ``"estimated": True``) for calls whose worker died
    before the answer; failed calls are left out."""
    usages = []
    for call in store.calls(job_id):
        if call["state"] == "answered":
            usages.append(dict(call["usage"]))
        elif call["state"] == "sent":
            usages.append({**call["usage"], "estimated": True})
    return usages


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)
