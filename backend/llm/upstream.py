"""The one way Plume talks to an OpenAI-compatible host: retries, fallback, deadlines, usage.

Where failures are handled, and why there::

    open_stream()
    ├── before the first token: connect errors, 429 (Retry-After), 502/503/504 are retried
    │   with exponential backoff and jitter, then the fallback host is tried. Nothing has
    │   reached the user yet, so a retry cannot duplicate text; the caller turns the final
    │   failure into a JSON error (502/503/504) before the first byte of its response.
    └── after the first token: never retried (the user already reads the answer). A cut,
        a silence, a garbled chunk or the total deadline raise :class:`StreamCut`, which
        the caller sends as an ``error`` event after the text already shown.

The OpenAI SDK is built with ``max_retries=0`` so that these rules are the only ones.
"""
from __future__ import annotations

import email.utils
import itertools
import json
import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, TypeVar

import httpx2
import openai

from ..errors import AppError, NotConfigured, UpstreamError
from .tokens import estimate_messages, estimate_tokens
from .transport import LeanTransport
from .watchdog import Watch, Watchdog

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRYABLE_STATUSES = {429, 502, 503, 504}
# Statuses that say the request itself is wrong: another host would refuse it as well.
REQUEST_REJECTED = {400, 413, 422}
# Threads for calls made on behalf of a stream (map steps, mail fields), shared per process.
BACKGROUND_WORKERS = 32
NOT_CONFIGURED_MESSAGE = ("Aucun service d'IA n'est configuré sur ce serveur. L'administrateur doit "
                          "renseigner PLUME_LLM_BASE_URL (adresse de l'hôte compatible OpenAI).")


class StreamCut(Exception):
    """A stream failed after its first token; ``message`` is the French sentence to show."""

    def __init__(self, code: str, message: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.message = message
        self.detail = detail


class _Failure(Exception):
    """One failed attempt: what the user would be told, and whether to retry or fall back."""

    def __init__(self, error: AppError, *, retry: bool, fallback: bool,
                 retry_after: float | None = None):
        super().__init__(error.detail or error.code)
        self.error = error
        self.retry = retry
        self.fallback = fallback
        self.retry_after = retry_after


@dataclass(frozen=True)
class Host:
    """One OpenAI-compatible host; ``label`` is what logs and audit records name it."""

    label: str
    base_url: str
    client: openai.OpenAI
    model: str | None = None  # the fallback host's own model name, if it differs
    # The streamed chat request, built once: the SDK's client (its HTTP client, headers and
    # key) without its per-request layers (see :meth:`Gateway._post_chat`): the HTTP
    # client's headers merged with the SDK's, its timeouts, the URL parsed.
    http: httpx2.Client | None = field(default=None, compare=False)
    chat_url: httpx2.URL | None = field(default=None, compare=False)
    headers: httpx2.Headers | None = field(default=None, compare=False)
    timeout: dict[str, float | None] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, label: str, base_url: str, client: openai.OpenAI, http: httpx2.Client,
           model: str | None = None) -> "Host":
        headers = httpx2.Headers(http.headers)
        headers.update({name: value for name, value in {**client.default_headers,
                                                        **client.auth_headers}.items()
                        if isinstance(value, str)})
        return cls(label, base_url, client, model, http,
                   httpx2.URL(str(client.base_url).rstrip("/") + "/chat/completions"), headers,
                   http.timeout.as_dict())


@dataclass
class Completion:
    """A whole answer (non-streaming use: map steps, structured fields, other rooms)."""

    text: str
    model: str
    host: str
    usage: dict[str, Any]
    finish_reason: str | None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


_decode = json.JSONDecoder().decode
_scan_once = json.JSONDecoder().scan_once


def _decode_event(text: str) -> Any:
    """``json.loads`` of one event's data through the C scanner itself: the decoder's
    Python wrapper (two regular expressions around the scan) costs as much as the scan on
    a chunk this small. Anything but one JSON value filling the text (spaces around it,
    trailing data, not JSON) goes to the full decoder, which decides (``ValueError``)."""
    try:
        value, end = _scan_once(text, 0)
    except StopIteration:
        return _decode(text)
    return value if end == len(text) else _decode(text)


