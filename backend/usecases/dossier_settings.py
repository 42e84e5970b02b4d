"""Settings of the dossier synthesis: what one dossier may hold, how its job runs, how long
it is kept.

Limits bound what one magistrate's dossier may cost the server (reading, OCR, model calls)
and are checked in the request that creates it, before anything is stored; the job's own
files limit (``PLUME_JOB_MAX_INPUT_BYTES``) still applies underneath.
"""
from __future__ import annotations

from ..settings import Setting

MIB = 1024 * 1024

SETTINGS: list[Setting] = [
    Setting("PLUME_DOSSIER_MAX_FILES", "int", 80,
            "Files one dossier may hold (more is refused with a 413).",
            at_least=1),
    Setting("PLUME_DOSSIER_MAX_FILE_BYTES", "int", 100 * MIB,
            "Largest file of a dossier; a larger one stays in the inventory with its error and "
            "is not read.",
            at_least=1),
    Setting("PLUME_DOSSIER_MAX_BYTES", "int", 400 * MIB,
            "Largest total size of a dossier's files (more is refused with a 413).",
            at_least=1),
    Setting("PLUME_DOSSIER_MAX_FILE_PAGES", "int", 2000,
            "Most pages of one file (a 10,000-page PDF stays in the inventory with its error).",
            at_least=1),
    Setting("PLUME_DOSSIER_MAX_PAGES", "int", 3000,
            "Most pages of a whole dossier, counted over its readable files (more: 413).",
            at_least=1),
    Setting("PLUME_DOSSIER_PAGES_PER_STEP", "int", 20,
            "Pages a reading step takes at once (a restarted worker re-reads at most this many "
            "pages of a file).",
            at_least=1),
    Setting("PLUME_DOSSIER_READ_CONCURRENCY", "int", 2,
            "Reading steps (ranges of pages, OCR included) one dossier runs at the same time: "
            "about the cores a worker may give it.",
            at_least=1),
    Setting("PLUME_DOSSIER_MAP_CONCURRENCY", "int", 3,
            "Model calls one dossier makes at the same time toward the host.",
            at_least=1),
    Setting("PLUME_DOSSIER_RETENTION_DAYS", "float", 30.0,
            "Days a finished dossier (its files, synthesis, versions and steps) is kept before "
            "it is deleted, a dossier never started that long after it was sent; files are never "
            "kept longer than their dossier (workers purge every `PLUME_JOB_PURGE_MINUTES`).",
            above=0),
]

