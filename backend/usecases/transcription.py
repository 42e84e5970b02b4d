"""Transcription: short dictation in one request, hearings of any length as background jobs.

Dictation (:func:`transcribe`): an audio file proxied to the host's ``/audio/transcriptions``
in one metered call. The file's first bytes decide its format (a name or a MIME type is only
a claim), so a file that is not a recording is refused before it costs a host call.
Segments with their timestamps are returned when the host gives them (Whisper-style
``verbose_json``); otherwise the text alone.

Hearings (:func:`submit`, :func:`create_upload` … :func:`start`, then :func:`status`): the
recording is stored with a job (``backend/jobs``), sent whole or in parts that resume after
a cut. The job (:func:`run_hearing`)::

    decode    ── one step: the recording → 16 kHz PCM on the worker's disk, cut on silences
    piece:0…n ── one step each, PLUME_HEARING_CONCURRENCY at a time: a WAV piece to the
                 speech-to-text host (the sovereign host, or the embedded Whisper), its
                 segments moved to the recording's timeline
    result    ── segments stitched in order: text, segments, language, duration, model

It runs inside one metered call (role, quota, one interaction record of kind
``transcribe``: model, host, one charged call per piece; never audio nor text). A worker
killed in the middle leaves the record open (closed later as interrupted) and the job is
resumed by another worker from the last finished piece; the PCM file is decoded again if
that worker does not have it. Finished jobs, their recording and transcript are deleted
after ``PLUME_HEARING_RETENTION_HOURS``.
"""
from __future__ import annotations

import logging
import shutil
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app

from .. import jobs, llm
from ..auth import User, authorize, user_hash
from ..errors import AppError, NotConfigured, PayloadTooLarge, UnsupportedMediaType, ValidationError
from ..llm import audio
from ..llm.tokens import estimate_tokens
from .metered import metered

log = logging.getLogger(__name__)

TASK = "transcribe"
FORMATS = {"wav": "audio/wav", "mp3": "audio/mpeg", "m4a": "audio/mp4", "ogg": "audio/ogg",
           "webm": "audio/webm", "flac": "audio/flac"}
LANGUAGES = {"fr", "en", "de", "es", "it", "nl", "pt", "ar"}


def sniff(data: bytes) -> str | None:
    """The audio format of ``data`` from its magic bytes."""
    head = data[:16]
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[:4] == b"fLaC":
        return "flac"
    return None


def _segments(raw: Any) -> list[dict[str, Any]]:
    segments = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        try:
            start, end = float(item["start"]), float(item["end"])
        except (KeyError, TypeError, ValueError):
            continue
        segments.append({"start": round(start, 2), "end": round(end, 2),
                         "text": str(item.get("text", "")).strip()})
    return segments


def transcribe(user: User, data: bytes, filename: str, *, language: str | None,
               max_bytes: int) -> dict[str, Any]:
    """Transcribe one recording for ``user`` (one metered call: role, quota, record)."""
    authorize(user, TASK)  # before the file is looked at
    if language is not None and language not in LANGUAGES:
        raise ValidationError("language", "Langue non prise en charge : indiquez par exemple « fr ».")
    if not data:
        raise ValidationError("file", "Le fichier audio est vide.")
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"Le fichier audio dépasse {max_bytes // (1024 * 1024)} Mo.",
                              detail=f"{len(data)} bytes")
    kind = sniff(data)
    if kind is None:
        raise UnsupportedMediaType("Ce fichier n'est pas un enregistrement pris en charge "
                                   "(formats acceptés : wav, mp3, m4a, ogg, webm, flac).",
                                   detail=f"unrecognised audio header for {filename!r}")
    began = time.perf_counter()
    with metered(user, "transcribe", TASK) as call:
        gw = llm.gateway()
        name = filename if filename.lower().endswith("." + kind) else f"enregistrement.{kind}"
        body, model, host = gw.transcribe(data, name, FORMATS[kind], language=language or "fr")
        text = body["text"].strip()
        call.charge({"prompt_tokens": 0, "completion_tokens": estimate_tokens(text),
                     "estimated": True})
        call.update(model=model, host=host)
        call.first_token()
    duration = body.get("duration")
    log.info("transcription finished", extra={
        "model": model, "host": host, "format": kind, "bytes": len(data),
        "duration_ms": round((time.perf_counter() - began) * 1000, 1)})
    return {"text": text, "segments": _segments(body.get("segments")),
            "language": body.get("language") if isinstance(body.get("language"), str) else None,
            "duration": float(duration) if isinstance(duration, (int, float)) else None,
            "model": model, "demo": bool(gw.config.get("LLM_TRANSCRIPTION_DEMO")),
            "interaction_id": call.id}


# Hearings: long recordings as background jobs ------------------------------------------------

