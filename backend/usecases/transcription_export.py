"""A finished transcript as a file: plain text, SubRip (.srt), WebVTT (.vtt) or Word (.docx).

Time codes are the recording's own (a hearing's « [01:12:31] »); a speaker, when the host
named one, opens the line (in bold in the .docx). Model text is written as text, never as
markup: subtitles hold no tags, and the .docx is built run by run.
"""
from __future__ import annotations

import io
from typing import Any, Callable

from docx import Document
from docx.shared import Pt

FORMATS = ("docx", "srt", "vtt", "txt")
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
}


def clock(seconds: float) -> str:
    """« 01:12:31 »: hours, minutes, seconds of the recording."""
    whole = int(max(0.0, seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _cue_time(seconds: float, separator: str) -> str:
    millis = int(round(max(0.0, seconds) * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _line(segment: dict[str, Any]) -> str:
    text = " ".join(str(segment.get("text", "")).split())
    speaker = segment.get("speaker")
    return f"{speaker} : {text}" if speaker else text


def _segments(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in result.get("segments") or [] if str(s.get("text", "")).strip()]


def to_txt(result: dict[str, Any]) -> bytes:
    lines = [f"[{clock(s['start'])}] {_line(s)}" for s in _segments(result)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def to_srt(result: dict[str, Any]) -> bytes:
    cues = [f"{number}\n{_cue_time(s['start'], ',')} --> {_cue_time(max(s['end'], s['start']), ',')}\n"
            f"{_line(s)}\n" for number, s in enumerate(_segments(result), 1)]
    return "\n".join(cues).encode("utf-8")


def to_vtt(result: dict[str, Any]) -> bytes:
    # "-->" inside a cue's text would end it early for a player.
    cues = [f"{_cue_time(s['start'], '.')} --> {_cue_time(max(s['end'], s['start']), '.')}\n"
            f"{_line(s).replace('-->', '→')}\n" for s in _segments(result)]
    return ("WEBVTT\n\n" + "\n".join(cues)).encode("utf-8")


def to_docx(result: dict[str, Any]) -> bytes:
    document = Document()
    document.core_properties.title = f"Transcription — {result.get('filename') or 'enregistrement'}"
    document.add_heading(f"Transcription de « {result.get('filename') or 'enregistrement'} »", 1)
    note = document.add_paragraph()
    note.add_run(f"Transcription automatique ({result.get('model') or 'modèle inconnu'}), durée "
                 f"{clock(result.get('duration') or 0)} : à relire avant tout usage.").italic = True
    for segment in _segments(result):
        paragraph = document.add_paragraph()
        stamp = paragraph.add_run(f"[{clock(segment['start'])}] ")
        stamp.font.size = Pt(9)
        if segment.get("speaker"):
            paragraph.add_run(f"{segment['speaker']} : ").bold = True
        paragraph.add_run(" ".join(str(segment["text"]).split()))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


WRITERS: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "docx": to_docx, "srt": to_srt, "vtt": to_vtt, "txt": to_txt}


def export(result: dict[str, Any], fmt: str) -> tuple[bytes, str]:
    """The file's bytes and media type."""
    return WRITERS[fmt](result), MEDIA_TYPES[fmt]
