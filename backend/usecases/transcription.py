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

One interaction record per job, however many runs it takes: the request that submits the
recording (or opens its upload) is the metered call (role, quota) and hands its open record
over to the job (:meth:`~.metered.Call.hand_over`; the job's id is the record's, so the
audit room does not close it as interrupted while the job lives). Whichever run ends the
job finishes it (:func:`~.metered.resume`): model, host, one charged call per piece, never
audio nor text. A worker killed in the middle leaves it open; another worker resumes the job
from the last finished piece (decoding again if it does not have the PCM file) and records
the outcome. A cancel or delete before any run ends it as stopped.

Words with times (``PLUME_HEARING_WORD_TIMES``) are asked of the host and, when it gives
them, attached to their segment on the hearing's timeline. The speakers a person names in
the pane (« changer d'intervenant », :func:`set_speakers`) are stored beside the job and
applied to what :func:`status` and the exports give. Finished jobs, their recording,
transcript and speakers are deleted ``PLUME_HEARING_RETENTION_HOURS`` after they finished,
and uploads never completed that long after their last part (their record then ends
« interrompu »): the retention this kind declares with the jobs room, whose workers purge
every ``PLUME_JOB_PURGE_MINUTES`` (:mod:`backend.jobs.retention`).
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
from psycopg.types.json import Jsonb

from .. import audit, db, jobs, llm
from ..auth import User, authorize, user_hash
from ..errors import AppError, NotConfigured, PayloadTooLarge, UnsupportedMediaType, ValidationError
from ..llm import audio
from ..llm.tokens import estimate_tokens
from . import metered as metering
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
    limit = min(current_app.config["HEARING_MAX_BYTES"], current_app.config["JOB_MAX_INPUT_BYTES"])
    with metered(user, "transcribe", TASK) as call:
        params = {**_params(user, filename, language, None), "record": call.hand_over()}
        try:
            job_id = jobs.submit(KIND, _owner(user), params, job_id=call.id, blobs={
                BLOB: jobs.Blob(_Bounded(stream, limit), "application/octet-stream")})
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
    # Admitted now (role, quota) rather than at start: a refused user does not send 500 MB
    # first. An upload never completed is purged with its job, and its record closed as
    # « interrompu » (:func:`_close_abandoned`).
    with metered(user, "transcribe", TASK) as call:
        params = {**_params(user, filename, language, size), "record": call.hand_over()}
        job_id = jobs.submit(KIND, _owner(user), params, hold=True, job_id=call.id)
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


def _describe(job: jobs.Job, received: int | None = None,
              changes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
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
        if changes is not None:
            body["segments"] = relabel(body["segments"] or [], changes)
            body["speaker_changes"] = changes
    return body


def status(user: User, job_id: str) -> dict[str, Any]:
    """The transcription JSON: state, progress, and the transcript once done."""
    job = _job(user, job_id)
    received = (_received(job_id, user) if job.params.get("size") is not None
                and job.state == "queued" else None)
    return _describe(job, received, _changes(job_id) if job.state == "done" else None)


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
    job = jobs.cancel(job_id, _owner(user))
    if job.state == "cancelled" and job.params.get("record"):  # no run will record it
        _finish_record(job.params["record"], "stopped", None)
    return status(user, job_id)


def delete(user: User, job_id: str) -> None:
    job = _job(user, job_id)
    jobs.delete(job_id, _owner(user))
    if not job.finished and job.params.get("record"):  # a run stopped by the deletion writes nothing
        _finish_record(job.params["record"], "stopped", None)


def transcript(user: User, job_id: str) -> dict[str, Any]:
    """A finished transcription's result (409 until it is done)."""
    job = _job(user, job_id)
    if job.state != "done":
        raise AppError("La transcription n'est pas terminée.", code="pas_termine", status=409,
                       detail=f"state {job.state}")
    return {**job.result, "segments": relabel(job.result.get("segments") or [], _changes(job_id)),
            "filename": job.params.get("filename")}


# Speakers named in the pane ------------------------------------------------------------------

MAX_CHANGES = 2000
MAX_SPEAKER = 80


def relabel(segments: list[dict[str, Any]], changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each segment's speaker: the latest change at or before its start, else the host's."""
    ordered = sorted(changes, key=lambda c: c["from"])
    out, at, current = [], 0, None
    for segment in segments:
        while at < len(ordered) and ordered[at]["from"] <= segment["start"] + 1e-6:
            current = ordered[at]["speaker"]
            at += 1
        out.append({**segment, "speaker": current} if current else segment)
    return out


def _changes(job_id: str) -> list[dict[str, Any]]:
    with db.connection() as conn:
        row = conn.execute("SELECT changes FROM transcription_speakers WHERE job_id = %s",
                           (job_id,)).fetchone()
    return row[0] if row else []


def set_speakers(user: User, job_id: str, payload: Any) -> dict[str, Any]:
    """Replace the speaker changes of a finished transcription: ``{"speaker_changes":
    [{"from": seconds, "speaker": name}]}``, each naming the speaker from that time on (until
    the next one)."""
    job = _job(user, job_id)  # someone else's: 404 whatever the body
    if not isinstance(payload, dict) or "speaker_changes" not in payload:
        raise ValidationError("speaker_changes", "Envoyez un objet JSON : {\"speaker_changes\": "
                              "[{\"from\": secondes, \"speaker\": \"nom\"}]}.")
    changes = payload["speaker_changes"]
    if job.state != "done":
        raise AppError("La transcription n'est pas terminée : les intervenants se renomment "
                       "une fois le texte prêt.", code="pas_termine", status=409,
                       detail=f"state {job.state}")
    if not isinstance(changes, list) or len(changes) > MAX_CHANGES:
        raise ValidationError("speaker_changes", "Envoyez une liste de changements "
                              f"d'intervenant (au plus {MAX_CHANGES}) : "
                              "[{\"from\": secondes, \"speaker\": \"nom\"}].")
    duration = float(job.result.get("duration") or 0)
    clean: dict[float, str] = {}
    for change in changes:
        if not isinstance(change, dict) or set(change) - {"from", "speaker"}:
            raise ValidationError("speaker_changes", "Chaque changement d'intervenant est un "
                                  "objet {\"from\": secondes, \"speaker\": \"nom\"}.")
        when, name = change.get("from"), change.get("speaker")
        if (not isinstance(when, (int, float)) or isinstance(when, bool) or not
                0 <= when <= duration + 1):
            raise ValidationError("speaker_changes", "Chaque changement d'intervenant indique "
                                  "le moment où il commence, en secondes de l'enregistrement "
                                  "(« from »).", detail=f"from={when!r}")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_SPEAKER:
            raise ValidationError("speaker_changes", "Chaque changement d'intervenant nomme "
                                  f"l'intervenant (« speaker », 1 à {MAX_SPEAKER} caractères).")
        clean[round(float(when), 2)] = " ".join(name.split())
    stored = [{"from": when, "speaker": name} for when, name in sorted(clean.items())]
    with db.connection() as conn:
        conn.execute(
            """INSERT INTO transcription_speakers (job_id, changes) VALUES (%s, %s)
               ON CONFLICT (job_id) DO UPDATE SET changes = EXCLUDED.changes, updated_at = now()""",
            (job_id, Jsonb(stored)))
    log.info("transcription speakers changed", extra={"job_id": job_id, "changes": len(stored)})
    return status(user, job_id)


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


def _words(raw: Any, offset: float) -> list[dict[str, Any]]:
    """A host's timed words (OpenAI's ``{"word", "start", "end"}``) on the hearing's timeline."""
    words = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("word"), str):
            continue
        try:
            start, end = float(item["start"]), float(item["end"])
        except (KeyError, TypeError, ValueError):
            continue
        if item["word"].strip() and end >= start >= 0:
            words.append({"start": round(start + offset, 2), "end": round(end + offset, 2),
                          "word": item["word"].strip()})
    return words


def _attach_words(segments: list[dict[str, Any]], words: list[dict[str, Any]]) -> None:
    """Give each segment the words whose middle falls in it (the nearest segment otherwise)."""
    if not segments:
        return
    at = 0
    for word in sorted(words, key=lambda w: w["start"]):
        middle = (word["start"] + word["end"]) / 2
        while at + 1 < len(segments) and middle >= segments[at + 1]["start"]:
            at += 1
        segments[at].setdefault("words", []).append(word)


def _transcribe_piece(pcm: Path, first: int, end: int, language: str, index: int,
                      words: bool) -> dict[str, Any]:
    offset = first / audio.RATE
    body, model, host = llm.gateway().transcribe(audio.piece_wav(pcm, first, end),
                                                 f"piece-{index}.wav", "audio/wav",
                                                 language=language, words=words)
    segments = []
    raw = body.get("segments") if isinstance(body.get("segments"), list) else []
    valid = [r for r in raw if isinstance(r, dict)]
    for item, source in zip(_segments(raw), [r for r in valid if _segments([r])]):
        segment = {**item, "start": round(item["start"] + offset, 2),
                   "end": round(item["end"] + offset, 2)}
        if isinstance(source.get("speaker"), str) and source["speaker"].strip():
            segment["speaker"] = source["speaker"].strip()[:80]
        if words and source.get("words"):  # hosts that nest the words in their segment
            segment["words"] = _words(source["words"], offset)
        segments.append(segment)
    if words and not any("words" in s for s in segments):
        _attach_words(segments, _words(body.get("words"), offset))
    text = str(body.get("text", "")).strip()
    if not segments and text:
        segments = [{"start": round(offset, 2), "end": round(end / audio.RATE, 2), "text": text}]
    return {"segments": segments, "text": text, "model": model, "host": host,
            "language": body.get("language") if isinstance(body.get("language"), str) else None,
            "tokens": estimate_tokens(text)}


def _finish_record(state: dict[str, Any], outcome: str, code: str | None,
                   call: metering.Call | None = None) -> None:
    """Finish the job's one record, unless it already is (a cancel, a deletion, another run)."""
    call = call or metering.resume(state)
    if audit.get_interaction(state["id"]) is not None:
        call.detach()
        return
    call.finish(outcome, code)


def _charge_stored(ctx: jobs.JobContext, call: metering.Call) -> None:
    """One charged call per piece transcribed, in this run or an earlier one."""
    for result in ctx.results("piece:").values():
        if isinstance(result, dict):
            call.charge({"prompt_tokens": 0, "completion_tokens": result.get("tokens") or 0,
                         "estimated": True})


def _close_abandoned(purged: list[jobs.Abandoned]) -> None:
    """An upload never completed, purged: its record, admitted when the upload opened and
    handed over to the job, ends « interrompu » (no run will finish it)."""
    for job in purged:
        if job.params.get("record"):
            _finish_record(job.params["record"], "error", audit.INTERRUPTED_CODE)


RETENTION = jobs.Retention("HEARING_RETENTION_HOURS", timedelta(hours=1),
                           abandoned=_close_abandoned)


def _legacy_record(user: User) -> dict[str, Any]:
    # A job queued before records were opened at submission: its first run opens one.
    with metered(user, "transcribe", TASK) as call:
        return call.hand_over()


@jobs.handler(KIND, per_process=1, retention=RETENTION)
def run_hearing(ctx: jobs.JobContext) -> dict[str, Any]:
    """Decode, cut, transcribe each piece (a step each), stitch; the job's record is finished
    by the run that reaches a verdict (see the module docstring)."""
    state = ctx.params.get("record") or _legacy_record(_user(ctx.params))
    call = metering.resume(state)
    work = Path(current_app.config["DATA_DIR"]) / "transcriptions" / ctx.id

    def hearing() -> dict[str, Any]:
        result = _hearing(ctx, call, work)
        ctx.seal()  # a cancel accepted before this point wins over the success below
        return result

    def finish(outcome: str, code: str | None, _result: Any) -> None:
        _charge_stored(ctx, call)
        _finish_record(state, outcome, code, call)

    try:
        return metering.job_verdict(ctx, call, hearing, finish)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _hearing(ctx: jobs.JobContext, call: metering.Call, work: Path) -> dict[str, Any]:
    config = current_app.config
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    language = ctx.params.get("language") or "fr"
    words = bool(config["HEARING_WORD_TIMES"])
    work.mkdir(parents=True, exist_ok=True)
    pcm = work / "audio.pcm"
    began = time.monotonic()
    try:
        layout = ctx.step("decode", _decode, ctx, work / "source", pcm)
        if not audio.pcm_complete(pcm, layout["samples"]):  # resumed on another worker
            _decode(ctx, work / "source", pcm)
    except audio.AudioError as exc:
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
                pcm, first, end, language, index, words))
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
    except NotConfigured as exc:  # no host: trying again later would not help
        raise jobs.Failure(exc.message, code=exc.code, detail=exc.detail) from None
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


def _message(done: float, total: float, left: float | None) -> str:
    text = f"Transcription : {_clock(done)} sur {_clock(total)}"
    if left is not None and done < total:
        text += f" — environ {_clock(max(left, 60))} restantes"
    return text