class ChatStream(openai.Stream[object]):
    """The host's server-sent events as plain dicts, read to the very end of the body.

    The SDK's own stream class stops at ``data: [DONE]`` and closes the response before
    the body's last chunk, so the connection can never go back to the pool and every
    answer pays a new TCP (and TLS) connection; it also builds an object per line. This
    one reads whole events straight from the bytes, keeps the SDK's rule that a ``data``
    carrying ``error`` is an :class:`openai.APIError`, and drains the body after
    ``[DONE]`` so the connection is reused.
    """

    def __iter__(self) -> Iterator[Any]:
        return self._iterator  # the events themselves, not the SDK's loop re-yielding them

    def __stream__(self) -> Iterator[Any]:
        response = self.response
        buffer = b""
        finished = False
        # A body sent compressed goes through the client's decoder; else the bytes as the
        # transport hands them over (``iter_raw`` would only re-yield them, chunk by chunk).
        chunks = response.iter_bytes() if "content-encoding" in response.headers else response.stream
        try:
            for data in chunks:
                if finished:
                    continue  # drain what follows [DONE]: the end of the chunked body
                if not buffer and data.startswith(b"data: ") and len(data) > 8 \
                        and data.find(b"\n") == len(data) - 2 and data.endswith(b"\n\n") \
                        and not data.startswith(b"data: [DONE]"):
                    # What a host sends for each token: one event of one data line, alone.
                    chunk = _decode_event(data[6:-2].decode())
                    if isinstance(chunk, dict) and chunk.get("error"):
                        self._raise_error(chunk["error"])
                    yield chunk
                    continue
                buffer += data
                if b"\n\n" not in buffer and b"\r\n\r\n" not in buffer:
                    continue
                if b"\r" in buffer:
                    buffer = buffer.replace(b"\r\n", b"\n")
                *events, buffer = buffer.split(b"\n\n")
                for event in events:
                    if event.startswith(b"data: ") and b"\n" not in event:
                        payload = event[6:]  # the usual event: one data line
                    else:
                        payload = b"\n".join(line[5:].lstrip(b" ") for line in event.split(b"\n")
                                             if line.startswith(b"data:"))
                    if not payload:
                        continue  # a comment (keep-alive) or an event without data
                    if payload.startswith(b"[DONE]"):
                        finished = True
                        break
                    chunk = _decode_event(payload.decode())
                    if isinstance(chunk, dict) and chunk.get("error"):
                        self._raise_error(chunk["error"])
                    yield chunk
        finally:
            response.close()

    def _raise_error(self, error: Any) -> None:
        """An event carrying ``error``: the SDK's :class:`openai.APIError`."""
        message = error.get("message") if isinstance(error, dict) else None
        raise openai.APIError(message if isinstance(message, str) else
                              "An error occurred during streaming",
                              request=self.response.request, body=error)