KIND = "transcription"
BLOB = "audio"
UNSUPPORTED = ("Ce fichier n'est pas un enregistrement pris en charge (formats acceptés : wav, "
               "mp3, m4a, ogg/opus, webm, flac, et les vidéos mp4 ou mov).")
# mp4, mov and m4a share the ISO container: their sound is what is transcribed.
CONTAINER_TYPES = {**FORMATS, "m4a": "video/mp4"}


def _owner(user: User) -> str:
    return user_hash(user.id)


def _check_language(language: str | None) -> str:
    if language is not None and language not in LANGUAGES:
        raise ValidationError("language", "Langue non prise en charge : indiquez par exemple « fr ».")
    return language or "fr"


def _check_size(size: int) -> None:
    limit = min(current_app.config["HEARING_MAX_BYTES"], current_app.config["JOB_MAX_INPUT_BYTES"])
    if size > limit:
        raise PayloadTooLarge(f"L'enregistrement dépasse {limit // (1024 * 1024)} Mo : coupez-le "
                              "en plusieurs fichiers.", detail=f"{size} bytes > {limit}")


def _params(user: User, filename: str, language: str, size: int | None) -> dict[str, Any]:
    # The job runs outside any request: the user it is metered for travels with it.
    return {"user": {"id": user.id, "roles": sorted(user.roles),
                     "jurisdictions": sorted(user.jurisdictions)},
            "filename": (filename or "enregistrement")[-200:], "language": language, "size": size,
            # The limit in force where the user submitted it, whichever worker runs the job.
            "max_seconds": current_app.config["HEARING_MAX_MINUTES"] * 60}


def purge_expired() -> int:
    """Delete transcriptions finished (or uploads abandoned) longer ago than the retention."""
    hours = current_app.config["HEARING_RETENTION_HOURS"]
    return jobs.purge_finished(datetime.now(timezone.utc) - timedelta(hours=hours), kind=KIND)


def submit(user: User, stream: BinaryIO, filename: str, *, language: str | None) -> dict[str, Any]:
    """Store a whole recording with a new job and queue it; returns the transcription JSON."""
    authorize(user, TASK)
    language = _check_language(language)
    head = stream.read(16)
    if not head:
        raise ValidationError("file", "Le fichier audio est vide.")
    if sniff(head) is None:
        raise UnsupportedMediaType(UNSUPPORTED, detail=f"unrecognised audio header for {filename!r}")
    stream.seek(0)
    purge_expired()
    limit = min(current_app.config["HEARING_MAX_BYTES"], current_app.config["JOB_MAX_INPUT_BYTES"])
    try:
        job_id = jobs.submit(KIND, _owner(user), _params(user, filename, language, None),
                             blobs={BLOB: jobs.Blob(_Bounded(stream, limit), "application/octet-stream")})
    except PayloadTooLarge:
        _check_size(limit + 1)
        raise
    return status(user, job_id)


class _Bounded:
    """A stream that stops with a French 413 past ``limit`` bytes (before the jobs' own limit)."""

    def __init__(self, stream: BinaryIO, limit: int):
        self.stream, self.limit, self.read_so_far = stream, limit, 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.read_so_far += len(data)
        if self.read_so_far > self.limit:
            _check_size(self.read_so_far)
        return data


def create_upload(user: User, filename: str, size: int, *, language: str | None) -> dict[str, Any]:
    """A held job waiting for its recording in parts (:func:`append`), then :func:`start`."""
    authorize(user, TASK)
    language = _check_language(language)
    if size < 1:
        raise ValidationError("size", "Le fichier audio est vide.")
    _check_size(size)
    purge_expired()
    job_id = jobs.submit(KIND, _owner(user), _params(user, filename, language, size), hold=True)
    return status(user, job_id)


def append(user: User, job_id: str, part: BinaryIO, *, offset: int) -> dict[str, Any]:
    """Add a part at byte ``offset``; 409 with the size stored when it does not follow."""
    job = jobs.get(job_id, _owner(user))
    expected = job.params.get("size")
    if job.kind != KIND or expected is None:
        raise jobs_not_found(job_id)
    limit = current_app.config["HEARING_PART_BYTES"]
    data = part.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"Une partie d'envoi dépasse {limit // (1024 * 1024)} Mo.",
                              detail=f"part over {limit} bytes")
    if not data:
        raise ValidationError("body", "Cette partie de l'envoi est vide.")
    if offset + len(data) > expected:
        raise ValidationError("offset", "Cette partie dépasse la taille annoncée du fichier.",
                              detail=f"{offset}+{len(data)} > {expected}")
    if offset == 0 and sniff(data[:16]) is None:
        raise UnsupportedMediaType(UNSUPPORTED, detail="unrecognised audio header (upload)")
    received = jobs.append_blob(job_id, _owner(user), BLOB, data, offset=offset,
                                content_type="application/octet-stream")
    return {"id": job_id, "upload": {"received": received, "size": expected}}


