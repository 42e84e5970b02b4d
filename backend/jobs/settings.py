"""Settings of the jobs room."""
from __future__ import annotations

from ..settings import Setting

SETTINGS: list[Setting] = [
    Setting("PLUME_JOB_WORKERS", "int", 2,
            "Jobs (dossiers, hearings) one worker process runs at the same time, one thread each "
            "(`python -m backend worker`, and the worker inside `serve`).",
            at_least=1),
    Setting("PLUME_JOB_WORKER_IN_SERVE", "bool", True,
            "`serve` (`make run`) also runs a job worker in its own process, so one command does "
            "everything; `0` when separate `python -m backend worker` processes run the jobs."),
    Setting("PLUME_JOB_LEASE_SECONDS", "float", 60.0,
            "How long a job stays with its worker without a heartbeat; a job whose worker died "
            "is picked again by another once this has passed (heartbeats come every third of it).",
            above=0),
    Setting("PLUME_JOB_MAX_ATTEMPTS", "int", 3,
            "Runs of a job before it is marked failed (a step that raises, a worker that died).",
            at_least=1),
    Setting("PLUME_JOB_RETRY_DELAY", "float", 10.0,
            "Seconds before a failed run is tried again, doubled at each further attempt.",
            at_least=0),
    Setting("PLUME_JOB_POLL_SECONDS", "float", 5.0,
            "An idle worker looks for jobs this often (new jobs also wake it at once through "
            "PostgreSQL LISTEN/NOTIFY).",
            above=0),
    Setting("PLUME_JOB_STOP_GRACE", "float", 20.0,
            "On SIGTERM, seconds a worker waits for its running steps to finish before handing "
            "their jobs back to the queue (keep it under the orchestrator's own grace period).",
            at_least=0),
    Setting("PLUME_JOB_MAX_INPUT_BYTES", "int", 1024 ** 3,
            "Largest total size of the files stored with one job (a dossier's files, a recording).",
            at_least=1),
    Setting("PLUME_JOB_PURGE_MINUTES", "float", None,
            "How often each job worker (`python -m backend worker`, the one inside `serve`) "
            "deletes the jobs past their kind's retention (`PLUME_DOSSIER_RETENTION_DAYS`, "
            "`PLUME_HEARING_RETENTION_HOURS`) with their files, one worker at a time across "
            "instances; it also purges when it starts. Unset: `PLUME_HEARING_PURGE_MINUTES`, "
            "else 60.",
            above=0),
    Setting("PLUME_HEARING_PURGE_MINUTES", "float", None,
            "Former name of `PLUME_JOB_PURGE_MINUTES` (when it purged only transcriptions), "
            "still read when that one is unset.",
            above=0),
    Setting("PLUME_JOB_HANDLERS", "list", [],
            "Extra Python modules imported at start to register job handlers (comma-separated); "
            "the use cases register their own."),
]

