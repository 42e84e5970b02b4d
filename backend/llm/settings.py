"""Settings of the LLM gateway room.

Only the hosts named here are ever contacted. Timeouts and retries are the gateway's own:
the OpenAI SDK is built with ``max_retries=0`` so that a retry can never happen after the
first token has reached the user.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..settings import ConfigError, Setting

# Tasks whose model may be set on its own in PLUME_LLM_TASK_MODELS.
GENERATION_TASKS = ("summarize", "rewrite", "draft", "mail-summary", "mail-reply",
                    "attachment-summary", "routing", "translate")

SETTINGS: list[Setting] = [
    Setting("PLUME_LLM_BASE_URL", "str", None,
            "Base URL of the sovereign OpenAI-compatible host (e.g. `https://albert.api.etalab.gouv.fr/v1`). "
            "Unset: generation answers 503 (and `make run` starts the local demonstration model)."),
    Setting("PLUME_LLM_API_KEY", "str", None, "API key for `PLUME_LLM_BASE_URL`.", secret=True),
    Setting("PLUME_LLM_MODEL", "str", None,
            "Default model for every task. Unset: the first model the host lists."),
    Setting("PLUME_LLM_TASK_MODELS", "json", {},
            "JSON object giving a task its own model, e.g. `{\"mail-summary\": \"mistral-small\"}`. "
            "Tasks: " + ", ".join(f"`{t}`" for t in GENERATION_TASKS) + "."),
    Setting("PLUME_LLM_DEMO", "bool", None,
            "The host is the local demonstration model: answers carry `demo: true` and the panes "
            "show a notice. Unset: on in development when `PLUME_LLM_BASE_URL` is unset, and "
            "`serve` (so `make run`) then starts SmolLM2-135M-Instruct under llama.cpp on loopback; "
            "`0` never starts it."),
    Setting("PLUME_LLM_DEMO_PORT", "int", 0,
            "Loopback port of the demonstration model's llama.cpp server; `0` picks a free port.",
            at_least=0, at_most=65535),
    Setting("PLUME_LLM_FALLBACK_BASE_URL", "str", None,
            "Optional second OpenAI-compatible host, used when the first fails before answering."),
    Setting("PLUME_LLM_FALLBACK_API_KEY", "str", None, "API key for `PLUME_LLM_FALLBACK_BASE_URL`.",
            secret=True),
    Setting("PLUME_LLM_FALLBACK_MODEL", "str", None,
            "Model on the fallback host. Unset: the same model name as on the first host."),
    Setting("PLUME_LLM_CONTEXT_TOKENS", "int", 8192,
            "Context window (tokens) of models not listed in `PLUME_LLM_MODEL_CONTEXT`.",
            at_least=1024),
    Setting("PLUME_LLM_MODEL_CONTEXT", "json", {},
            "JSON object of context windows per model, e.g. `{\"llama-3.1-8b\": 131072}`. A text "
            "longer than its model's window is summarised part by part (map-reduce)."),
    Setting("PLUME_LLM_MAX_OUTPUT_TOKENS", "int", 1500,
            "Longest answer requested from the model (tokens).",
            above=0),
    Setting("PLUME_LLM_MAP_CONCURRENCY", "int", 3,
            "How many parts of a long document are summarised at the same time.",
            above=0),
    Setting("PLUME_LLM_RETRIES", "int", 2,
            "Retries before the first token (connection errors, 429, 502/503/504), "
            "with exponential backoff and jitter; then the fallback host.",
            at_least=0),
    Setting("PLUME_LLM_BACKOFF_SECONDS", "float", 0.5, "First retry delay; doubles at each retry.",
            at_least=0),
    Setting("PLUME_LLM_RETRY_AFTER_MAX_SECONDS", "float", 10.0,
            "Longest `Retry-After` of a 429 that is waited for; longer ones go to the fallback host.",
            at_least=0),
    Setting("PLUME_LLM_TIMEOUT_CONNECT", "float", 5.0, "Seconds to open a connection to the host.",
            above=0),
    Setting("PLUME_LLM_TIMEOUT_FIRST_TOKEN", "float", 60.0,
            "Seconds from the request to the first token of the answer.",
            above=0),
    Setting("PLUME_LLM_TIMEOUT_CHUNK", "float", 30.0,
            "Longest silence between two pieces of a streamed answer, in seconds.",
            above=0),
    Setting("PLUME_LLM_TIMEOUT_TOTAL", "float", 300.0, "Longest duration of one model call, in seconds.",
            above=0),
    Setting("PLUME_LLM_TRANSCRIPTION_MODEL", "str", None,
            "Speech-to-text model on the host (e.g. `openai/whisper-large-v3`). Unset: the "
            "embedded model when `serve` started it (`PLUME_WHISPER_LOCAL`), else transcription "
            "answers 503."),
    Setting("PLUME_LLM_TRANSCRIPTION_MAX_BYTES", "int", 25 * 1024 * 1024,
            "Largest audio file accepted for transcription.",
            above=0),
    Setting("PLUME_LLM_TRANSCRIPTION_BASE_URL", "str", None,
            "OpenAI-compatible host serving `/audio/transcriptions`, when it is not "
            "`PLUME_LLM_BASE_URL`. Unset: the generation host."),
    Setting("PLUME_LLM_TRANSCRIPTION_API_KEY", "str", None,
            "API key for `PLUME_LLM_TRANSCRIPTION_BASE_URL`.", secret=True),
    Setting("PLUME_WHISPER_LOCAL", "bool", None,
            "Embedded speech-to-text model (Whisper through faster-whisper, int8 on CPU, offline). "
            "Unset: on in development when `PLUME_LLM_TRANSCRIPTION_MODEL` is unset, and `serve` "
            "(so `make run`) then starts it on loopback and labels its transcripts as from a "
            "demonstration model; `0` never starts it."),
    Setting("PLUME_WHISPER_MODEL", "str", "base",
            "Embedded Whisper model, reassembled once from its weight packages into "
            "`PLUME_DATA_DIR/whisper/`.", choices=("base",)),
    Setting("PLUME_WHISPER_PORT", "int", 0,
            "Loopback port of the embedded speech-to-text server; `0` picks a free port.",
            at_least=0, at_most=65535),
]



def _check_url(env: str, value: str | None) -> None:
    if value is None:
        return
    url = urlsplit(value)
    if url.scheme not in {"http", "https"} or not url.hostname:
        raise ConfigError(f"{env}={value!r} must be an http(s) URL such as https://host/v1")


def validate(config: dict[str, Any]) -> None:
    """Fail fast on inconsistent gateway settings."""
    # PLUME_LLM_DEMO unset: `serve` decides (backend/llm/demo.py); until a demonstration
    # server runs, nothing is labelled demo.
    config["LLM_DEMO_START"] = (not config.get("LLM_BASE_URL") and (
        config["ENV"] == "development" if config["LLM_DEMO"] is None else config["LLM_DEMO"]))
    config["LLM_DEMO"] = bool(config["LLM_DEMO"]) and bool(config.get("LLM_BASE_URL"))
    # Set by `serve` when it started the embedded speech-to-text model (whisper_local.py).
    config["LLM_TRANSCRIPTION_DEMO"] = bool(config.get("LLM_TRANSCRIPTION_DEMO"))
    config["WHISPER_LOCAL_START"] = (not config.get("LLM_TRANSCRIPTION_MODEL") and (
        config["ENV"] == "development" if config["WHISPER_LOCAL"] is None else config["WHISPER_LOCAL"]))
    _check_url("PLUME_LLM_TRANSCRIPTION_BASE_URL", config.get("LLM_TRANSCRIPTION_BASE_URL"))
    _check_url("PLUME_LLM_BASE_URL", config.get("LLM_BASE_URL"))
    _check_url("PLUME_LLM_FALLBACK_BASE_URL", config.get("LLM_FALLBACK_BASE_URL"))
    task_models = config["LLM_TASK_MODELS"]
    if not isinstance(task_models, dict) or not all(
            isinstance(v, str) and v for v in task_models.values()):
        raise ConfigError("PLUME_LLM_TASK_MODELS must be a JSON object of task name to model name")
    unknown = sorted(set(task_models) - set(GENERATION_TASKS))
    if unknown:
        raise ConfigError(f"PLUME_LLM_TASK_MODELS names unknown tasks: {', '.join(unknown)}; "
                          f"known: {', '.join(GENERATION_TASKS)}")
    contexts = config["LLM_MODEL_CONTEXT"]
    if not isinstance(contexts, dict) or not all(
            isinstance(v, int) and v >= 1024 for v in contexts.values()):
        raise ConfigError("PLUME_LLM_MODEL_CONTEXT must be a JSON object of model name to a "
                          "context size in tokens (at least 1024)")
