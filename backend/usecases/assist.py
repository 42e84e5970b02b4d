"""One assistance call, from a validated body to the server-sent events the panes read.

Events, in order: ``delta`` {"text"} (repeated), then ``fields`` (mail-summary) and
``sources`` {"sources", "flags"} (grounded drafts), then ``done`` {"interaction_id",
"usage", "model", "demo", "finish_reason"}; on failure ``error`` {"error", "message"}
instead of ``done``. A long document first sends ``progress`` {"done", "total",
"message"} while its parts are read.

Everything that can fail before the answer starts (unknown task, body, role, quota,
no host, every host down) fails before the first byte, as a JSON error with its status;
the first byte is the first token. The call is metered (:mod:`.metered`): the quota is
checked before the host is called, so a refused request never spends the host's capacity,
and the record opened at the start is finished on every path: ``ok``, ``error`` with its
code, or ``stopped`` when the client went away.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any, Generator, Iterator

from flask import Response
from flask.globals import request_ctx

from .. import llm
from ..auth import User, authorize_task
from ..errors import AppError, PayloadTooLarge
from ..llm.prompts import Fence, load
from ..llm.tokens import chars_for_tokens, estimate_messages
from ..llm.upstream import Completion, Gateway, StreamCut, UpstreamStream
from ..retrieval import check_citations, grounding_sources
from . import mail_thread, tasks
from .mail_fields import extract_fields
from .mapreduce import split_parts
from .metered import Call, metered
from .tasks import AssistRequest, Task

log = logging.getLogger(__name__)

SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
MAX_PARTS = 100
# Room left in the window for the chat template and the estimate's error.
SAFETY_TOKENS = 256
MAP_OUTPUT_TOKENS = 600
FIELDS_OUTPUT_TOKENS = 800
FIELDS_PROMPT_TOKENS = 600     # the fields prompt's own instructions, roughly
MIN_FIELDS_MAIL_TOKENS = 256   # a tiny context still gets the start of the mail
GROUNDING_SOURCES = 6
GROUNDING_QUERY_CHARS = 1500


# Built once: json.dumps with options builds an encoder at every call (one per token here).
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


# A JSON string literal, as that encoder writes it (the C function it calls for strings).
_string = json.encoder.encode_basestring


def sse(event: str, data: dict[str, Any]) -> bytes:
    """One server-sent event; JSON on one line, so no ``data:`` continuation is needed."""
    return f"event: {event}\ndata: {_encode(data)}\n\n".encode()


def _delta(text: str) -> bytes:
    """``sse("delta", {"text": text})``, the event sent for every token, written directly:
    the encoder's Python layers cost more than the string itself."""
    return f'event: delta\ndata: {{"text":{_string(text)}}}\n\n'.encode()


def _public(err: AppError) -> dict[str, str]:
    return {"error": err.code, "message": err.message}


