"""The jobs room: long work (a dossier, a hearing) as background jobs in PostgreSQL.

A job is a row (owner, kind, state, progress, params, result or error) picked by any worker
of any instance with ``SELECT … FOR UPDATE SKIP LOCKED`` and held under a lease that the
worker's heartbeat extends. Its handler runs in *steps*; each finished step's result is
stored, so when a worker dies (even ``kill -9``) another one picks the job once the lease
has expired and resumes after the last finished step. No broker: PostgreSQL is enough.

States::

    queued ──pick──▶ running ──seal──▶ done
      ▲  │              │ ├────▶ failed     (Failure, or a run failing PLUME_JOB_MAX_ATTEMPTS times)
      │  │              │ └────▶ cancelled  (the owner cancelled; seen at the next step)
      │  └──cancel──────┼──────▶ cancelled
      └──retry / worker stopping (SIGTERM) / lease expired (worker died)

Contract for use cases (floor 3) — this room knows nothing of them::

    from backend import jobs

    @jobs.handler("dossier",                        # one kind, one function, registered at import
                  retention=jobs.Retention("DOSSIER_RETENTION_DAYS", timedelta(days=1)))
                                                    # (retention: kept config[setting] × unit once
                                                    # finished; per_process=1: one at a time per
                                                    # process)
    def run_dossier(ctx: jobs.JobContext) -> dict:  # ctx.id, ctx.owner, ctx.params, ctx.attempt
        names = [blob.name for blob in ctx.blobs()] # the files stored with the job
        texts = [ctx.step(f"read:{n}", lambda n=n: read(ctx.open_blob(n)))   # each runs once
                 for n in names]
        ctx.progress(1, 3, "Lecture terminée")      # done, total, French message for the pane
                                                    # (detail={...}: the use case's own figures)
        parts = ctx.map_steps([(f"map:{i}", lambda t=t: summarise(t))
                               for i, t in enumerate(texts)], concurrency=4)
        if ctx.cancelled: raise jobs.Cancelled()    # inside a long step; steps check it themselves
        ctx.seal()                                  # before recording a success: Cancelled if a
                                                    # cancel came first (cancel wins)
        return {"synthesis": ...}                   # JSON: the job's result

    with ctx.host_call("map:3", {"prompt_tokens": n}) as spent:   # in a step, around a host call
        spent.answered(gw.complete(...).usage)      # noted before sending, then its real usage
    usages = ctx.spent()                            # every call of every run, those a dead worker
                                                    # left in flight included (estimated)

    job_id = jobs.submit("dossier", user_hash, {"title": "…"},
                         blobs={"conclusions.pdf": jobs.Blob(stream, "application/pdf")})
    job = jobs.get(job_id, user_hash)               # Job; NotFound (404) for anyone else
    jobs.check_owner(job_id, user_hash, kind="dossier")   # 403 someone else's, 404 none
    job.to_dict()                                   # state, progress, result, error, version
    jobs.wait_for_change(job_id, user_hash, job.version, timeout=15)  # next change: an SSE loop
    jobs.list_for(user_hash, kind="dossier")        # newest first
    jobs.cancel(job_id, user_hash)                  # queued: cancelled now; running: at next step
    jobs.delete(job_id, user_hash)                  # with its steps and files (a running one stops)
    jobs.blob_infos(job_id, user_hash)              # name, size, type, sha256 of its files
    jobs.step_results(job_id, user_hash, "read:")   # a finished job's stored steps, for another
    jobs.open_blob(job_id, user_hash, name)         # one of them, read chunk by chunk
    jobs.purge_expired(["dossier"])                 # retention now (a command); workers do it
                                                    # on their own schedule, see below

    job_id = jobs.submit("transcription", user_hash, {...}, hold=True)   # a resumable upload:
    size = jobs.append_blob(job_id, user_hash, "audio", part, offset=size)  # 409 + extra size
    jobs.start_held(job_id, user_hash)              # the last part is in: workers may take it

Where handlers live: in the use case's module, imported by ``create_app`` (through its
blueprint), so that the process that submits and every worker process know the kind;
``submit`` refuses a kind without a handler. ``PLUME_JOB_HANDLERS`` names extra modules.
A handler runs in a worker thread inside an application context (``db.connection()`` works),
and so do the threads of ``map_steps``.

Rules for handlers: a step's key is unique within its job and the step's result is JSON
(what a resumed run gets back instead of running it again); steps are the unit of loss on a
crash, so make them minutes at most; a step may run twice when its worker died in it (make
what it does outside the database idempotent, or meter it as such). ``raise jobs.Failure(
"message en français")`` fails the job at once; any other exception fails the run, which is
tried again (after ``PLUME_JOB_RETRY_DELAY``, doubled each time) up to
``PLUME_JOB_MAX_ATTEMPTS`` runs. Params are small JSON (64 KiB at most: ids, options, blob
names), never document text; files go in blobs (``PLUME_JOB_MAX_INPUT_BYTES`` per job).
Neither params nor results reach logs or audit records; the use case records its interaction.

Cancel wins: once :func:`cancel` has accepted (``cancel_requested``), the job ends
``cancelled``, never ``done``, even when the cancel lands during the last host call.
``ctx.seal()`` is the point of no return a handler calls just before it records a success
(the worker seals a handler's return itself otherwise): seal and cancel are each one
conditional UPDATE of the job's row, so one wins; a cancel after the seal is refused (the
job is returned unchanged, without ``cancel_requested``; a use case answers 409).

One record per job, even after a worker dies (for use cases that meter their jobs; the
dossier does): open the interaction in the request (``metered`` then ``Call.hand_over()``,
its state in the params, the job's id = the record's id), resume it in each run
(``metered.resume``), ``detach()`` it on :class:`Interrupted` and on a run to be retried,
finish it on the verdict, charging ``ctx.spent()``: the usage of every host call noted with
``ctx.host_call`` by any run — a call in flight when its worker died is counted too, with
the estimate noted before it was sent (the host served it; its answer was lost), and so is
its repeat. ``audit.records`` does not close as « interrompu » an open record whose job
still lives.

Order: the owner with the fewest jobs running goes first, then the oldest job, so one user's
twenty dossiers do not hold up another's one.

Retention (:mod:`.retention`), declared by each kind at registration: a finished job is
deleted with its steps, files and calls once its kind's time has passed since it finished,
and a held job (an upload never completed) once that time has passed since its last part;
``Retention(..., follows="dossier")`` deletes a job once the job named by that param is
gone (a dossier's versions); ``abandoned=fn`` gets the unfinished jobs' ids and params after
the purge (to close the record handed over to them), ``also=fn`` purges the use case's own
rows beside its jobs. A kind without a retention is kept. Every worker the commands start
purges every kind at start and every ``PLUME_JOB_PURGE_MINUTES``, one worker at a time
across instances (a PostgreSQL advisory lock; the others skip their turn); a kind whose
purge fails is logged and tried again at the next turn. ``python -m backend jobs purge``
purges at once (waiting for a purge under way).

Workers: ``python -m backend worker`` (``PLUME_JOB_WORKERS`` threads; SIGTERM lets running
steps finish for ``PLUME_JOB_STOP_GRACE`` seconds, then hands their jobs back), and one inside
``serve`` unless ``PLUME_JOB_WORKER_IN_SERVE=0``. gunicorn's web workers run none.
"""
from __future__ import annotations

