"""Job handlers for the tests, registered like a use case's: imported through
``PLUME_JOB_HANDLERS=tests.jobs.handlers`` by the test app and by ``python -m backend worker``.

Each writes one line per run of a step to the file named by ``params["trace"]`` (appends of
a short line are atomic between processes), so a test sees what ran, where and how often.
"""
from __future__ import annotations

import hashlib
import os
import threading
import time

from backend import jobs


def trace(ctx: jobs.JobContext, what: str) -> None:
    line = f"{ctx.id} {what} attempt={ctx.attempt} pid={os.getpid()} " \
           f"thread={threading.current_thread().name}\n"
    with open(ctx.params["trace"], "a", encoding="utf-8") as out:
        out.write(line)


@jobs.handler("test.steps")
def run_steps(ctx: jobs.JobContext) -> dict:
    """Steps named by ``params["steps"]``; the step ``params["slow"]`` sleeps ``slow_s`` the
    first time it runs (as the trace shows), and is quick when run again."""
    results = []
    names = ctx.params["steps"]

    def work(name: str) -> dict:
        with open(ctx.params["trace"], encoding="utf-8") as past:
            first_time = f"{ctx.id} step:{name} " not in past.read()
        trace(ctx, f"step:{name}")
        if name == ctx.params.get("slow") and first_time:
            time.sleep(ctx.params.get("slow_s", 60))
        return {"step": name, "length": len(name)}

    for index, name in enumerate(names):
        results.append(ctx.step(name, work, name))
        ctx.progress(index + 1, len(names), f"Étape {name} terminée")
    return {"results": results}


@jobs.handler("test.fails")
def run_fails(ctx: jobs.JobContext) -> None:
    def broken() -> None:
        trace(ctx, "step:broken")
        raise RuntimeError("the host answered nonsense")

    ctx.step("fine", lambda: trace(ctx, "step:fine") or "ok")
    ctx.step("broken", broken)


@jobs.handler("test.refuses")
def run_refuses(ctx: jobs.JobContext) -> None:
    trace(ctx, "run")
    raise jobs.Failure("Le fichier « pièce 3.pdf » est chiffré : retirez le mot de passe.",
                       code="fichier_chiffre", detail="encrypted PDF")


@jobs.handler("test.endless")
def run_endless(ctx: jobs.JobContext) -> None:
    """Short steps forever, then (``params["inside"]``) one long step that watches ``cancelled``."""
    if ctx.params.get("inside"):
        def watch() -> None:
            trace(ctx, "step:watch")
            while not ctx.cancelled:
                time.sleep(0.02)
            trace(ctx, "saw-cancel")
            raise jobs.Cancelled()
        ctx.step("watch", watch)
    index = 0
    while True:
        ctx.step(f"tick:{index}", lambda i=index: trace(ctx, f"step:tick:{i}") or time.sleep(0.05))
        index += 1


@jobs.handler("test.once")
def run_once(ctx: jobs.JobContext) -> str:
    def work() -> str:
        trace(ctx, "step:work")
        time.sleep(0.05)
        return threading.current_thread().name
    return ctx.step("work", work)


@jobs.handler("test.digest")
def run_digest(ctx: jobs.JobContext) -> dict:
    """The sha256 and size of each blob, read back through the stream."""
    out = {}
    for info in ctx.blobs():
        digest, size = hashlib.sha256(), 0
        with ctx.open_blob(info.name) as stream:
            while chunk := stream.read(300_000):
                digest.update(chunk)
                size += len(chunk)
        out[info.name] = {"sha256": digest.hexdigest(), "size": size, "stored": info.sha256,
                          "content_type": info.content_type}
    return out


@jobs.handler("test.parallel")
def run_parallel(ctx: jobs.JobContext) -> list:
    def part(i: int) -> int:
        with open(ctx.params["trace"], encoding="utf-8") as past:
            first_time = f"{ctx.id} step:part:{i} " not in past.read()
        trace(ctx, f"step:part:{i}")
        if i == ctx.params.get("fail") and first_time:
            raise RuntimeError("the host dropped the connection")
        time.sleep(0.1)
        return i * i
    return ctx.map_steps([(f"part:{i}", lambda i=i: part(i)) for i in range(8)], concurrency=4)


@jobs.handler("test.solo", per_process=1)
def run_solo(ctx: jobs.JobContext) -> None:
    """Stands for CPU-bound work: one at a time in a process."""
    def work() -> None:
        trace(ctx, f"begin {time.monotonic():.4f}")
        time.sleep(0.3)
        trace(ctx, f"end {time.monotonic():.4f}")
    ctx.step("work", work)


@jobs.handler("test.cancel-last")
def run_cancel_last(ctx: jobs.JobContext) -> dict:
    """Its owner's cancel is accepted while its last step ends (as a cancel landing during a
    dossier's last model call): the handler then returns at once, before the worker has
    heard of it."""
    def last() -> str:
        jobs.cancel(ctx.id, ctx.owner)
        trace(ctx, "step:last")
        return "written"
    return {"last": ctx.step("last", last)}


@jobs.handler("test.sealed")
def run_sealed(ctx: jobs.JobContext) -> dict:
    """Seals itself, then waits for the file ``params["gate"]`` (the owner tries to cancel
    meanwhile) before returning its result."""
    ctx.seal()
    trace(ctx, "sealed")
    deadline = time.monotonic() + 30
    while not os.path.exists(ctx.params["gate"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return {"ok": True}


@jobs.handler("test.calls")
def run_calls(ctx: jobs.JobContext) -> dict:
    """Stands for host calls: ``params["calls"]`` steps each noting one call (usage
    ``{"prompt_tokens": 10, "completion_tokens": 5}``); the step ``params["hang"]`` hangs
    inside its call the first time (its worker is killed there), ``params["fail"]``'s call
    raises."""
    def call(i: int) -> int:
        with open(ctx.params["trace"], encoding="utf-8") as past:
            first_time = f"{ctx.id} call:{i} " not in past.read()
        with ctx.host_call(f"call:{i}", {"prompt_tokens": 10}) as spent:
            trace(ctx, f"call:{i}")
            if i == ctx.params.get("hang") and first_time:
                time.sleep(60)
            if i == ctx.params.get("fail"):
                raise jobs.Failure("L'hôte a refusé la demande.", code="refus")
            spent.answered({"prompt_tokens": 10, "completion_tokens": 5})
        return i
    done = [ctx.step(f"call:{i}", call, i) for i in range(ctx.params["calls"])]
    return {"done": done, "spent": ctx.spent()}