class UpstreamStream:
    """An open streamed answer whose first token has arrived.

    Iterate :meth:`pieces` for the text as it comes; :meth:`close` releases the host
    connection at once (the client went away, or the caller is done).
    """

    def __init__(self, gateway: "Gateway", sdk_stream: Any, watch: Watch, host: Host, model: str,
                 deadline: float, prompt_tokens: int):
        self._gateway = gateway
        self._sdk_stream = sdk_stream
        self._chunks = iter(sdk_stream)
        self._watch = watch
        self._deadline = deadline
        self.host = host
        self.model = model
        self.prompt_estimate = prompt_tokens
        self.parts: list[str] = []
        self.reported_usage: dict[str, int] | None = None
        self.finish_reason: str | None = None
        self.chunks = 0
        self._first: str | None = None
        self._closed = False

    # Reading -----------------------------------------------------------------------
    def _next_piece(self) -> str | None:
        """The next non-empty text piece, or None at the end of the answer."""
        policy = self._gateway.policy
        while True:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self._check_end()
                return None
            except (openai.APIError, httpx2.HTTPError, ValueError) as err:
                raise self._cut(err) from None
            self.chunks += 1
            try:
                piece = self._read_chunk(chunk)
            except (AttributeError, TypeError, KeyError, ValueError) as err:
                raise self._cut(err) from None
            if piece or self.parts:
                # From the first token on, the deadline is the next chunk (or the total);
                # before it, role-only chunks and keep-alives do not reset the first-token one.
                silence = time.monotonic() + policy.chunk
                if silence < self._deadline:
                    self._watch.arm(silence, "chunk")
                else:
                    self._watch.arm(self._deadline, "total")
            if piece:
                self.parts.append(piece)
                return piece

    def _read_chunk(self, chunk: dict[str, Any]) -> str:
        """The text of one ``chat.completion.chunk`` (and its usage and finish reason)."""
        usage = chunk.get("usage")
        if usage and usage.get("prompt_tokens") is not None:
            self.reported_usage = {"prompt_tokens": int(usage["prompt_tokens"]),
                                   "completion_tokens": int(usage.get("completion_tokens") or 0)}
        text = ""
        for choice in chunk.get("choices") or ():
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
            content = (choice.get("delta") or {}).get("content")
            if content:
                if not isinstance(content, str):
                    raise TypeError("delta content is not text")
                text += content
        return text

    def _check_end(self) -> None:
        if self._watch.fired:
            raise self._cut(None)
        if self.finish_reason is None:
            # The host closed the stream cleanly but never said the answer was over.
            raise StreamCut("reponse_interrompue",
                            "La réponse du service d'IA s'est arrêtée avant la fin. Le texte déjà "
                            "affiché est conservé, mais il est incomplet.",
                            "stream ended without a finish_reason")

    def _cut(self, err: BaseException | None) -> StreamCut:
        policy = self._gateway.policy
        fired = self._watch.fired
        detail = f"{type(err).__name__}: {err}" if err is not None else "deadline"
        if fired == "first_token":
            return StreamCut("delai_depasse",
                             f"Le service d'IA n'a pas commencé à répondre dans le délai prévu "
                             f"({policy.first_token:g} s).", "first-token timeout; " + detail)
        if fired == "chunk":
            return StreamCut("delai_depasse",
                             f"Le service d'IA ne répond plus depuis {policy.chunk:g} secondes. Le texte "
                             "déjà affiché est conservé, mais il est incomplet.",
                             "inter-chunk timeout; " + detail)
        if fired == "total":
            return StreamCut("delai_depasse",
                             f"La réponse a dépassé la durée maximale de {policy.total:g} secondes. Le "
                             "texte déjà affiché est conservé, mais il est incomplet.",
                             "total timeout; " + detail)
        if isinstance(err, (ValueError, AttributeError, TypeError, KeyError)):
            return StreamCut("reponse_illisible",
                             "Le service d'IA a envoyé une réponse illisible. Le texte déjà affiché "
                             "est conservé, mais il est incomplet.", "malformed stream; " + detail)
        if isinstance(err, openai.APIError) and not isinstance(err, openai.APIConnectionError):
            return StreamCut("erreur_amont",
                             "Le service d'IA a signalé une erreur pendant la réponse. Le texte déjà "
                             "affiché est conservé, mais il est incomplet.", "error event; " + detail)
        return StreamCut("coupure_amont",
                         "La connexion avec le service d'IA a été coupée pendant la réponse. Le texte "
                         "déjà affiché est conservé, mais il est incomplet.", "connection lost; " + detail)

    def wait_first(self) -> None:
        """Read up to the first text (or the end of an empty answer)."""
        self._first = self._next_piece()

    def pieces(self) -> Iterator[str]:
        """The answer's text pieces, each as soon as the host sends it."""
        if self._first:
            yield self._first
        self._first = None
        while (piece := self._next_piece()) is not None:
            yield piece

    # Results -----------------------------------------------------------------------
    @property
    def text(self) -> str:
        return "".join(self.parts)

    def usage(self) -> dict[str, Any]:
        """Tokens of this call: as reported by the host, or estimated when it did not say."""
        if self.reported_usage is not None:
            usage = dict(self.reported_usage)
            estimated = False
        else:
            usage = {"prompt_tokens": self.prompt_estimate,
                     "completion_tokens": estimate_tokens(self.text)}
            estimated = True
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        usage["estimated"] = estimated
        return usage

    def close(self) -> None:
        """Release the host connection now (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._watch.release()
        try:
            self._sdk_stream.close()
        except Exception:  # noqa: BLE001 - closing must never fail the caller
            log.debug("closing upstream stream failed", exc_info=True)


@dataclass(frozen=True)
class Policy:
    """Retries and deadlines, from the settings."""

    retries: int
    backoff: float
    retry_after_max: float
    connect: float
    first_token: float
    chunk: float
    total: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Policy":
        return cls(retries=config["LLM_RETRIES"], backoff=config["LLM_BACKOFF_SECONDS"],
                   retry_after_max=config["LLM_RETRY_AFTER_MAX_SECONDS"],
                   connect=config["LLM_TIMEOUT_CONNECT"], first_token=config["LLM_TIMEOUT_FIRST_TOKEN"],
                   chunk=config["LLM_TIMEOUT_CHUNK"], total=config["LLM_TIMEOUT_TOTAL"])

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds before retry number ``attempt + 1``; None when not worth waiting."""
        if retry_after is not None and retry_after > self.retry_after_max:
            return None
        step = self.backoff * (2 ** attempt)
        jittered = step / 2 + random.uniform(0, step / 2)
        return max(jittered, retry_after or 0.0)