import atexit
import importlib
import logging
import signal
import sys
import threading
import time
from typing import Any, BinaryIO, Callable, Mapping, Union

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .. import db
from .retention import RETENTION, Abandoned, Purged, Retention, purge_expired
from .store import (Blob, BlobInfo, Job, append_blob, check_owner, delete, get, list_for,
                    queue_status, start_held)
from .store import blob_infos as _blob_infos
from .store import cancel as _cancel
from .store import finished_steps as _finished_steps
from .store import open_blob as _open_blob
from .store import submit as _submit
from .worker import (HANDLERS, PER_PROCESS, Cancelled, Failure, Handler, HostCall, Interrupted,
                     JobContext, Worker, bounded_map, spent)

__all__ = ["init_app", "handler", "submit", "get", "check_owner", "list_for", "cancel", "delete",
           "append_blob", "start_held", "step_results",
           "wait_for_change", "open_blob", "blob_infos", "purge_expired", "Retention", "Abandoned",
           "Purged", "Blob", "BlobInfo", "Job", "JobContext", "Cancelled", "Failure",
           "Interrupted", "Worker", "bounded_map", "HostCall", "spent"]

log = logging.getLogger(__name__)

WAIT_POLL_S = 0.5


def handler(kind: str, *, per_process: int | None = None,
            retention: Retention | None = None) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of ``kind`` (at import time).

    ``per_process``: at most this many jobs of the kind run at once in one worker process,
    whatever ``PLUME_JOB_WORKERS`` says (CPU-bound work such as transcription on few cores);
    the process's other threads go on with other kinds. ``retention``: how long the kind's
    jobs are kept once finished (see :class:`Retention`); without one they are kept."""
    if per_process is not None and per_process < 1:
        raise ValueError(f"per_process must be at least 1 for job kind {kind!r}")

    def register(fn: Handler) -> Handler:
        existing = HANDLERS.get(kind)
        if existing is not None and existing is not fn and (
                existing.__module__, existing.__qualname__) != (fn.__module__, fn.__qualname__):
            raise ValueError(f"job kind {kind!r} already has a handler: {existing.__qualname__}")
        HANDLERS[kind] = fn
        if per_process is None:
            PER_PROCESS.pop(kind, None)
        else:
            PER_PROCESS[kind] = per_process
        if retention is None:
            RETENTION.pop(kind, None)
        else:
            RETENTION[kind] = retention
        return fn
    return register


def submit(kind: str, owner: str, params: Mapping[str, Any] | None = None, *,
           blobs: Mapping[str, Union[Blob, bytes, BinaryIO]] | None = None,
           max_attempts: int | None = None, hold: bool = False, job_id: str | None = None) -> str:
    """Queue a job of a registered ``kind`` for ``owner`` (a user hash); returns its id
    (``job_id`` when the caller chose one: a UUID not used before).

    ``hold=True`` keeps workers off it until :func:`start_held`, while :func:`append_blob`
    adds its files part by part (a resumable upload of a long recording).

    The row and every blob are written in one transaction: a bad kind, params that are not
    JSON or too large, a bad blob name (ValidationError, 400) or files over the size limit
    (PayloadTooLarge, 413) leave nothing behind.
    """
    return _submit(kind, owner, params, blobs=blobs, max_attempts=max_attempts, hold=hold,
                   known_kinds=frozenset(HANDLERS), job_id=job_id)


def cancel(job_id: str, owner: str) -> Job:
    """Cancel ``owner``'s job (NotFound otherwise); returns it as it is now."""
    return _cancel(job_id, owner)


