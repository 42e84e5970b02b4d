"""The sovereign LLM gateway: every model call of Plume goes through this room.

Functions other rooms may call:

- :func:`stream_response` ``(task, body) -> Response``: an assistance task answered as
  server-sent events (see :mod:`.assist` for the events); it checks the role, the quota,
  the body and the host itself, before the first byte.
- :func:`complete` ``(task, messages, ...) -> Completion``: a whole answer at once, with
  the same retries, fallback and deadlines (``.text``, ``.model``, ``.usage``).
- :func:`transcribe` ``(data, filename, language=...) -> dict``: dictation.
- :func:`models_info` ``() -> dict``: what ``GET /api/v1/models`` shows the panes.
- :func:`gateway` ``() -> Gateway``: the configured hosts (503 ``NotConfigured`` when
  ``PLUME_LLM_BASE_URL`` is unset).

Only the hosts in the settings are contacted; the demonstration model started by
``make run`` is one of them (``PLUME_LLM_DEMO``).
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask, current_app

from ..errors import NotConfigured
from .assist import stream_response
from .upstream import NOT_CONFIGURED_MESSAGE, Completion, Gateway, StreamCut
from .settings import GENERATION_TASKS
from .transcription import transcribe as _transcribe

__all__ = ["init_app", "gateway", "stream_response", "complete", "transcribe", "models_info",
           "open_streams", "Completion", "Gateway", "StreamCut"]

DEMO_NOTICE = ("Modèle de démonstration local : les réponses sont lentes et de qualité limitée. "
               "Ne l'utilisez pas pour un vrai dossier ; l'administrateur doit configurer "
               "PLUME_LLM_BASE_URL vers l'hôte souverain du ministère.")
UNCONFIGURED_NOTICE = ("Aucun service d'IA n'est configuré : les fonctions de rédaction et de résumé "
                       "sont indisponibles. L'administrateur doit renseigner PLUME_LLM_BASE_URL.")


def _gateway_key(config: Any, state: dict[str, Any]) -> tuple:
    """What the gateway is built from: every ``LLM_*`` setting's value. Read on every
    request, so the names are listed again only when the configuration gains a key."""
    size, names = state["names"]
    if size != len(config):
        names = tuple(sorted(k for k in config if k.startswith("LLM_")))
        state["names"] = (len(config), names)
    return tuple(repr(config.get(name)) for name in names)


def init_app(app: Flask) -> None:
    """The gateway is built on first use, so that ``make run`` can start the demonstration
    model and fill ``LLM_BASE_URL`` after the factory has run."""
    from . import demo

    app.extensions["plume.llm"] = {"gateway": None, "key": None, "lock": threading.Lock(),
                                   "names": (-1, ())}
    demo.init_app(app)  # `serve` starts the demonstration model when no host is configured
    # The HTTP client logs every request at INFO; the gateway logs what matters itself.
    logging.getLogger("httpx2").setLevel(logging.WARNING)


def gateway(app: Flask | None = None) -> Gateway:
    """This application's gateway (503 in French when no host is configured)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    if not config.get("LLM_BASE_URL"):
        raise NotConfigured(NOT_CONFIGURED_MESSAGE, detail="PLUME_LLM_BASE_URL is not set")
    state = app.extensions["plume.llm"]
    key = _gateway_key(config, state)
    if state["key"] != key:
        with state["lock"]:
            if state["key"] != key:
                old = state["gateway"]
                state["gateway"] = Gateway(config)
                state["key"] = key
                if old is not None:
                    old.close()
    return state["gateway"]


def complete(task: str, messages: list[dict[str, str]], *, max_tokens: int | None = None,
             temperature: float = 0.2) -> Completion:
    """A whole answer for ``messages`` (non-streaming helper for other rooms).

    ``task`` picks the model (``PLUME_LLM_TASK_MODELS``). Raises an ``AppError`` with a
    French message (503 not configured, 502/503/504 host failures). The caller is
    responsible for roles, quotas, audit and fencing untrusted text (see :mod:`.prompts`).
    """
    return gateway().complete(task, messages, max_tokens=max_tokens, temperature=temperature)


def transcribe(data: bytes, filename: str, *, language: str | None = None) -> dict[str, Any]:
    """Transcribe an audio file for the current user: {"text", "segments", ...}."""
    return _transcribe(data, filename, language=language,
                       max_bytes=current_app.config["LLM_TRANSCRIPTION_MAX_BYTES"])


def open_streams(app: Flask | None = None) -> int:
    """Upstream streams open in this process right now (0 when idle; tests and bench)."""
    state = (app or current_app).extensions["plume.llm"]
    return state["gateway"].open_streams() if state["gateway"] is not None else 0


def models_info() -> dict[str, Any]:
    """The models per task, and whether answers come from the demonstration model."""
    config = current_app.config
    demo = bool(config.get("LLM_DEMO"))
    if not config.get("LLM_BASE_URL"):
        return {"models": [], "default": None, "demo": False, "configured": False,
                "fallback": False, "notice": UNCONFIGURED_NOTICE}
    gw = gateway()
    default = config.get("LLM_MODEL") or gw.model_for("summarize")
    by_model: dict[str, list[str]] = {}
    for task in GENERATION_TASKS:
        by_model.setdefault(config["LLM_TASK_MODELS"].get(task) or default, []).append(task)
    models = [{"id": model, "tasks": names, "context_tokens": gw.context_tokens(model)}
              for model, names in by_model.items()]
    if config.get("LLM_TRANSCRIPTION_MODEL"):
        models.append({"id": config["LLM_TRANSCRIPTION_MODEL"], "tasks": ["transcribe"],
                       "context_tokens": None})
    return {"models": models, "default": default, "demo": demo, "configured": True,
            "fallback": bool(config.get("LLM_FALLBACK_BASE_URL")),
            "notice": DEMO_NOTICE if demo else None}
