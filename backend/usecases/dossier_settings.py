"""Settings of the dossier synthesis: what one dossier may hold, how its job runs, how long
it is kept.

Limits bound what one magistrate's dossier may cost the server (reading, OCR, model calls)
and are checked in the request that creates it, before anything is stored; the job's own
files limit (``PLUME_JOB_MAX_INPUT_BYTES``) still applies underneath.
"""
from __future__ import annotations

from typing import Any

from ..settings import ConfigError, Setting

MIB = 1024 * 1024

SETTINGS: list[Setting] = [
    Setting("PLUME_DOSSIER_MAX_FILES", "int", 80,
            "Files one dossier may hold (more is refused with a 413)."),
    Setting("PLUME_DOSSIER_MAX_FILE_BYTES", "int", 100 * MIB,
            "Largest file of a dossier; a larger one stays in the inventory with its error and "
            "is not read."),
    Setting("PLUME_DOSSIER_MAX_BYTES", "int", 400 * MIB,
            "Largest total size of a dossier's files (more is refused with a 413)."),
    Setting("PLUME_DOSSIER_MAX_FILE_PAGES", "int", 2000,
            "Most pages of one file (a 10,000-page PDF stays in the inventory with its error)."),
    Setting("PLUME_DOSSIER_MAX_PAGES", "int", 3000,
            "Most pages of a whole dossier, counted over its readable files (more: 413)."),
    Setting("PLUME_DOSSIER_PAGES_PER_STEP", "int", 20,
            "Pages a reading step takes at once (a restarted worker re-reads at most this many "
            "pages of a file)."),
    Setting("PLUME_DOSSIER_READ_CONCURRENCY", "int", 2,
            "Reading steps (ranges of pages, OCR included) one dossier runs at the same time: "
            "about the cores a worker may give it."),
    Setting("PLUME_DOSSIER_MAP_CONCURRENCY", "int", 3,
            "Model calls one dossier makes at the same time toward the host."),
    Setting("PLUME_DOSSIER_RETENTION_DAYS", "float", 30.0,
            "Days a finished dossier (its files, synthesis and steps) is kept before it is "
            "deleted; files are never kept longer than their dossier."),
]


def validate(config: dict[str, Any]) -> None:
    """Fail fast on inconsistent dossier settings."""
    for key in ("DOSSIER_MAX_FILES", "DOSSIER_MAX_FILE_BYTES", "DOSSIER_MAX_BYTES",
                "DOSSIER_MAX_FILE_PAGES", "DOSSIER_MAX_PAGES", "DOSSIER_PAGES_PER_STEP",
                "DOSSIER_MAP_CONCURRENCY", "DOSSIER_READ_CONCURRENCY"):
        if config.get(key, 1) < 1:
            raise ConfigError(f"PLUME_{key} must be at least 1")
    if config.get("DOSSIER_RETENTION_DAYS", 1) <= 0:
        raise ConfigError("PLUME_DOSSIER_RETENTION_DAYS must be more than 0")
