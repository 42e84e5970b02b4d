"""Reading an untrusted file in a process of its own, with hard limits on time and memory.

The readers check their :class:`~.budget.Budget` as they go, but one call inside a library
(lxml parsing a part, pypdf extracting a page) cannot be interrupted, and a file read in
the worker shares its memory and, under gevent, its one native reading thread with every
other user's file: one heavy file made every other document of the worker wait (71 s for a
normal PDF). So uploads are read in child processes:

- each gunicorn worker starts, on first use, one *reader server* (``python -m
  backend.documents.sandbox SOCKET_FD``) that imports the readers once and then forks one
  child per file, so a file costs a fork (milliseconds), not an interpreter start;
- the child sets its own limits (address space :data:`MEMORY_BYTES`, CPU seconds, and an
  alarm for wall-clock time), reads the file from the connection and answers JSON;
- the worker talks to it over a Unix socket, which gevent makes cooperative: the worker's
  streams go on while it waits, and up to :data:`MAX_PARALLEL` files are read side by side,
  so no user's file waits behind another one for longer than that file's time budget.

A dossier's files go the same way (:func:`inspect_isolated`, :func:`pages_isolated`): the
child answers a file's pages one JSON line at a time, its wall-clock alarm set again for
each page, so a 600-page file streams through in bounded memory and a page that hangs
(Tesseract included: :mod:`.ocr`) ends the child.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any, Iterator

from ..errors import ServiceUnavailable
from . import docx_reader, mail_reader, pages, pdf_reader
from . import budget as budget_module
from .budget import Budget
from .errors import DocumentError, too_large, unreadable

log = logging.getLogger(__name__)

# Files read at once by one worker; more wait (at most their own time budget) for a slot.
MAX_PARALLEL = 8
# Address space of a reading child: the interpreter, lxml and pypdf, and one file's text.
MEMORY_BYTES = 1024 * 1024 * 1024
# Beyond the file's own time budget: the fork, and the answer's way back.
MARGIN_SECONDS = 5.0
ROOT = Path(__file__).resolve().parents[2]

BUSY_MESSAGE = ("Trop de documents sont en cours de lecture sur ce serveur. "
                "Réessayez dans quelques instants.")
HEAVY_MESSAGE = ("Ce document demande trop de mémoire ou de temps pour être lu. "
                 "Envoyez un extrait ou une version plus courte.")

_state: dict[str, Any] = {"pid": None, "server": None, "address": None, "slots": None}
_state_lock = threading.Lock()


def start() -> None:
    """Start this process's reader server now (a gunicorn worker, once loaded), so the first
    upload does not wait for an interpreter to start."""
    _server()


def _server() -> tuple[str, threading.BoundedSemaphore]:
    """This process's reader server (started on first use, again after a fork or its death)."""
    with _state_lock:
        server = _state["server"]
        if _state["pid"] != os.getpid() or server is None or server.poll() is not None:
            address = f"\0plume-documents-{os.getpid()}-{uuid.uuid4().hex}"
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(address)
            listener.listen(64)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
                   "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
                   # Tesseract: one core per page; parallel pages are separate processes.
                   "OMP_THREAD_LIMIT": "1"}
            if "TESSDATA_PREFIX" in os.environ:
                env["TESSDATA_PREFIX"] = os.environ["TESSDATA_PREFIX"]
            _state["server"] = subprocess.Popen(
                [sys.executable, "-m", "backend.documents.sandbox", str(listener.fileno())],
                pass_fds=[listener.fileno()], cwd=ROOT, env=env, stdin=subprocess.DEVNULL)
            listener.close()  # the server holds it now
            _state.update(pid=os.getpid(), address=address,
                          slots=threading.BoundedSemaphore(MAX_PARALLEL))
        return _state["address"], _state["slots"]


def read_isolated(kind: str, data: bytes, filename: str, *, max_bytes: int, max_pages: int,
                  max_seconds: float, max_paragraphs: int) -> tuple[list[list[Any]], int | None]:
    """The blocks (``[text, kind, page]``) and page count of ``data``, read by a child process.

    Raises the child's :class:`DocumentError`; 413 when the child ran out of time or memory;
    503 when every slot stayed busy for the whole time budget.
    """
    address, slots = _server()
    if not slots.acquire(timeout=max_seconds):
        raise ServiceUnavailable(BUSY_MESSAGE, headers={"Retry-After": "5"},
                                 detail=f"{filename}: no free document reader")
    try:
        request = {"kind": kind, "filename": filename, "max_bytes": max_bytes,
                   "max_pages": max_pages, "max_seconds": max_seconds,
                   "max_paragraphs": max_paragraphs}
        return _ask(address, request, data)
    finally:
        slots.release()


