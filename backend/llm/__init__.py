"""The sovereign LLM gateway: every model call of Plume goes through this room.

It knows hosts, streaming, retries, prompts and tokens, and nothing of the use cases
(``backend/usecases/`` asks it for answers). Functions other rooms may call:

- :func:`gateway` ``() -> Gateway``: the configured hosts (503 ``NotConfigured`` when
  ``PLUME_LLM_BASE_URL`` is unset): ``open_stream``, ``complete``, ``transcribe``.
- :func:`complete` ``(task, messages, ...) -> Completion``: a whole answer at once, with
  the same retries, fallback and deadlines (``.text``, ``.model``, ``.usage``).
- :func:`models_info` ``() -> dict``: what ``GET /api/v1/models`` shows the panes.

Only the hosts in the settings are contacted; the demonstration model started by
``serve`` (so ``make run``) before the application is one of them (``PLUME_LLM_DEMO``).
The settings are fixed when the application is built: the gateway is built once.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask, current_app

from ..errors import NotConfigured
from .settings import GENERATION_TASKS
from .upstream import NOT_CONFIGURED_MESSAGE, Completion, Gateway, StreamCut

__all__ = ["init_app", "gateway", "complete", "models_info", "open_streams", "Completion",
           "Gateway", "StreamCut"]

DEMO_NOTICE = ("Modèle de démonstration local : les réponses sont lentes et de qualité limitée. "
               "Ne l'utilisez pas pour un vrai dossier ; l'administrateur doit configurer "
               "PLUME_LLM_BASE_URL vers l'hôte souverain du ministère.")
UNCONFIGURED_NOTICE = ("Aucun service d'IA n'est configuré : les fonctions de rédaction et de résumé "
                       "sont indisponibles. L'administrateur doit renseigner PLUME_LLM_BASE_URL.")


def init_app(app: Flask) -> None:
    """The gateway is built on first use (a command that never calls a host opens no
    client), once: the settings do not change after the factory."""
    app.extensions["plume.llm"] = {"gateway": None, "lock": threading.Lock()}
    # The HTTP client logs every request at INFO; the gateway logs what matters itself.
    logging.getLogger("httpx2").setLevel(logging.WARNING)


def gateway(app: Flask | None = None) -> Gateway:
    """This application's gateway (503 in French when no host is configured)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    state = app.extensions["plume.llm"]
    built = state["gateway"]
    if built is not None:
        return built
    if not app.config.get("LLM_BASE_URL") and not app.config.get("LLM_TRANSCRIPTION_BASE_URL"):
        raise NotConfigured(NOT_CONFIGURED_MESSAGE, detail="PLUME_LLM_BASE_URL is not set")
    with state["lock"]:
        if state["gateway"] is None:
            state["gateway"] = Gateway(app.config)
    return state["gateway"]


def complete(task: str, messages: list[dict[str, str]], *, max_tokens: int | None = None,
             temperature: float = 0.2) -> Completion:
    """A whole answer for ``messages`` (non-streaming helper for other rooms).

    ``task`` picks the model (``PLUME_LLM_TASK_MODELS``). Raises an ``AppError`` with a
    French message (503 not configured, 502/503/504 host failures). The caller is
    responsible for roles, quotas, audit and fencing untrusted text (see :mod:`.prompts`).
    """
    return gateway().complete(task, messages, max_tokens=max_tokens, temperature=temperature)


def open_streams(app: Flask | None = None) -> int:
    """Upstream streams open in this process right now (0 when idle; tests and bench)."""
    state = (app or current_app).extensions["plume.llm"]
    return state["gateway"].open_streams() if state["gateway"] is not None else 0


def models_info() -> dict[str, Any]:
    """The models per task, and whether answers come from the demonstration model."""
    config = current_app.config
    demo = bool(config.get("LLM_DEMO"))
    # Transcription has its own host (often the embedded Whisper): it is listed whether or
    # not a generation host is configured.
    transcription = ([{"id": config["LLM_TRANSCRIPTION_MODEL"], "tasks": ["transcribe"],
                       "context_tokens": None, "demo": bool(config.get("LLM_TRANSCRIPTION_DEMO"))}]
                     if config.get("LLM_TRANSCRIPTION_MODEL") else [])
    if not config.get("LLM_BASE_URL"):
        return {"models": transcription, "default": None, "demo": False, "configured": False,
                "fallback": False, "notice": UNCONFIGURED_NOTICE}
    gw = gateway()
    default = config.get("LLM_MODEL") or gw.model_for("summarize")
    by_model: dict[str, list[str]] = {}
    for task in GENERATION_TASKS:
        by_model.setdefault(config["LLM_TASK_MODELS"].get(task) or default, []).append(task)
    models = [{"id": model, "tasks": names, "context_tokens": gw.context_tokens(model)}
              for model, names in by_model.items()] + transcription
    return {"models": models, "default": default, "demo": demo, "configured": True,
            "fallback": bool(config.get("LLM_FALLBACK_BASE_URL")),
            "notice": DEMO_NOTICE if demo else None}
