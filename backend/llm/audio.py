"""Long recordings cut into pieces a speech-to-text host takes: decode once, cut on silences.

A hearing lasts hours; neither a host (about 25 MB a request) nor the embedded model (whose
memory grows with the audio it holds) takes one whole. :func:`decode` reads the recording
with PyAV (the FFmpeg build faster-whisper already uses) one frame at a time and writes it
as 16 kHz mono 16-bit PCM to a file on disk, keeping only the loudness of each tenth of a
second in memory (36,000 numbers for an hour): memory stays flat whatever the length.
:func:`plan` then cuts the timeline into pieces of about ``piece_seconds``, each ending at
the quietest moment of the last stretch before its target, so no word is split, and
:func:`piece_wav` reads one piece back from the PCM file as a small WAV file.

Errors are :class:`AudioError` with a French message for the user and a code.
"""
from __future__ import annotations

import io
import os
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

RATE = 16000
SAMPLE_BYTES = 2
WINDOW_S = 0.1
WINDOW = int(RATE * WINDOW_S)
# Below this root-mean-square level (int16 scale, about -50 dBFS) a tenth of a second is
# silence; a recording with no window above it has nothing to transcribe.
SILENCE_RMS = 100.0
# A piece ends at the quietest tenth of a second (the latest of several alike) in this share
# of its length before its target.
SEARCH_SHARE = 0.15
# A last piece shorter than this is merged into the one before.
MIN_TAIL_S = 20.0
WRITE_EVERY = 64 * 1024


class AudioError(Exception):
    """A recording that cannot be transcribed; ``message`` is French, for the user."""

    def __init__(self, message: str, code: str, detail: str = ""):
        super().__init__(detail or message)
        self.message, self.code, self.detail = message, code, detail


@dataclass(frozen=True)
class Decoded:
    """A recording decoded to PCM on disk: its length and the loudness of each window."""

    samples: int
    levels: list[float]

    @property
    def duration(self) -> float:
        return self.samples / RATE


def _unreadable(detail: str) -> AudioError:
    return AudioError("Le fichier audio est illisible ou endommagé : vérifiez qu'il s'ouvre dans "
                      "un lecteur, puis envoyez-le à nouveau.", "audio_illisible", detail)


def decode(source: str | os.PathLike[str], target: str | os.PathLike[str], *,
           max_seconds: float, on_progress: Callable[[float], None] | None = None) -> Decoded:
    """Decode the first audio stream of ``source`` into 16 kHz mono s16 PCM at ``target``.

    Raises :class:`AudioError` for a file FFmpeg cannot read, one without sound, or one
    longer than ``max_seconds`` (seen from the container's header when it says, otherwise
    once decoding passes the limit, so the disk holds at most that much).
    """
    import av  # imported here: only job workers decode

    try:
        container = av.open(str(source))
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise _unreadable(f"open: {type(exc).__name__}: {exc}") from None
    with container:
        if not container.streams.audio:
            raise AudioError("Ce fichier ne contient pas de piste audio.", "audio_sans_piste",
                             f"streams: {[s.type for s in container.streams]}")
        stream = container.streams.audio[0]
        if container.duration and container.duration / 1_000_000 > max_seconds + 1:
            raise _too_long(container.duration / 1_000_000, max_seconds)
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        levels: list[float] = []
        carry = np.zeros(0, dtype=np.int16)
        samples = 0
        pending: list[bytes] = []
        pending_bytes = 0
        with open(target, "wb") as out:
            def emit(pcm: np.ndarray) -> None:
                nonlocal carry, samples, pending_bytes
                if not pcm.size:
                    return
                pending.append(pcm.tobytes())
                samples += pcm.size
                if samples > (max_seconds + 1) * RATE:
                    raise _too_long(samples / RATE, max_seconds)
                carry = np.concatenate([carry, pcm])
                whole = carry.size - carry.size % WINDOW
                if whole:
                    blocks = carry[:whole].astype(np.float32).reshape(-1, WINDOW)
                    levels.extend(np.sqrt((blocks * blocks).mean(axis=1)).round(1).tolist())
                    carry = carry[whole:]
                pending_bytes += pcm.size * SAMPLE_BYTES
                if pending_bytes >= WRITE_EVERY:
                    out.write(b"".join(pending))
                    pending.clear()
                    pending_bytes = 0
                    if on_progress is not None:
                        on_progress(samples / RATE)

            try:
                for frame in container.decode(stream):
                    for converted in resampler.resample(frame):
                        emit(converted.to_ndarray().reshape(-1))
                for converted in resampler.resample(None):
                    emit(converted.to_ndarray().reshape(-1))
            except av.FFmpegError as exc:
                raise _unreadable(f"decode: {type(exc).__name__}: {exc}") from None
            out.write(b"".join(pending))
        if carry.size:
            tail = carry.astype(np.float32)
            levels.append(round(float(np.sqrt((tail * tail).mean())), 1))
    if samples == 0:
        raise AudioError("L'enregistrement est vide : il ne contient aucun son.", "audio_vide",
                         "no samples decoded")
    if max(levels, default=0.0) < SILENCE_RMS:
        raise AudioError("L'enregistrement ne contient que du silence : aucune parole à "
                         "transcrire.", "audio_silencieux", f"max rms {max(levels, default=0.0)}")
    return Decoded(samples=samples, levels=levels)


