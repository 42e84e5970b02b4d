"""Dictation: an audio file proxied to the host's ``/audio/transcriptions``.

The file's first bytes decide its format (a name or a MIME type is only a claim), so a
file that is not wav, mp3, m4a, ogg or webm is refused before it costs a host call.
Segments with their timestamps are returned when the host gives them (Whisper-style
``verbose_json``); otherwise the text alone.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from .. import llm
from ..auth import User, authorize
from ..errors import PayloadTooLarge, UnsupportedMediaType, ValidationError
from ..llm.tokens import estimate_tokens
from .metered import metered

log = logging.getLogger(__name__)

TASK = "transcribe"
FORMATS = {"wav": "audio/wav", "mp3": "audio/mpeg", "m4a": "audio/mp4", "ogg": "audio/ogg",
           "webm": "audio/webm"}
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
                                   "(formats acceptés : wav, mp3, m4a, ogg, webm).",
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