class AssistRun:
    """The state of one assistance call; :meth:`events` produces its stream."""

    def __init__(self, gateway: Gateway, request: AssistRequest, user: User, call: Call):
        self.gateway = gateway
        self.request = request
        self.task: Task = request.task
        self.user = user
        self.call = call
        self.fence = Fence()
        self.model = gateway.model_for(self.task.name)
        self.cancel = threading.Event()
        self.streams: list[UpstreamStream] = []
        self.started = False          # an event has been handed to the server
        self.sources: list[dict[str, Any]] = []
        self.finish_reason: str | None = None
        self.host: str | None = None
        self.pieces = 0
        self.finished = False
        self.began = time.perf_counter()
        self._plan()

    # Before the first byte --------------------------------------------------------
    def _plan(self) -> None:
        """Choose one call or map-reduce, and refuse what cannot fit (413)."""
        gw, task = self.gateway, self.task
        self.context = gw.context_tokens(self.model)
        self.max_output = gw.max_output_tokens(self.model)
        # Partial summaries and the fields call never ask for more than the configured cap:
        # small models write up to the limit they are given.
        self.map_output = min(MAP_OUTPUT_TOKENS, self.max_output)
        self.fields_output = min(FIELDS_OUTPUT_TOKENS, self.max_output)
        sources_block = self._ground() if task.name == "draft" else ""
        self.messages = tasks.messages(self.request, self.fence, sources=sources_block)
        self.parts: list[str] = []
        if estimate_messages(self.messages) + self.max_output + SAFETY_TOKENS <= self.context:
            return
        if not task.long_inputs:
            room = self.context - self.max_output - SAFETY_TOKENS - estimate_messages(
                tasks.messages(self.request, self.fence, document="", sources=sources_block))
            raise PayloadTooLarge(
                f"Le texte est trop long pour le modèle « {self.model} » : environ "
                f"{max(0, chars_for_tokens(room)) // 6} mots au plus. Raccourcissez-le.",
                code="texte_trop_long", detail="input exceeds the model context")
        overhead = estimate_messages(tasks.messages(self.request, self.fence, prompt_name="map",
                                                    document="", part=MAX_PARTS, parts=MAX_PARTS))
        part_tokens = self.context - self.map_output - overhead - SAFETY_TOKENS
        self.parts = split_parts(self.request.document(), part_tokens)
        if len(self.parts) > MAX_PARTS:
            raise PayloadTooLarge(f"Le document est trop long pour être résumé ({len(self.parts)} parties, "
                                  f"{MAX_PARTS} au plus pour ce modèle).", code="texte_trop_long",
                                  detail=f"{len(self.parts)} parts")

    def _ground(self) -> str:
        """Sources for a draft, from the case-law index the user may see."""
        query = f"{self.request.instructions}\n{self.request.text}"[:GROUNDING_QUERY_CHARS]
        self.sources = list(grounding_sources(query, self.user, k=GROUNDING_SOURCES) or [])
        if not self.sources:
            return ""
        self.call.update(source_ids=[s.get("passage_id") for s in self.sources])
        return "\n\n".join(self.fence.wrap(f"source [{s['n']}]",
                                           f"[{s['n']}] {s.get('citation', '')}\n{s.get('text', '')}")
                           for s in self.sources)

    # The stream -------------------------------------------------------------------
    def events(self) -> Generator[bytes, None, None]:
        """The event stream. Its first ``next()`` waits for the first token (or fails)."""
        outcome, code = "error", "erreur_interne"
        fields_future: Future | None = None
        try:
            if self.task.name == "mail-summary":
                fields_future = self._start_fields()
            if self.parts:
                yield from self._long_document()
            else:
                yield from self._relay(self._open(self.messages))
            if fields_future is not None:
                self.started = True
                yield sse("fields", self._fields(fields_future))
            if self.sources:
                self.started = True
                yield sse("sources", self._sources_event())
            self.started = True
            done = {"interaction_id": self.call.id, "usage": self.usage(), "model": self.model,
                    "demo": bool(self.gateway.config.get("LLM_DEMO")), "finish_reason": self.finish_reason}
            # The record is complete before the pane learns the interaction id (it may send
            # feedback on it at once).
            self._finish("ok", None)
            yield sse("done", done)
        except GeneratorExit:
            outcome, code = "stopped", None
            raise
        except StreamCut as cut:
            log.warning("assist stream cut", extra={"task": self.task.name, "error": cut.code,
                                                    "detail": cut.detail})
            self._finish("error", cut.code)
            yield sse("error", {"error": cut.code, "message": cut.message})
        except AppError as err:
            code = err.code
            if not self.started:
                raise
            self._finish("error", err.code)
            yield sse("error", _public(err))
        except Exception:
            if not self.started:
                raise
            log.exception("assist stream failed", extra={"task": self.task.name})
            self._finish("error", AppError.code)
            yield sse("error", _public(AppError()))
        finally:
            self._finish(outcome, code)

    def _open(self, messages: list[dict[str, str]]) -> UpstreamStream:
        stream = self.gateway.open_stream(self.task.name, messages, max_tokens=self.max_output)
        self.streams.append(stream)
        self.host = stream.host.label
        self.model = stream.model
        return stream

    def _relay(self, stream: UpstreamStream) -> Iterator[bytes]:
        """Each piece of text goes out as soon as it arrives."""
        try:
            for piece in stream.pieces():
                if not self.pieces:
                    self.call.first_token()
                self.pieces += 1
                self.started = True
                yield _delta(piece)
        finally:
            stream.close()
            self.call.charge(stream.usage())
        self.finish_reason = stream.finish_reason

    def _complete(self, messages: list[dict[str, str]], max_tokens: int) -> Completion:
        """A background call (map step, fields) sharing this run's cancellation."""
        completion = self.gateway.complete(self.task.name, messages, max_tokens=max_tokens,
                                           cancel=self.cancel)
        self.call.charge(completion.usage)
        return completion

    def _long_document(self) -> Iterator[bytes]:
        """Map the parts (bounded parallelism), reduce, then stream the final summary."""
        total = len(self.parts)
        self.started = True
        yield sse("progress", {"done": 0, "total": total,
                               "message": f"Document long : lecture en {total} parties…"})
        summaries = yield from self._map(self.parts, "map", "Lecture")
        while True:
            combined = "\n\n".join(f"Partie {n} :\n{s}" for n, s in enumerate(summaries, 1))
            messages = tasks.messages(self.request, self.fence, prompt_name="reduce",
                                      document=combined, parts=total)
            if len(summaries) == 1 or estimate_messages(messages) + self.max_output + SAFETY_TOKENS \
                    <= self.context:
                break
            # Partial summaries still too long together: merge them in groups first.
            budget = self.context - self.max_output - SAFETY_TOKENS - estimate_messages(
                tasks.messages(self.request, self.fence, prompt_name="reduce", document="", parts=total))
            groups = split_parts("\n\n".join(summaries), max(budget, 200))
            if len(groups) >= len(summaries):
                groups = ["\n\n".join(summaries[i:i + 2]) for i in range(0, len(summaries), 2)]
            summaries = yield from self._map(groups, "reduce", "Synthèse")
        self.call.update(parts=total)
        yield from self._relay(self._open(messages))

    def _map(self, parts: list[str], prompt_name: str, step: str) -> Generator[bytes, None, list[str]]:
        total = len(parts)
        results: list[str] = [""] * total
        window = self.gateway.config["LLM_MAP_CONCURRENCY"]
        executor = self.gateway.executor
        pending: dict[Future, int] = {}
        queued = iter(enumerate(parts))
        done = 0

        def submit_next() -> None:
            for index, part in queued:
                messages = tasks.messages(self.request, self.fence, prompt_name=prompt_name,
                                          document=part, part=index + 1, parts=total)
                pending[executor.submit(self._complete, messages, self.map_output)] = index
                return

        try:
            for _ in range(window):
                submit_next()
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    results[pending.pop(future)] = future.result().text
                    done += 1
                    submit_next()
                yield sse("progress", {"done": done, "total": total,
                                       "message": f"{step} : partie {done} sur {total}"})
        finally:
            for future in pending:
                future.cancel()
            if pending:
                self.cancel.set()
        return results

    def _start_fields(self) -> Future:
        budget = max(self.context - self.fields_output - SAFETY_TOKENS - FIELDS_PROMPT_TOKENS,
                     MIN_FIELDS_MAIL_TOKENS)
        mail = self.request.document()[:chars_for_tokens(budget)]
        messages = tasks.messages(self.request, self.fence, prompt_name="mail-fields", document=mail)
        return self.gateway.executor.submit(self._complete, messages, self.fields_output)

    def _fields(self, future: Future) -> dict[str, Any]:
        try:
            answer = future.result().text
        except AppError as err:
            log.warning("mail fields call failed", extra={"error": err.code, "detail": err.detail})
            return {"parties": [], "case_numbers": [], "dates": [], "requested_action": None,
                    "complete": False, "error": err.code,
                    "message": "Les informations structurées n'ont pas pu être extraites : " + err.message}
        return extract_fields(answer, self.request.document())

    def _sources_event(self) -> dict[str, Any]:
        text = "".join(s.text for s in self.streams)
        flags = list(check_citations(text, self.sources))
        return {"sources": self.sources, "flags": flags}

    # Bookkeeping ------------------------------------------------------------------
    def usage(self) -> dict[str, Any]:
        return self.call.usage()

    def _finish(self, outcome: str, code: str | None) -> None:
        """Close every upstream call, finish the record (its tokens charged with it), log
        one line (once: the first outcome wins)."""
        if self.finished:
            return
        self.finished = True
        self.cancel.set()
        for stream in self.streams:
            stream.close()
        usage = self.usage()
        self.call.update(model=self.model, host=self.host, prompt_version=load(self.task.name).id)
        self.call.finish(outcome, code)
        if not log.isEnabledFor(logging.INFO):
            return
        log.info("assist finished", extra={
            "task": self.task.name, "outcome": outcome, "error_code": code, "model": self.model,
            "host": self.host, "pieces": self.pieces, "parts": len(self.parts),
            "duration_ms": round((time.perf_counter() - self.began) * 1000, 1),
            "usage": usage, "interaction_id": self.call.id})