def open_blob(job_id: str, owner: str, name: str) -> BinaryIO:
    """A stored file of ``owner``'s job, read a chunk at a time (NotFound otherwise)."""
    get(job_id, owner)
    return _open_blob(job_id, name)


def blob_infos(job_id: str, owner: str) -> list[BlobInfo]:
    """Name, size, type and digest of the files stored with ``owner``'s job."""
    get(job_id, owner)
    return _blob_infos(job_id)


def step_results(job_id: str, owner: str, prefix: str = "") -> dict[str, Any]:
    """Results of ``owner``'s job's finished steps whose key starts with ``prefix`` (another
    job that builds on it: a dossier's new writing reads the pages its reading stored)."""
    get(job_id, owner)
    return {key: value for key, value in _finished_steps(job_id).items() if key.startswith(prefix)}


def wait_for_change(job_id: str, owner: str, seen_version: int, *, timeout: float = 15.0) -> Job:
    """The job as soon as its ``version`` differs from ``seen_version`` (progress, state), or as
    it is after ``timeout`` seconds. Polls the row (one primary-key read each half second):
    no connection is held while waiting, so an SSE loop per pane costs little."""
    deadline = time.monotonic() + timeout
    while True:
        job = get(job_id, owner)
        if job.version != seen_version or job.finished or time.monotonic() >= deadline:
            return job
        time.sleep(min(WAIT_POLL_S, max(0.0, deadline - time.monotonic())))