def inspect_isolated(kind: str, data: bytes, filename: str, *, max_pages: int,
                     max_seconds: float) -> dict[str, Any]:
    """``{"pages", "ocr_pages"}`` of a dossier's file, from a child process."""
    address, slots = _server()
    if not slots.acquire(timeout=max_seconds):
        raise ServiceUnavailable(BUSY_MESSAGE, headers={"Retry-After": "5"},
                                 detail=f"{filename}: no free document reader")
    try:
        request = {"op": "inspect", "kind": kind, "filename": filename, "max_pages": max_pages,
                   "max_seconds": max_seconds, "max_paragraphs": budget_module.MAX_PARAGRAPHS}
        return _exchange(address, request, data)
    finally:
        slots.release()


def attachments_isolated(kind: str, data: bytes, filename: str, *, max_bytes: int,
                         max_seconds: float) -> list[tuple[str, bytes]]:
    """The files attached to a mail (.eml, .msg), from a child process."""
    address, slots = _server()
    if not slots.acquire(timeout=max_seconds):
        raise ServiceUnavailable(BUSY_MESSAGE, headers={"Retry-After": "5"},
                                 detail=f"{filename}: no free document reader")
    try:
        request = {"op": "attachments", "kind": kind, "filename": filename,
                   "max_bytes": max_bytes, "max_seconds": max_seconds,
                   "max_paragraphs": budget_module.MAX_PARAGRAPHS}
        answer = _exchange(address, request, data)
    finally:
        slots.release()
    return [(name, base64.b64decode(content)) for name, content in answer["attachments"]]


def pages_isolated(kind: str, data: bytes, filename: str, *, max_pages: int, start: int,
                   end: int | None, ocr: bool, workers: int, dpi: int,
                   page_seconds: float) -> Iterator[dict[str, Any]]:
    """The pages of a dossier's file (dicts of :class:`.pages.PageData`), one at a time,
    from a child process whose alarm allows ``page_seconds`` per page."""
    address, slots = _server()
    if not slots.acquire(timeout=page_seconds):
        raise ServiceUnavailable(BUSY_MESSAGE, headers={"Retry-After": "5"},
                                 detail=f"{filename}: no free document reader")
    request = {"op": "pages", "kind": kind, "filename": filename, "max_pages": max_pages,
               "start": start, "end": end, "ocr": ocr, "workers": workers, "dpi": dpi,
               "max_seconds": page_seconds, "max_paragraphs": budget_module.MAX_PARAGRAPHS}
    header = json.dumps(request).encode()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(page_seconds + MARGIN_SECONDS)
            try:
                conn.connect(address)
                # Two sends: the file is not copied to be prefixed.
                conn.sendall(struct.pack("!II", len(header), len(data)) + header)
                conn.sendall(data)
                conn.shutdown(socket.SHUT_WR)
                with conn.makefile("rb") as lines:
                    for line in lines:
                        message = json.loads(line)
                        if "error" in message:
                            raise _document_error(message["error"])
                        if message.get("end"):
                            return
                        yield message
            except socket.timeout:
                raise too_large(f"{filename}: reader gave no page in time",
                                HEAVY_MESSAGE) from None
            except OSError as exc:
                raise unreadable(f"{filename}: document reader unreachable: {exc}") from exc
        # The child was killed: its CPU limit, its alarm, or the address-space limit.
        raise too_large(f"{filename}: reader ended before the last page", HEAVY_MESSAGE)
    finally:
        slots.release()


def _document_error(error: dict[str, Any]) -> DocumentError:
    return DocumentError(error["message"], status=error["status"], code=error["code"],
                         detail=error["detail"])


def _ask(address: str, request: dict[str, Any], data: bytes) -> tuple[list[list[Any]], int | None]:
    result = _exchange(address, request, data)
    return result["blocks"], result["pages"]


def _exchange(address: str, request: dict[str, Any], data: bytes) -> dict[str, Any]:
    """Send one file, get one JSON answer; the child's DocumentError is raised here."""
    filename = request["filename"]
    header = json.dumps(request).encode()
    chunks: list[bytes] = []  # a mail's attachments come back in megabytes: joined once
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(request["max_seconds"] + MARGIN_SECONDS)
        try:
            conn.connect(address)
            conn.sendall(struct.pack("!II", len(header), len(data)) + header + data)
            conn.shutdown(socket.SHUT_WR)
            while chunk := conn.recv(1 << 16):
                chunks.append(chunk)
        except socket.timeout:
            raise too_large(f"{filename}: reader gave no answer in time", HEAVY_MESSAGE) from None
        except OSError as exc:
            raise unreadable(f"{filename}: document reader unreachable: {exc}") from exc
    answer = b"".join(chunks)
    if not answer:
        # The child was killed: its CPU limit, its alarm, or the address-space limit.
        raise too_large(f"{filename}: reader ended without an answer", HEAVY_MESSAGE)
    result = json.loads(answer)
    if "error" in result:
        raise _document_error(result["error"])
    return result