def start(user: User, job_id: str) -> dict[str, Any]:
    """Queue an uploaded recording once all its parts are in (409 otherwise)."""
    job = jobs.get(job_id, _owner(user))
    if job.kind != KIND:
        raise jobs_not_found(job_id)
    expected = job.params.get("size")
    if expected is not None and job.state == "queued":
        received = _received(job_id, user)
        if received != expected:
            raise AppError(f"L'envoi n'est pas terminé ({received} octets reçus sur {expected}) : "
                           "reprenez-le avant de lancer la transcription.", code="envoi_incomplet",
                           status=409, detail=f"{received}/{expected}", extra={"size": received})
    jobs.start_held(job_id, _owner(user))
    return status(user, job_id)


def jobs_not_found(job_id: str) -> AppError:
    return AppError("Cette transcription n'existe pas.", code="introuvable", status=404,
                    detail=f"no transcription {job_id}")


def _received(job_id: str, user: User) -> int:
    return next((b.size for b in jobs.blob_infos(job_id, _owner(user)) if b.name == BLOB), 0)


def _job(user: User, job_id: str) -> jobs.Job:
    job = jobs.get(job_id, _owner(user))
    if job.kind != KIND:
        raise jobs_not_found(job_id)
    return job


def _describe(job: jobs.Job, received: int | None = None) -> dict[str, Any]:
    total = job.progress_total
    done = job.progress_done
    eta = None
    if job.state == "running" and total and 0 < done < total and job.started_at is not None:
        elapsed = (datetime.now(timezone.utc) - job.started_at).total_seconds()
        eta = round(elapsed / done * (total - done))
    body: dict[str, Any] = {
        "id": job.id, "state": job.state, "filename": job.params.get("filename"),
        "language": job.params.get("language"),
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "progress": {"done_seconds": done, "total_seconds": total, "eta_seconds": eta,
                     "message": job.progress_message},
        "error": ({"error": job.error_code, "message": job.error_message}
                  if job.error_code else None),
        "cancel_requested": job.cancel_requested,
    }
    if job.params.get("size") is not None:
        body["upload"] = {"received": received if received is not None else job.params["size"],
                          "size": job.params["size"]}
    if job.state == "done" and isinstance(job.result, dict):
        body.update({key: job.result.get(key) for key in (
            "text", "segments", "language", "duration", "model", "demo", "pieces",
            "interaction_id")})
    return body


def status(user: User, job_id: str) -> dict[str, Any]:
    """The transcription JSON: state, progress, and the transcript once done."""
    job = _job(user, job_id)
    received = (_received(job_id, user) if job.params.get("size") is not None
                and job.state == "queued" else None)
    return _describe(job, received)


def list_for(user: User) -> list[dict[str, Any]]:
    """The user's transcriptions, newest first, without their transcripts."""
    items = []
    for job in jobs.list_for(_owner(user), kind=KIND):
        body = _describe(job)
        for key in ("text", "segments"):
            body.pop(key, None)
        items.append(body)
    return items


def cancel(user: User, job_id: str) -> dict[str, Any]:
    _job(user, job_id)
    jobs.cancel(job_id, _owner(user))
    return status(user, job_id)


def delete(user: User, job_id: str) -> None:
    _job(user, job_id)
    jobs.delete(job_id, _owner(user))


def transcript(user: User, job_id: str) -> dict[str, Any]:
    """A finished transcription's result (409 until it is done)."""
    job = _job(user, job_id)
    if job.state != "done":
        raise AppError("La transcription n'est pas terminée.", code="pas_termine", status=409,
                       detail=f"state {job.state}")
    return {**job.result, "filename": job.params.get("filename")}


# The job -------------------------------------------------------------------------------------

def _user(params: dict[str, Any]) -> User:
    raw = params["user"]
    return User(id=raw["id"], roles=frozenset(raw["roles"]),
                jurisdictions=frozenset(raw["jurisdictions"]))


def _clock(seconds: float) -> str:
    minutes = int(round(seconds / 60))
    return f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"


def _decode(ctx: jobs.JobContext, source: Path, pcm: Path) -> dict[str, Any]:
    config = current_app.config
    with open(source, "wb") as out, ctx.open_blob(BLOB) as blob:
        shutil.copyfileobj(blob, out, 1024 * 1024)
    ctx.progress(0, None, "Décodage de l'enregistrement…")
    max_seconds = ctx.params.get("max_seconds") or config["HEARING_MAX_MINUTES"] * 60
    decoded = audio.decode(source, pcm, max_seconds=max_seconds,
                           on_progress=lambda s: ctx.progress(
                               0, None, f"Décodage de l'enregistrement… {_clock(s)} lues"))
    source.unlink(missing_ok=True)
    return audio.as_json(decoded, audio.plan(decoded, config["HEARING_PIECE_SECONDS"]))