def import_handlers(app: Flask) -> None:
    """Import the modules named by ``PLUME_JOB_HANDLERS`` (they register with :func:`handler`)."""
    for module in app.config["JOB_HANDLERS"]:
        importlib.import_module(module)


@click.command("worker")
@click.option("--threads", type=int, default=None,
              help="Jobs run at the same time (default PLUME_JOB_WORKERS).")
@with_appcontext
def worker_command(threads: int | None) -> None:
    """Run background jobs (dossiers, hearings) until SIGTERM or Ctrl-C."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    problem = db.check_ready()
    if problem:
        click.echo(f"Base de données non prête ({problem}) : lancez `python -m backend migrate`.",
                   err=True)
        sys.exit(1)
    if threads is not None and threads < 1:
        raise click.BadParameter("au moins 1", param_hint="--threads")
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("worker received signal", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker = Worker(app, threads, purge=True).start()
    click.echo(f"Plume : {worker.threads} traitement(s) en parallèle, types : "
               f"{', '.join(sorted(HANDLERS)) or 'aucun'}.")
    while not stop.wait(1.0):
        pass
    worker.stop()


@click.group("jobs")
def jobs_group() -> None:
    """Background jobs: see the queue, purge the expired ones."""


@jobs_group.command("status")
@with_appcontext
def status_command() -> None:
    """Jobs per kind and state, the oldest one's age, and leases expired (dead workers)."""
    rows = queue_status()
    if not rows:
        click.echo("Aucun traitement.")
        return
    click.echo(f"{'type':<20} {'état':<10} {'nombre':>7} {'plus ancien':>12} {'bail expiré':>12}")
    for row in rows:
        click.echo(f"{row['kind']:<20} {row['state']:<10} {row['jobs']:>7} "
                   f"{_age(row['oldest_s']):>12} {row['lease_expired']:>12}")


@jobs_group.command("purge")
@click.option("--kind", "kinds", multiple=True, metavar="KIND",
              help="Only this kind (repeatable); default every kind that declares a retention.")
@with_appcontext
def purge_command(kinds: tuple[str, ...]) -> None:
    """Delete now the jobs past their kind's retention (as workers do on their schedule)."""
    unknown = sorted(set(kinds) - set(RETENTION))
    if unknown:
        raise click.BadParameter(f"aucune conservation déclarée pour {', '.join(unknown)} "
                                 f"(types : {', '.join(sorted(RETENTION)) or 'aucun'})",
                                 param_hint="--kind")
    purged = purge_expired(kinds or None)
    assert purged is not None  # wait=True: never skipped
    config = current_app.config
    for kind, count in sorted(purged.counts.items()):
        click.echo(f"{kind} : {count} supprimé(s), conservés {RETENTION[kind].describe(config)}.")
    if purged.failed:
        click.echo(f"Échec de la purge pour : {', '.join(purged.failed)} (voir le journal).",
                   err=True)
        sys.exit(1)


def _age(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _start_in_serve(app: Flask) -> None:
    """``serve`` hook: run jobs in the serving process too (``make run`` is one command)."""
    if not app.config["JOB_WORKER_IN_SERVE"]:
        return
    worker = Worker(app, purge=True).start()
    app.extensions["plume.jobs"]["worker"] = worker
    # Ctrl-C ends serve: hand running jobs back at once rather than after the lease.
    atexit.register(worker.stop, 0.0)


def init_app(app: Flask) -> None:
    """Import the configured handler modules, add ``worker``, ``jobs status`` and ``jobs
    purge``, and start a worker in ``serve``."""
    app.extensions["plume.jobs"] = {"worker": None}
    import_handlers(app)
    app.cli.add_command(worker_command)
    app.cli.add_command(jobs_group)
    app.extensions.setdefault("plume.serve_hooks", []).append(_start_in_serve)