def _too_long(seconds: float, max_seconds: float) -> AudioError:
    return AudioError(f"L'enregistrement dépasse la durée maximale acceptée ({_clock(max_seconds)}) : "
                      "coupez-le en plusieurs fichiers.", "audio_trop_long",
                      f"{seconds:.0f} s > {max_seconds:.0f} s")


def _clock(seconds: float) -> str:
    hours, minutes = divmod(int(round(seconds / 60)), 60)
    return f"{hours} h {minutes:02d}" if hours else f"{minutes} min"


def plan(decoded: Decoded, piece_seconds: float) -> list[tuple[int, int]]:
    """Pieces as ``(first sample, end sample)``, each about ``piece_seconds`` long and cut at
    the quietest window of the last stretch before its target."""
    levels = decoded.levels
    total = decoded.samples
    piece = max(1, int(piece_seconds / WINDOW_S))
    search = max(1, int(piece * SEARCH_SHARE))
    tail = int(MIN_TAIL_S / WINDOW_S)
    pieces: list[tuple[int, int]] = []
    start = 0  # in windows
    count = len(levels)
    while start < count:
        target = start + piece
        if target + tail >= count:
            pieces.append((start * WINDOW, total))
            break
        window = np.asarray(levels[target - search:target])
        # Of the quietest windows (a pause is many of them), the one nearest the target.
        floor = float(window.min())
        quiet = np.flatnonzero(window <= max(floor * 1.5, floor + 10.0))
        quietest = target - search + int(quiet[-1])
        end = max(quietest, start + 1)
        pieces.append((start * WINDOW, end * WINDOW))
        start = end
    return pieces


def piece_wav(pcm_path: str | os.PathLike[str], first: int, end: int) -> bytes:
    """Samples ``first``..``end`` of a PCM file as a 16 kHz mono WAV file."""
    with open(pcm_path, "rb") as source:
        source.seek(first * SAMPLE_BYTES)
        data = source.read((end - first) * SAMPLE_BYTES)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(SAMPLE_BYTES)
        out.setframerate(RATE)
        out.writeframes(data)
    return buffer.getvalue()


def pcm_complete(pcm_path: Path, samples: int) -> bool:
    """Whether a PCM file from an earlier run of this job is there whole."""
    return pcm_path.is_file() and pcm_path.stat().st_size == samples * SAMPLE_BYTES


def as_json(decoded: Decoded, pieces: list[tuple[int, int]]) -> dict[str, Any]:
    """What the plan step stores (small: the pieces' bounds, not the loudness)."""
    return {"samples": decoded.samples, "duration": round(decoded.duration, 2),
            "pieces": [[a, b] for a, b in pieces]}