def _transcribe_piece(pcm: Path, first: int, end: int, language: str, index: int) -> dict[str, Any]:
    offset = first / audio.RATE
    body, model, host = llm.gateway().transcribe(audio.piece_wav(pcm, first, end),
                                                 f"piece-{index}.wav", "audio/wav",
                                                 language=language)
    segments = []
    for item in _segments(body.get("segments")):
        segments.append({**item, "start": round(item["start"] + offset, 2),
                         "end": round(item["end"] + offset, 2)})
    raw = body.get("segments") if isinstance(body.get("segments"), list) else []
    for segment, source in zip(segments, [r for r in raw if isinstance(r, dict)]):
        if isinstance(source.get("speaker"), str) and source["speaker"].strip():
            segment["speaker"] = source["speaker"].strip()[:80]
    text = str(body.get("text", "")).strip()
    if not segments and text:
        segments = [{"start": round(offset, 2), "end": round(end / audio.RATE, 2), "text": text}]
    return {"segments": segments, "text": text, "model": model, "host": host,
            "language": body.get("language") if isinstance(body.get("language"), str) else None,
            "tokens": estimate_tokens(text)}


@jobs.handler(KIND, per_process=1)
def run_hearing(ctx: jobs.JobContext) -> dict[str, Any]:
    """Decode, cut, transcribe each piece (a step each), stitch (see the module docstring)."""
    config = current_app.config
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    user = _user(ctx.params)
    language = ctx.params.get("language") or "fr"
    work = Path(config["DATA_DIR"]) / "transcriptions" / ctx.id
    work.mkdir(parents=True, exist_ok=True)
    pcm = work / "audio.pcm"
    began = time.monotonic()
    try:
        with metered(user, "transcribe", TASK) as call:
            try:
                layout = ctx.step("decode", _decode, ctx, work / "source", pcm)
                if not audio.pcm_complete(pcm, layout["samples"]):  # resumed on another worker
                    _decode(ctx, work / "source", pcm)
            except audio.AudioError as exc:
                call.finish("error", exc.code)
                raise jobs.Failure(exc.message, code=exc.code, detail=exc.detail) from None
            pieces = layout["pieces"]
            total = layout["duration"]
            lock = threading.Lock()
            done = [0.0, 0.0, time.monotonic()]  # audio seconds done; of them, in this run; start

            def piece(index: int) -> dict[str, Any]:
                first, end = pieces[index]
                with app.app_context():
                    fresh = []
                    result = ctx.step(f"piece:{index}", lambda: fresh.append(1) or _transcribe_piece(
                        pcm, first, end, language, index))
                    with lock:
                        seconds = (end - first) / audio.RATE
                        done[0] += seconds
                        if fresh:
                            done[1] += seconds
                        speed = done[1] / max(time.monotonic() - done[2], 1e-3)
                        left = (total - done[0]) / speed if done[1] else None
                        ctx.progress(round(done[0]), round(total), _message(done[0], total, left))
                return result

            ctx.progress(0, round(total), f"Transcription : 0 min sur {_clock(total)}")
            try:
                results = jobs.bounded_map(piece, list(range(len(pieces))),
                                           concurrency=config["HEARING_CONCURRENCY"],
                                           name=f"plume-hearing-{ctx.id[:8]}")
            except jobs.Cancelled:
                call.finish("stopped")
                raise
            except NotConfigured as exc:  # no host: trying again later would not help
                call.finish("error", exc.code)
                raise jobs.Failure(exc.message, code=exc.code, detail=exc.detail) from None
            for result in results:
                call.charge({"prompt_tokens": 0, "completion_tokens": result["tokens"],
                             "estimated": True})
            model = next((r["model"] for r in results if r["model"]), None)
            call.update(model=model, host=next((r["host"] for r in results if r["host"]), None))
            segments = [segment for r in results for segment in r["segments"]]
            text = " ".join(s["text"] for s in segments if s["text"])
            detected = next((r["language"] for r in results if r["language"]), None)
            result = {"text": text, "segments": segments, "language": detected or language,
                      "duration": total, "model": model, "pieces": len(pieces),
                      "demo": bool(config.get("LLM_TRANSCRIPTION_DEMO")),
                      "interaction_id": call.id}
        log.info("hearing transcribed", extra={
            "job_id": ctx.id, "pieces": len(pieces), "audio_s": total, "model": model,
            "seconds": round(time.monotonic() - began, 1), "attempt": ctx.attempt})
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _message(done: float, total: float, left: float | None) -> str:
    text = f"Transcription : {_clock(done)} sur {_clock(total)}"
    if left is not None and done < total:
        text += f" — environ {_clock(max(left, 60))} restantes"
    return text
