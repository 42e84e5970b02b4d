"""Settings of the jobs room."""
from __future__ import annotations

from typing import Any

from ..settings import ConfigError, Setting

SETTINGS: list[Setting] = [
    Setting("PLUME_JOB_WORKERS", "int", 2,
            "Jobs (dossiers, hearings) one worker process runs at the same time, one thread each "
            "(`python -m backend worker`, and the worker inside `serve`)."),
    Setting("PLUME_JOB_WORKER_IN_SERVE", "bool", True,
            "`serve` (`make run`) also runs a job worker in its own process, so one command does "
            "everything; `0` when separate `python -m backend worker` processes run the jobs."),
    Setting("PLUME_JOB_LEASE_SECONDS", "float", 60.0,
            "How long a job stays with its worker without a heartbeat; a job whose worker died "
            "is picked again by another once this has passed (heartbeats come every third of it)."),
    Setting("PLUME_JOB_MAX_ATTEMPTS", "int", 3,
            "Runs of a job before it is marked failed (a step that raises, a worker that died)."),
    Setting("PLUME_JOB_RETRY_DELAY", "float", 10.0,
            "Seconds before a failed run is tried again, doubled at each further attempt."),
    Setting("PLUME_JOB_POLL_SECONDS", "float", 5.0,
            "An idle worker looks for jobs this often (new jobs also wake it at once through "
            "PostgreSQL LISTEN/NOTIFY)."),
    Setting("PLUME_JOB_STOP_GRACE", "float", 20.0,
            "On SIGTERM, seconds a worker waits for its running steps to finish before handing "
            "their jobs back to the queue (keep it under the orchestrator's own grace period)."),
    Setting("PLUME_JOB_MAX_INPUT_BYTES", "int", 1024 ** 3,
            "Largest total size of the files stored with one job (a dossier's files, a recording)."),
    Setting("PLUME_JOB_HANDLERS", "list", [],
            "Extra Python modules imported at start to register job handlers (comma-separated); "
            "the use cases register their own."),
]


def validate(config: dict[str, Any]) -> None:
    """Fail fast on inconsistent job settings."""
    if config.get("JOB_WORKERS", 1) < 1:
        raise ConfigError("PLUME_JOB_WORKERS must be at least 1")
    if config.get("JOB_LEASE_SECONDS", 1) <= 0:
        raise ConfigError("PLUME_JOB_LEASE_SECONDS must be more than 0")
    if config.get("JOB_MAX_ATTEMPTS", 1) < 1:
        raise ConfigError("PLUME_JOB_MAX_ATTEMPTS must be at least 1")
    for key in ("JOB_RETRY_DELAY", "JOB_STOP_GRACE"):
        if config.get(key, 0) < 0:
            raise ConfigError(f"PLUME_{key} must be 0 or more")
    if config.get("JOB_POLL_SECONDS", 1) <= 0:
        raise ConfigError("PLUME_JOB_POLL_SECONDS must be more than 0")
    if config.get("JOB_MAX_INPUT_BYTES", 1) < 1:
        raise ConfigError("PLUME_JOB_MAX_INPUT_BYTES must be at least 1")
