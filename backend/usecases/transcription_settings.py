"""Settings of hearing transcription (long recordings as background jobs)."""
from __future__ import annotations

from ..settings import Setting

SETTINGS: list[Setting] = [
    Setting("PLUME_HEARING_MAX_BYTES", "int", 2 * 1024 ** 3,
            "Largest recording accepted by `/api/v1/transcriptions` (sent whole or in parts); "
            "also bounded by `PLUME_JOB_MAX_INPUT_BYTES`.",
            at_least=1),
    Setting("PLUME_HEARING_MAX_MINUTES", "int", 300,
            "Longest recording transcribed, in minutes; a longer one fails with a French message "
            "before any transcription.",
            at_least=1),
    Setting("PLUME_HEARING_PIECE_SECONDS", "int", 120,
            "Target length of the pieces a recording is cut into (on a silence), each one step "
            "of the job and one request to the speech-to-text host: a worker restart loses at "
            "most the piece in flight; the embedded model's memory follows it (about 0.75 GB at "
            "120 s, over 1.3 GB at 240 s). At most 780 (a 16 kHz WAV piece stays under a host's "
            "25 MB).",
            at_least=10, at_most=780),
    Setting("PLUME_HEARING_CONCURRENCY", "int", 2,
            "Pieces of one recording sent to the speech-to-text host at the same time.",
            at_least=1),
    Setting("PLUME_HEARING_RETENTION_HOURS", "float", 48.0,
            "Hours a finished transcription (recording, transcript) is kept before it is "
            "deleted with its job; an upload never completed is deleted that long after its last "
            "part (workers purge every `PLUME_JOB_PURGE_MINUTES`).",
            above=0),
    Setting("PLUME_HEARING_PART_BYTES", "int", 8 * 1024 * 1024,
            "Largest part of a resumable upload (`PUT /api/v1/transcriptions/{id}/upload`).",
            at_least=1),
    Setting("PLUME_HEARING_WORD_TIMES", "bool", True,
            "Ask the speech-to-text host for each word's time (`timestamp_granularities` "
            "word), given per segment as `words` when the host answers them; the embedded "
            "Whisper then runs an alignment pass (its cost: docs/transcription.md)."),
]