def _event_stream(first: bytes, events: Generator[bytes, None, None]) -> Response:
    """The response relaying ``events`` inside this request's context.

    Like :func:`flask.stream_with_context`, with one difference that matters: the wrapper
    is primed *inside* its ``try``, so a server that closes the response without ever
    iterating it (the client left during the first token) still closes ``events`` — which
    closes the host connection and finishes the audit record.
    """
    context = request_ctx._get_current_object()  # type: ignore[attr-defined]

    def relay() -> Iterator[bytes]:
        with context:
            try:
                yield b""
                yield first
                yield from events
            finally:
                events.close()

    body = relay()
    next(body)
    # Passed through: the events are bytes already and ``relay`` closes itself, so
    # werkzeug's wrapper (re-yielding each event, checking its type) is not needed.
    return Response(body, mimetype="text/event-stream", headers=SSE_HEADERS,
                    direct_passthrough=True)


def _metered_events(user: User, request: AssistRequest) -> Generator[bytes, None, None]:
    """The answer's events inside one metered call: the record ends with the stream."""
    with metered(user, "assist", request.task.name) as call:
        # Admitted first: a refused user must not spend the sovereign host's capacity,
        # not even for one cancelled request.
        thread = mail_thread.conversation_text(request.options.get("conversation_id", ""))
        if thread:
            request.text = thread  # the whole conversation instead of what the mail quotes
        run = AssistRun(llm.gateway(), request, user, call)
        yield from run.events()


def stream_response(task_name: str, body: Any) -> Response:
    """``POST /api/v1/assist/<task>``: check everything, wait for the first token, stream."""
    task = tasks.get(task_name)
    user = authorize_task(task_name)  # before the body is read: 403 comes before 400
    request = tasks.validate(task, body)
    events = _metered_events(user, request)
    first = next(events)
    return _event_stream(first, events)