class Gateway:
    """The configured hosts of one application, and the rules for calling them."""

    def __init__(self, config: Mapping[str, Any]):
        if not config.get("LLM_BASE_URL") and not config.get("LLM_TRANSCRIPTION_BASE_URL"):
            raise NotConfigured(NOT_CONFIGURED_MESSAGE, detail="PLUME_LLM_BASE_URL is not set")
        self.config = config
        self.policy = Policy.from_config(config)
        self.watchdog = Watchdog()
        # Only a speech-to-text host (the embedded one, no generation host): no generation hosts.
        self.hosts = [Host.of("principal", config["LLM_BASE_URL"],
                              *self._client(config["LLM_BASE_URL"], config.get("LLM_API_KEY")))
                      ] if config.get("LLM_BASE_URL") else []
        # Speech-to-text goes to its own host when one is set (the embedded Whisper, or a
        # sovereign host other than the generation one), else to the generation hosts.
        self.speech_hosts = ([Host.of("transcription", config["LLM_TRANSCRIPTION_BASE_URL"],
                                      *self._client(config["LLM_TRANSCRIPTION_BASE_URL"],
                                                    config.get("LLM_TRANSCRIPTION_API_KEY")))]
                             if config.get("LLM_TRANSCRIPTION_BASE_URL") else self.hosts)
        if config.get("LLM_BASE_URL") and config.get("LLM_FALLBACK_BASE_URL"):
            self.hosts.append(Host.of("secours", config["LLM_FALLBACK_BASE_URL"],
                                      *self._client(config["LLM_FALLBACK_BASE_URL"],
                                                    config.get("LLM_FALLBACK_API_KEY")),
                                      model=config.get("LLM_FALLBACK_MODEL")))
        self._discovered: dict[str, str] = {}
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    @property
    def executor(self) -> ThreadPoolExecutor:
        """Threads for the calls a stream makes besides its own (bounded per request by the
        caller, per process here)."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(BACKGROUND_WORKERS, thread_name_prefix="plume-llm")
            return self._executor

    def close(self) -> None:
        """Release the hosts' connection pools (tests, shutdown)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        for host in {id(h): h for h in [*self.hosts, *self.speech_hosts]}.values():
            host.client.close()

    def _client(self, base_url: str, api_key: str | None) -> tuple[openai.OpenAI, httpx2.Client]:
        policy = self.policy
        timeout = httpx2.Timeout(connect=policy.connect,
                                 # A backstop only: the watchdog enforces the tighter deadlines.
                                 read=max(policy.first_token, policy.chunk) + 1,
                                 write=max(policy.connect, policy.first_token), pool=policy.connect)
        http_client = openai.DefaultHttpx2Client(
            timeout=timeout,
            # Every open stream holds a connection; the default cap (100) would queue them
            # (these limits apply to a proxy's transport; the hosts' own is the lean one).
            limits=httpx2.Limits(max_connections=None, max_keepalive_connections=64),
            follow_redirects=False,  # a redirect could lead to another host
            transport=LeanTransport(),
        )
        # Local hosts (llama.cpp, vLLM) often need no key, but the SDK wants one.
        return openai.OpenAI(base_url=base_url, api_key=api_key or "sans-cle", max_retries=0,
                             timeout=timeout, http_client=http_client), http_client

    # Models ------------------------------------------------------------------------
    def model_for(self, task: str, host: Host | None = None) -> str:
        """The model of ``task`` on ``host`` (the principal host by default)."""
        if host is None and not self.hosts:
            raise NotConfigured(NOT_CONFIGURED_MESSAGE, detail="PLUME_LLM_BASE_URL is not set")
        host = host or self.hosts[0]
        if host.model:
            return host.model
        configured = self.config["LLM_TASK_MODELS"].get(task) or self.config.get("LLM_MODEL")
        return configured or self._discover(host)

    def _discover(self, host: Host) -> str:
        """The host's first listed model, when none is configured (llama.cpp serves one)."""
        with self._lock:
            if host.label in self._discovered:
                return self._discovered[host.label]
        try:
            models = host.client.models.list(timeout=self.policy.connect + 5)
            first = next(iter(models.data), None)
        except openai.APIError as err:
            raise UpstreamError(detail=f"listing models on {host.label} failed: {err}") from None
        if first is None:
            raise NotConfigured("Le service d'IA ne propose aucun modèle. L'administrateur doit "
                                "renseigner PLUME_LLM_MODEL.", detail="host lists no model")
        with self._lock:
            self._discovered[host.label] = first.id
        return first.id

    def context_tokens(self, model: str) -> int:
        return int(self.config["LLM_MODEL_CONTEXT"].get(model, self.config["LLM_CONTEXT_TOKENS"]))

    def max_output_tokens(self, model: str) -> int:
        """The answer budget: the setting, but never more than a quarter of the context."""
        return min(self.config["LLM_MAX_OUTPUT_TOKENS"], self.context_tokens(model) // 4)

    def open_streams(self) -> int:
        return self.watchdog.open_count()

    # Calls -------------------------------------------------------------------------
    def open_stream(self, task: str, messages: list[dict[str, str]], *,
                    max_tokens: int | None = None, temperature: float = 0.2) -> UpstreamStream:
        """Start a streamed answer and wait for its first token (retrying and falling back
        before it). Raises an :class:`AppError` (502/503/504) when no host answers."""
        deadline = time.monotonic() + self.policy.total
        prompt_tokens = estimate_messages(messages)

        def attempt(host: Host) -> UpstreamStream:
            model = self.model_for(task, host)
            return self._open_once(host, model, messages, deadline, prompt_tokens,
                                   max_tokens or self.max_output_tokens(model), temperature)

        return self._with_retries(attempt, deadline, task)

    def complete(self, task: str, messages: list[dict[str, str]], *, max_tokens: int | None = None,
                 temperature: float = 0.2, cancel: threading.Event | None = None) -> Completion:
        """The whole answer at once, with the same retries, fallback and deadlines.

        A failure mid-answer raises :class:`UpstreamError` (its message in French);
        ``cancel`` set by another thread closes the call at the next chunk.
        """
        if cancel is not None and cancel.is_set():  # a sibling call already failed: do not start
            raise UpstreamError("La demande a été annulée.", code="annule",
                                detail="cancelled before the call started")
        stream = self.open_stream(task, messages, max_tokens=max_tokens, temperature=temperature)
        try:
            for _ in stream.pieces():
                if cancel is not None and cancel.is_set():
                    raise UpstreamError("La demande a été annulée.", code="annule",
                                        detail="cancelled by the caller")
        except StreamCut as cut:
            raise UpstreamError(cut.message, code=cut.code, detail=cut.detail) from None
        finally:
            stream.close()
        return Completion(text=stream.text, model=stream.model, host=stream.host.label,
                          usage=stream.usage(), finish_reason=stream.finish_reason)

    def transcribe(self, data: bytes, filename: str, content_type: str, *,
                   language: str | None, words: bool = False) -> tuple[dict[str, Any], str, str]:
        """Proxy one audio file to ``/audio/transcriptions``; returns (result, model, host).
        ``words``: ask each word's time too (hosts that have none answer segments only)."""
        model = self.config.get("LLM_TRANSCRIPTION_MODEL")
        if not model:
            raise NotConfigured("La transcription n'est pas configurée sur ce serveur. L'administrateur "
                                "doit renseigner PLUME_LLM_TRANSCRIPTION_MODEL.",
                                detail="PLUME_LLM_TRANSCRIPTION_MODEL is not set")
        deadline = time.monotonic() + self.policy.total

        def attempt(host: Host) -> tuple[dict[str, Any], str, str]:
            timeout = httpx2.Timeout(connect=self.policy.connect, read=self.policy.total,
                                     write=self.policy.total, pool=self.policy.connect)
            extra = {"language": language} if language else {}
            try:
                raw = host.client.audio.transcriptions.with_raw_response.create(
                    file=(filename, data, content_type), model=model,
                    response_format="verbose_json",
                    timestamp_granularities=["word", "segment"] if words else ["segment"],
                    timeout=timeout, **extra)
            except openai.APIStatusError as err:
                raise self._status_failure(err, model) from None
            except openai.APIConnectionError as err:
                raise self._connection_failure(err) from None
            try:
                body = raw.http_response.json()
            except ValueError:
                # Some hosts answer verbose_json requests with plain text.
                body = {"text": raw.http_response.text}
            if not isinstance(body, dict) or not isinstance(body.get("text"), str):
                raise _Failure(UpstreamError(detail="transcription answer without text"),
                               retry=False, fallback=True)
            return body, model, host.label

        return self._with_retries(attempt, deadline, "transcribe", self.speech_hosts)

    # Internals ---------------------------------------------------------------------
    def _with_retries(self, attempt: Callable[[Host], T], deadline: float, task: str,
                      hosts: list[Host] | None = None) -> T:
        failure: _Failure | None = None
        hosts = self.hosts if hosts is None else hosts
        if not hosts:
            raise NotConfigured(NOT_CONFIGURED_MESSAGE, detail="PLUME_LLM_BASE_URL is not set")
        for host in hosts:
            for number in itertools.count():
                try:
                    return attempt(host)
                except _Failure as caught:
                    failure = caught
                log.warning("upstream attempt failed", extra={
                    "host": host.label, "task": task, "attempt": number + 1,
                    "error": failure.error.code, "detail": failure.error.detail})
                if not failure.retry or number >= self.policy.retries:
                    break
                delay = self.policy.delay(number, failure.retry_after)
                if delay is None or time.monotonic() + delay >= deadline:
                    break
                time.sleep(delay)
            if not failure.fallback or time.monotonic() >= deadline:
                break
        assert failure is not None
        raise failure.error

    def _open_once(self, host: Host, model: str, messages: list[dict[str, str]], deadline: float,
                   prompt_tokens: int, max_tokens: int, temperature: float) -> UpstreamStream:
        started = time.monotonic()
        body = {"model": model, "messages": messages, "stream": True,
                "stream_options": {"include_usage": True}, "max_tokens": max_tokens,
                "temperature": temperature}
        try:
            sdk_stream = self._post_chat(host, body)
        except openai.APIStatusError as err:
            raise self._status_failure(err, model) from None
        except openai.APIConnectionError as err:
            raise self._connection_failure(err) from None
        first_deadline = min(started + self.policy.first_token, deadline)
        watch = self.watchdog.watch(sdk_stream.response, first_deadline,
                                    "first_token" if first_deadline < deadline else "total")
        stream = UpstreamStream(self, sdk_stream, watch, host, model, deadline, prompt_tokens)
        try:
            stream.wait_first()
        except StreamCut as cut:
            stream.close()
            # Nothing has been shown: a cut connection is retried, a slow host is left for
            # the fallback, a garbled answer too.
            retry = cut.code == "coupure_amont"
            status = 504 if cut.code == "delai_depasse" else 502
            message = (cut.message if cut.code == "delai_depasse" else UpstreamError.message)
            if cut.code == "delai_depasse":
                message += " Réessayez ; si cela se reproduit, raccourcissez le texte."
            raise _Failure(UpstreamError(message, code=cut.code, status=status, detail=cut.detail),
                           retry=retry, fallback="total" not in cut.detail) from None
        except BaseException:
            stream.close()
            raise
        return stream

    @staticmethod
    def _post_chat(host: Host, body: dict[str, Any]) -> ChatStream:
        """``POST /chat/completions`` streamed, on the SDK's HTTP client with its headers.

        What ``client.post`` does for this one request, without the layers that cost CPU on
        every stream (options copied and validated, headers and URL rebuilt, the SDK's own
        retry and auth wrappers, which are off or unused here): the request is sent as is
        and its failures are raised as the SDK's errors, which :meth:`_open_once` maps.
        """
        assert host.http is not None and host.chat_url is not None
        # What ``build_request`` makes of it, from the parts merged once in :meth:`Host.of`
        # (the client sets no cookies or query parameters of its own).
        request = httpx2.Request("POST", host.chat_url, headers=host.headers,
                                 content=json.dumps(body, ensure_ascii=False).encode(),
                                 extensions={"timeout": host.timeout})
        try:
            response = host.http.send(request, stream=True)
        except httpx2.TimeoutException as err:
            raise openai.APITimeoutError(request=request) from err
        except httpx2.HTTPError as err:
            raise openai.APIConnectionError(request=request) from err
        if response.status_code >= 400:
            try:
                response.read()
            finally:
                response.close()
            try:
                error_body: Any = response.json()
            except ValueError:
                error_body = response.text.strip() or None
            raise openai.APIStatusError(f"Error code: {response.status_code} - {error_body}",
                                        response=response, body=error_body)
        return ChatStream(cast_to=object, response=response, client=host.client)

    def _connection_failure(self, err: openai.APIConnectionError) -> _Failure:
        cause = err.__cause__
        if isinstance(err, openai.APITimeoutError) and not isinstance(cause, httpx2.ConnectTimeout):
            message = (f"Le service d'IA n'a pas commencé à répondre dans le délai prévu "
                       f"({self.policy.first_token:g} s). Réessayez ; si cela se reproduit, "
                       "raccourcissez le texte.")
            return _Failure(UpstreamError(message, code="delai_depasse", status=504,
                                          detail=f"read timeout: {cause!r}"),
                            retry=False, fallback=True)
        message = "Le service d'IA est injoignable pour le moment. Réessayez dans quelques instants."
        return _Failure(UpstreamError(message, code="amont_injoignable", status=502,
                                      detail=f"connection failed: {cause!r}"),
                        retry=True, fallback=True)

    def _status_failure(self, err: openai.APIStatusError, model: str) -> _Failure:
        status = err.status_code
        detail = f"host answered {status}: {err.message}"[:500]
        if status == 429:
            retry_after = parse_retry_after(err.response.headers.get("retry-after"))
            wait = max(1, round(retry_after)) if retry_after is not None else 30
            return _Failure(UpstreamError(f"Le service d'IA est saturé. Réessayez dans {wait} secondes.",
                                          code="amont_sature", status=503, detail=detail,
                                          headers={"Retry-After": str(wait)}),
                            retry=True, fallback=True, retry_after=retry_after)
        if status in RETRYABLE_STATUSES:
            return _Failure(UpstreamError(detail=detail), retry=True, fallback=True)
        if status in (401, 403):
            return _Failure(UpstreamError("Le service d'IA a refusé l'accès de Plume. Prévenez "
                                          "l'administrateur : la clé d'accès (PLUME_LLM_API_KEY) est "
                                          "peut-être invalide.", code="amont_refuse", detail=detail),
                            retry=False, fallback=True)
        if status == 404:
            return _Failure(UpstreamError(f"Le modèle « {model} » n'existe pas sur le service d'IA. "
                                          "Prévenez l'administrateur (PLUME_LLM_MODEL).",
                                          code="modele_introuvable", detail=detail),
                            retry=False, fallback=True)
        if status in REQUEST_REJECTED:
            if "context" in str(err.message).lower() or "token" in str(err.message).lower():
                return _Failure(UpstreamError("Le texte est trop long pour le modèle d'IA. "
                                              "Raccourcissez-le ou découpez-le.", code="texte_trop_long",
                                              status=413, detail=detail),
                                retry=False, fallback=False)
            return _Failure(UpstreamError("Le service d'IA a refusé la demande. Prévenez "
                                          "l'administrateur si cela se reproduit.",
                                          code="demande_refusee", detail=detail),
                            retry=False, fallback=False)
        return _Failure(UpstreamError(detail=detail), retry=False, fallback=True)
