"""Reading an untrusted file in a process of its own, with a hard limit on time and memory.

The readers check their :class:`~.budget.Budget` as they go, but one call inside a library
(lxml parsing a part, pypdf extracting a page) cannot be interrupted, and a file read in
the worker shares its memory and, under gevent, its one native reading thread with every
other user's file. So an upload is read by a short-lived child interpreter
(``python -m backend.documents.sandbox``): the file on its stdin, the blocks as JSON on its
stdout, an address-space limit and a CPU-time limit set by the child on itself, and the
parent kills it when its wall-clock time is spent. Under gevent the parent waits
cooperatively (gevent patches ``subprocess``), so the worker's streams go on, and several
users' files are read side by side, up to :data:`MAX_PARALLEL` per worker; nobody's file
waits behind another one for longer than that file's time budget.
"""
from __future__ import annotations

import json
import logging
import os
import resource
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from ..errors import ServiceUnavailable
from .errors import DocumentError, too_large, unreadable

log = logging.getLogger(__name__)

# Files read at once by one worker; more wait (at most their own time budget) for a slot.
MAX_PARALLEL = 4
# Address space of a child: the interpreter, lxml and pypdf, and one file's text.
MEMORY_BYTES = 1024 * 1024 * 1024
# Starting the child interpreter and importing the readers (about 0.5 s on a busy machine).
START_SECONDS = 5.0
ROOT = Path(__file__).resolve().parents[2]
_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()

BUSY_MESSAGE = ("Trop de documents sont en cours de lecture sur ce serveur. "
                "Réessayez dans quelques instants.")
HEAVY_MESSAGE = ("Ce document demande trop de mémoire ou de temps pour être lu. "
                 "Envoyez un extrait ou une version plus courte.")


def _semaphore() -> threading.BoundedSemaphore:
    # Made on first use, in the worker (after gunicorn's fork and gevent's patching).
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(MAX_PARALLEL)
        return _slots


def read_isolated(kind: str, data: bytes, filename: str, *, max_bytes: int, max_pages: int,
                  max_seconds: float, max_paragraphs: int) -> tuple[list[list[Any]], int | None]:
    """The blocks (``[text, kind, page]``) and page count of ``data``, read by a child process.

    Raises the child's :class:`DocumentError`; 413 when the child ran out of time or memory;
    503 when every slot stayed busy for the whole time budget.
    """
    slots = _semaphore()
    if not slots.acquire(timeout=max_seconds):
        raise ServiceUnavailable(BUSY_MESSAGE, headers={"Retry-After": "5"},
                                 detail=f"{filename}: no free document reader")
    try:
        return _run(kind, data, filename, {"max_bytes": max_bytes, "max_pages": max_pages,
                                           "max_seconds": max_seconds,
                                           "max_paragraphs": max_paragraphs})
    finally:
        slots.release()


def _run(kind: str, data: bytes, filename: str,
         limits: dict[str, Any]) -> tuple[list[list[Any]], int | None]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
           "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
    request = json.dumps({"kind": kind, "filename": filename, **limits})
    try:
        child = subprocess.run([sys.executable, "-m", "backend.documents.sandbox", request],
                               input=data, capture_output=True, cwd=ROOT, env=env,
                               timeout=limits["max_seconds"] + START_SECONDS)
    except subprocess.TimeoutExpired:
        raise too_large(f"{filename}: reader killed after {limits['max_seconds']} s",
                        HEAVY_MESSAGE) from None
    try:
        answer = json.loads(child.stdout)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        stderr = child.stderr.decode("utf-8", "replace")[-500:]
        if child.returncode < 0 or "MemoryError" in stderr:
            # SIGKILL / SIGXCPU: the CPU limit; MemoryError: the address-space limit.
            raise too_large(f"{filename}: reader ended by signal {-child.returncode} "
                            f"or out of memory: {stderr!r}", HEAVY_MESSAGE)
        raise unreadable(f"{filename}: reader exited {child.returncode}: {stderr!r}")
    if "error" in answer:
        error = answer["error"]
        raise DocumentError(error["message"], status=error["status"], code=error["code"],
                            detail=error["detail"])
    return answer["blocks"], answer["pages"]


def _child(request: dict[str, Any]) -> dict[str, Any]:
    """The child's whole life: set its limits, read stdin, answer a JSON object."""
    from . import _parse
    from .budget import Budget

    cpu = int(request["max_seconds"]) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    data = sys.stdin.buffer.read()
    budget = Budget(request["filename"], max_seconds=request["max_seconds"],
                    max_paragraphs=request["max_paragraphs"])
    try:
        blocks, pages = _parse(request["kind"], data, request["filename"],
                               request["max_pages"], budget)
    except DocumentError as err:
        return {"error": {"status": err.status, "code": err.code, "message": err.message,
                          "detail": err.detail}}
    except MemoryError:
        err = too_large(f"{request['filename']}: out of memory in the reader", HEAVY_MESSAGE)
        return {"error": {"status": err.status, "code": err.code, "message": err.message,
                          "detail": err.detail}}
    return {"blocks": [[b.text, b.kind, b.page] for b in blocks], "pages": pages}


if __name__ == "__main__":
    answer = _child(json.loads(sys.argv[1]))
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))
    sys.stdout.flush()