# --- the reader server and its children (run by ``python -m backend.documents.sandbox``) ---

def _recv_exact(conn: socket.socket, size: int) -> bytes:
    parts, left = [], size
    while left:
        chunk = conn.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("connection closed early")
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def parse(kind: str, data: bytes, filename: str, max_pages: int,
          work: Budget) -> tuple[list, int | None]:
    """The blocks of one file (and its pages, for a PDF), within ``work``'s budget."""
    if kind == "pdf":
        return pdf_reader.read(data, filename, max_pages=max_pages, budget=work)
    return docx_reader.read(data, filename, budget=work), None


def _error(err: DocumentError) -> dict[str, Any]:
    return {"error": {"status": err.status, "code": err.code, "message": err.message,
                      "detail": err.detail}}


def _child(conn: socket.socket) -> None:
    """One file: limits first, then read, answer and exit."""
    # The server ignores SIGCHLD; this child waits for its own programs (Tesseract).
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    header_size, data_size = struct.unpack("!II", _recv_exact(conn, 8))
    request = json.loads(_recv_exact(conn, header_size))
    seconds = int(request["max_seconds"]) + 2
    signal.alarm(seconds)  # wall-clock: default action ends the process
    op = request.get("op", "read")
    if op == "pages":
        # Its own CPU (pypdf, a Word file's XML) over the whole range; the alarm is per page.
        last = request["end"] or request["max_pages"]
        resource_limits(seconds * max(1, min(last, request["max_pages"]) - request["start"] + 1))
    else:
        resource_limits(seconds)
    data = _recv_exact(conn, data_size)
    budget = Budget(request["filename"], max_seconds=request["max_seconds"],
                    max_paragraphs=request["max_paragraphs"])
    if op == "pages":
        _child_pages(conn, request, data, budget, seconds)
        return
    try:
        if op == "inspect":
            answer = pages.inspect(request["kind"], data, request["filename"],
                                   request["max_pages"], budget)
            conn.sendall(json.dumps(answer).encode())
            return
        if op == "attachments":
            found = mail_reader.attachments(request["kind"], data, request["filename"],
                                            max_bytes=request["max_bytes"], budget=budget)
            conn.sendall(json.dumps({"attachments": [
                [name, base64.b64encode(content).decode()] for name, content in found]}).encode())
            return
        blocks, count = parse(request["kind"], data, request["filename"],
                              request["max_pages"], budget)
        answer: dict[str, Any] = {"blocks": [[b.text, b.kind, b.page] for b in blocks],
                                  "pages": count}
    except DocumentError as err:
        answer = _error(err)
    except MemoryError:
        answer = _error(too_large(f"{request['filename']}: out of memory in the reader",
                                  HEAVY_MESSAGE))
    conn.sendall(json.dumps(answer, ensure_ascii=False).encode())


def _child_pages(conn: socket.socket, request: dict[str, Any], data: bytes, budget: Budget,
                 seconds: int) -> None:
    """One JSON line per page, the alarm set again after each; then ``{"end": true}``.

    The worker closing its end (it stopped reading) ends this child at once, even while it
    waits for Tesseract: the socket then reports a hang-up."""
    hangup = select.poll()
    hangup.register(conn, select.POLLHUP | select.POLLERR)
    try:
        for page in pages.read(request["kind"], data, request["filename"],
                               max_pages=request["max_pages"], start=request["start"],
                               end=request["end"], use_ocr=request["ocr"],
                               workers=request["workers"], dpi=request["dpi"], work=budget,
                               abandoned=lambda: bool(hangup.poll(0))):
            conn.sendall(json.dumps(page._asdict(), ensure_ascii=False).encode() + b"\n")
            signal.alarm(seconds)
        answer: dict[str, Any] = {"end": True}
    except DocumentError as err:
        answer = _error(err)
    except MemoryError:
        answer = _error(too_large(f"{request['filename']}: out of memory in the reader",
                                  HEAVY_MESSAGE))
    conn.sendall(json.dumps(answer, ensure_ascii=False).encode() + b"\n")


def resource_limits(cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def serve(listener: socket.socket) -> None:
    """Fork one child per connection until the worker that started this server is gone."""
    # The readers, imported once here and shared by every child (copy-on-write).
    import email  # noqa: F401
    import docx  # noqa: F401
    import lxml.etree  # noqa: F401
    import pypdf  # noqa: F401

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    parent = os.getppid()
    listener.settimeout(1.0)
    while os.getppid() == parent:
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        if os.fork() == 0:
            listener.close()
            try:
                conn.settimeout(None)
                _child(conn)
            except BaseException:  # noqa: BLE001 - the parent sees no answer: refused
                pass
            finally:
                os._exit(0)
        conn.close()


if __name__ == "__main__":
    serve(socket.socket(fileno=int(sys.argv[1])))
