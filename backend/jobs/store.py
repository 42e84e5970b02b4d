"""The jobs' rows: plain SQL over ``jobs``, ``job_steps``, ``job_blobs`` and ``job_blob_chunks``.

Two kinds of functions live here. Those for use cases (:func:`submit`, :func:`get`,
:func:`list_for`, :func:`cancel`, :func:`delete`, blobs) check the owner and raise
:mod:`backend.errors` errors with French messages. Those for workers (``pick``, ``heartbeat``,
step and finish writes) are *fenced*: each names the lease token its worker received when it
picked the job, and writes nothing once another worker holds the job (they return False).
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, Iterator, Mapping, Union

import psycopg
from flask import current_app
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from .. import db
from ..errors import AppError, Forbidden, NotFound, PayloadTooLarge, ValidationError

log = logging.getLogger(__name__)

CHANNEL = "plume_jobs"
CHUNK_BYTES = 1024 * 1024
# Params say what to do (ids, options, blob names); texts and files go into blobs.
MAX_PARAMS_BYTES = 64 * 1024
MAX_BLOB_NAME = 255
PICK_LOCK = 0x504C4A42  # "PLJB"; the migrations hold "PLUM"
STATES = ("queued", "running", "done", "failed", "cancelled")
FINISHED = ("done", "failed", "cancelled")


@dataclass(frozen=True)
class Blob:
    """An input file for :func:`submit`: bytes or a binary stream read in chunks."""

    source: Union[bytes, BinaryIO]
    content_type: str | None = None


@dataclass(frozen=True)
class BlobInfo:
    name: str
    size: int
    content_type: str | None
    sha256: str | None


@dataclass(frozen=True)
class Job:
    """What a use case (and through it, a pane) may know of a job."""

    id: str
    kind: str
    state: str
    params: dict[str, Any]
    progress_done: int
    progress_total: int | None
    progress_message: str | None
    result: Any
    error_code: str | None
    error_message: str | None
    attempts: int
    cancel_requested: bool
    version: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    progress_detail: dict[str, Any] | None = None
    held: bool = False  # queued and kept off the workers until start_held

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def to_dict(self) -> dict[str, Any]:
        """The JSON a view may send (params and owner stay on the server)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "progress": {"done": self.progress_done, "total": self.progress_total,
                         "message": self.progress_message},
            "result": self.result,
            "error": ({"code": self.error_code, "message": self.error_message}
                      if self.error_code else None),
            "cancel_requested": self.cancel_requested,
            "attempts": self.attempts,
            "version": self.version,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


_JOB_COLUMNS = """id::text AS id, kind, state, params, progress_done, progress_total,
    progress_message, result, error_code, error_message, attempts, cancel_requested, version,
    created_at, started_at, finished_at, progress_detail,
    (state = 'queued' AND run_after = 'infinity') AS held"""


def _job(row: Mapping[str, Any]) -> Job:
    return Job(**{name: row[name] for name in Job.__dataclass_fields__})


def _uuid(job_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(job_id))
    except ValueError:
        return None


def not_found(job_id: object) -> NotFound:
    return NotFound("Ce traitement n'existe pas ou n'est pas le vôtre.", code="traitement_introuvable",
                    detail=f"job {job_id!r} not found for this owner")


# --- for use cases -----------------------------------------------------------------------------

def submit(kind: str, owner: str, params: Mapping[str, Any] | None = None, *,
           blobs: Mapping[str, Union[Blob, bytes, BinaryIO]] | None = None,
           max_attempts: int | None = None, hold: bool = False,
           known_kinds: frozenset[str] = frozenset(), job_id: str | None = None) -> str:
    """Queue a job; its row and every blob are written in one transaction, or nothing is.

    ``hold=True``: no worker takes it (``run_after`` is infinity) until :func:`start_held`;
    meanwhile :func:`append_blob` adds files part by part (a resumable upload).
    ``job_id``: a UUID the caller chose (a dossier's id is its audit record's id)."""
    if not isinstance(kind, str) or kind not in known_kinds:
        raise ValidationError("kind", "Ce type de traitement n'existe pas.",
                              code="traitement_inconnu",
                              detail=f"no handler registered for job kind {kind!r}")
    if not isinstance(owner, str) or not owner.strip():
        raise ValidationError("owner", "Le traitement doit appartenir à un utilisateur.",
                              detail="job owner must be a non-empty user hash")
    try:
        encoded = json.dumps(dict(params or {}), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError("params", "Les paramètres du traitement sont invalides.",
                              detail=f"job params are not JSON: {exc}") from None
    if len(encoded.encode()) > MAX_PARAMS_BYTES:
        raise ValidationError("params", "Les paramètres du traitement sont trop volumineux.",
                              detail=f"job params exceed {MAX_PARAMS_BYTES} bytes: put texts "
                                     "and files in blobs")
    inputs = {name: (value if isinstance(value, Blob) else Blob(value))
              for name, value in (blobs or {}).items()}
    for name in inputs:
        _check_blob_name(name)
    if max_attempts is not None and (not isinstance(max_attempts, int) or max_attempts < 1):
        raise ValidationError("max_attempts", "Le nombre de tentatives est invalide.",
                              detail=f"max_attempts must be an int >= 1, not {max_attempts!r}")
    config = current_app.config
    attempts = max_attempts or config["JOB_MAX_ATTEMPTS"]
    chosen = _uuid(job_id) if job_id is not None else uuid.uuid4()
    if chosen is None:
        raise ValidationError("job_id", "L'identifiant du traitement est invalide.",
                              detail=f"job_id {job_id!r} is not a UUID")
    job_id = chosen
    with db.connection() as conn:  # one transaction: an error below leaves nothing behind
        conn.execute(
            """INSERT INTO jobs (id, owner, kind, params, max_attempts, run_after)
               VALUES (%(id)s, %(owner)s, %(kind)s, %(params)s::jsonb, %(attempts)s,
                       CASE WHEN %(hold)s THEN 'infinity'::timestamptz ELSE now() END)""",
            {"id": job_id, "owner": owner, "kind": kind, "params": encoded,
             "attempts": attempts, "hold": hold})
        budget = config["JOB_MAX_INPUT_BYTES"]
        for name, blob in inputs.items():
            budget -= _write_blob(conn, job_id, name, blob, budget)
        if not hold:
            conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"new:{kind}"))
    log.info("job submitted", extra={"job_id": str(job_id), "kind": kind,
                                     "blobs": len(inputs)})
    return str(job_id)


def _check_blob_name(name: object) -> None:
    if (not isinstance(name, str) or not name.strip() or len(name) > MAX_BLOB_NAME
            or any(ord(c) < 32 for c in name)):
        raise ValidationError("blobs", "Un nom de fichier est invalide.",
                              detail=f"invalid blob name {name!r}")


def _write_blob(conn: psycopg.Connection, job_id: uuid.UUID, name: str, blob: Blob,
                budget: int, *, create: bool = True, seq: int = 0, size: int = 0) -> int:
    """Store one blob chunk by chunk (a new one, or after the ``seq`` chunks and ``size``
    bytes stored before); returns the bytes written now. Over ``budget``: PayloadTooLarge."""
    source = io.BytesIO(blob.source) if isinstance(blob.source, (bytes, bytearray)) else blob.source
    if not hasattr(source, "read"):
        raise ValidationError("blobs", "Un fichier joint est illisible.",
                              detail=f"blob {name!r} is neither bytes nor a binary stream")
    if create:
        conn.execute("INSERT INTO job_blobs (job_id, name, content_type) VALUES (%s, %s, %s)",
                     (job_id, name, blob.content_type))
    written, digest = 0, hashlib.sha256()
    while chunk := source.read(CHUNK_BYTES):
        if not isinstance(chunk, (bytes, bytearray)):
            raise ValidationError("blobs", "Un fichier joint est illisible.",
                                  detail=f"blob {name!r} stream yields {type(chunk).__name__}")
        written += len(chunk)
        if written > budget:
            limit = current_app.config["JOB_MAX_INPUT_BYTES"]
            raise PayloadTooLarge(
                f"Les fichiers de ce traitement dépassent la taille permise "
                f"({limit // (1024 * 1024)} Mo au total).", code="fichiers_trop_volumineux",
                detail=f"job blobs exceed JOB_MAX_INPUT_BYTES={limit} at {name!r}")
        digest.update(chunk)
        conn.execute("INSERT INTO job_blob_chunks (job_id, name, seq, data) VALUES (%s, %s, %s, %s)",
                     (job_id, name, seq, bytes(chunk)))
        seq += 1
    # A blob written in one go gets its digest; one appended part by part has none (the
    # hash state of the earlier parts is gone, and hashing 500 MB again here would be waste).
    conn.execute("UPDATE job_blobs SET size = %s, sha256 = %s WHERE job_id = %s AND name = %s",
                 (size + written, digest.hexdigest() if size == 0 else None, job_id, name))
    return written


def append_blob(job_id: str, owner: str, name: str, data: Union[bytes, BinaryIO], *,
                offset: int, content_type: str | None = None) -> int:
    """Add a part to a blob of a held job (see ``submit(hold=True)``) at byte ``offset``;
    returns the blob's size now. ``offset`` must be the size stored so far: otherwise a 409
    says which (``extra["size"]``), so a client whose part was lost resumes from there."""
    key = _uuid(job_id)
    if key is None:
        raise not_found(job_id)
    _check_blob_name(name)
    with db.connection() as conn:
        # Locks the job: two parts of one upload arriving together are written one at a time.
        row = conn.execute("""SELECT run_after = 'infinity' AND state = 'queued' FROM jobs
                               WHERE id = %s AND owner = %s FOR UPDATE""", (key, owner)).fetchone()
        if row is None:
            raise not_found(job_id)
        if not row[0]:
            raise AppError("Ce traitement a déjà commencé : on ne peut plus lui ajouter de fichier.",
                           code="envoi_clos", status=409, detail=f"job {key} is not held")
        total = conn.execute("SELECT coalesce(sum(size), 0) FROM job_blobs WHERE job_id = %s",
                             (key,)).fetchone()[0]
        stored = conn.execute(
            """SELECT size, (SELECT count(*) FROM job_blob_chunks c
                              WHERE c.job_id = b.job_id AND c.name = b.name)
                 FROM job_blobs b WHERE job_id = %s AND name = %s""", (key, name)).fetchone()
        size, seq = stored or (0, 0)
        if offset != size:
            raise AppError("Cette partie du fichier ne suit pas la précédente ; reprenez l'envoi "
                           f"à l'octet {size}.", code="envoi_decale", status=409,
                           detail=f"part at offset {offset}, blob {name!r} holds {size} bytes",
                           extra={"size": size})
        budget = current_app.config["JOB_MAX_INPUT_BYTES"] - total
        written = _write_blob(conn, key, name, Blob(data, content_type), budget,
                              create=stored is None, seq=seq, size=size)
        conn.execute("UPDATE jobs SET version = version + 1, updated_at = now() WHERE id = %s",
                     (key,))
    return size + written


def start_held(job_id: str, owner: str) -> Job:
    """Let workers take a held job (its files are complete). Again on a started job: no change."""
    key = _uuid(job_id)
    if key is None:
        raise not_found(job_id)
    with db.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"""UPDATE jobs SET run_after = now(), version = version + 1, updated_at = now()
                 WHERE id = %s AND owner = %s AND state = 'queued' AND run_after = 'infinity'
             RETURNING {_JOB_COLUMNS}""", (key, owner)).fetchone()
        if row is not None:
            cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"new:{row['kind']}"))
    return _job(row) if row is not None else get(job_id, owner)


def get(job_id: str, owner: str) -> Job:
    """The job if it belongs to ``owner``; else NotFound (the same answer whether it exists)."""
    key = _uuid(job_id)
    if key is None:
        raise not_found(job_id)
    with db.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = %s AND owner = %s",
                          (key, owner)).fetchone()
    if row is None:
        raise not_found(job_id)
    return _job(row)


def check_owner(job_id: str, owner: str, *, kind: str | None = None) -> None:
    """Nothing if ``owner``'s job of ``kind`` exists; Forbidden (403) when it is someone
    else's, NotFound (404) when there is no such job. For APIs whose contract tells the two
    apart (a dossier); :func:`get` answers 404 to both."""
    key = _uuid(job_id)
    if key is None:
        raise not_found(job_id)
    with db.connection() as conn:
        row = conn.execute("SELECT owner FROM jobs WHERE id = %s AND (%s::text IS NULL OR kind = %s)",
                           (key, kind, kind)).fetchone()
    if row is None:
        raise not_found(job_id)
    if row[0] != owner:
        raise Forbidden("Ce traitement appartient à un autre utilisateur.", code="acces_refuse",
                        detail=f"job {key} belongs to another owner")


def list_for(owner: str, *, kind: str | None = None, limit: int = 50) -> list[Job]:
    """The owner's jobs, newest first."""
    with db.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"""SELECT {_JOB_COLUMNS} FROM jobs
                 WHERE owner = %(owner)s AND (%(kind)s::text IS NULL OR kind = %(kind)s)
                 ORDER BY created_at DESC LIMIT %(limit)s""",
            {"owner": owner, "kind": kind, "limit": limit}).fetchall()
    return [_job(row) for row in rows]


def cancel(job_id: str, owner: str) -> Job:
    """Cancel a queued job at once; ask a running one to stop (its worker sees it at the next
    step or check). A finished job, or one sealed (:func:`seal`: its run is recording its
    success), is returned unchanged, without ``cancel_requested``."""
    key = _uuid(job_id)
    if key is None:
        raise not_found(job_id)
    with db.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"""UPDATE jobs SET
                    cancel_requested = true,
                    state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END,
                    finished_at = CASE WHEN state = 'queued' THEN now() ELSE finished_at END,
                    lease_token = CASE WHEN state = 'queued' THEN NULL ELSE lease_token END,
                    version = version + 1, updated_at = now()
                 WHERE id = %s AND owner = %s AND state IN ('queued', 'running') AND NOT sealed
             RETURNING {_JOB_COLUMNS}""", (key, owner)).fetchone()
        if row is not None:
            cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"cancel:{key}"))
    if row is None:
        return get(job_id, owner)
    log.info("job cancel requested", extra={"job_id": str(key), "state": row["state"]})
    return _job(row)


def delete(job_id: str, owner: str) -> None:
    """Delete a job with its steps and blobs. A worker still running it loses its lease
    (its next write finds no row) and stops."""
    key = _uuid(job_id)
    if key is None:
        raise not_found(job_id)
    with db.connection() as conn:
        deleted = conn.execute("DELETE FROM jobs WHERE id = %s AND owner = %s RETURNING id",
                               (key, owner)).fetchone()
    if deleted is None:
        raise not_found(job_id)
    log.info("job deleted", extra={"job_id": str(key)})


def blob_infos(job_id: str) -> list[BlobInfo]:
    """The blobs stored with a job (no owner check: for handlers and after :func:`get`)."""
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT name, size, content_type, sha256 FROM job_blobs WHERE job_id = %s ORDER BY name",
            (_uuid(job_id),)).fetchall()
    return [BlobInfo(*row) for row in rows]


class BlobReader(io.RawIOBase):
    """A stored blob read one chunk (one query) at a time."""

    def __init__(self, job_id: uuid.UUID, name: str, chunks: int):
        super().__init__()
        self._job_id, self._name, self._chunks = job_id, name, chunks
        self._seq = 0
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        if not self._buffer and self._seq < self._chunks:
            with db.connection() as conn:
                row = conn.execute(
                    "SELECT data FROM job_blob_chunks WHERE job_id = %s AND name = %s AND seq = %s",
                    (self._job_id, self._name, self._seq)).fetchone()
            if row is None:  # deleted with its job meanwhile
                raise OSError(f"blob {self._name!r} of job {self._job_id} is gone")
            self._buffer = bytes(row[0])
            self._seq += 1
        count = min(len(target), len(self._buffer))
        target[:count] = self._buffer[:count]
        self._buffer = self._buffer[count:]
        return count


def open_blob(job_id: str, name: str) -> io.BufferedReader:
    """A binary stream over a job's blob; NotFound if there is none by that name."""
    key = _uuid(job_id)
    with db.connection() as conn:
        row = conn.execute(
            """SELECT count(c.seq) FROM job_blobs b
                 LEFT JOIN job_blob_chunks c ON c.job_id = b.job_id AND c.name = b.name
                WHERE b.job_id = %s AND b.name = %s GROUP BY b.name""", (key, name)).fetchone()
    if row is None:
        raise NotFound("Ce fichier n'existe pas.", code="fichier_introuvable",
                       detail=f"no blob {name!r} for job {job_id}")
    return io.BufferedReader(BlobReader(key, name, row[0]), buffer_size=CHUNK_BYTES)


# --- for workers (fenced by the lease token) -----------------------------------------------------

_PICK = f"""
WITH next AS (
    SELECT id FROM jobs
     WHERE kind = ANY(%(kinds)s)
       AND ((state = 'queued' AND run_after <= now())
            OR (state = 'running' AND lease_until < now()))
     -- Fair between users: the owner with the fewest jobs running first, then the oldest job.
     ORDER BY (SELECT count(*) FROM jobs mine
                WHERE mine.owner = jobs.owner AND mine.state = 'running'), created_at
     LIMIT 1
     FOR UPDATE SKIP LOCKED
)
UPDATE jobs j SET state = 'running', attempts = j.attempts + 1, worker = %(worker)s,
       lease_token = gen_random_uuid(), sealed = false,
       lease_until = now() + make_interval(secs => %(lease)s),
       started_at = coalesce(j.started_at, now()), version = j.version + 1, updated_at = now()
  FROM next WHERE j.id = next.id
RETURNING j.{_JOB_COLUMNS}, j.owner, j.max_attempts, j.lease_token::text AS lease_token
"""


def pick(kinds: list[str], worker: str, lease: float) -> dict[str, Any] | None:
    """Take a job ready to run (queued, or running under an expired lease): the oldest of the
    owner with the fewest jobs running."""
    with db.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        # Picks take turns (a pick is a few milliseconds; a job runs for minutes), so each one
        # sees the jobs the previous one set running and fairness between owners holds.
        # SKIP LOCKED still keeps a pick from waiting on a row a heartbeat or a cancel holds.
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (PICK_LOCK,))
        return cur.execute(_PICK, {"kinds": kinds, "worker": worker, "lease": lease}).fetchone()


def heartbeat(leases: Mapping[str, str], lease: float) -> dict[str, bool]:
    """Extend the leases still held; returns ``{job_id: cancel_requested}`` for those."""
    if not leases:
        return {}
    ids, tokens = zip(*leases.items())
    with db.connection() as conn:
        rows = conn.execute(
            """UPDATE jobs j SET lease_until = now() + make_interval(secs => %(lease)s)
                 FROM unnest(%(ids)s::uuid[], %(tokens)s::uuid[]) AS held(id, token)
                WHERE j.id = held.id AND j.lease_token = held.token AND j.state = 'running'
            RETURNING j.id::text, j.cancel_requested""",
            {"ids": list(ids), "tokens": list(tokens), "lease": lease}).fetchall()
    return dict(rows)


_HELD = "id = %(id)s AND lease_token = %(token)s AND state = 'running'"


def seal(job_id: str, token: str) -> bool:
    """Seal a held job before its run records a success: False when a cancel came first
    (then the job must end ``cancelled``). One conditional UPDATE, as :func:`cancel` is, so
    exactly one of the two wins."""
    with db.connection() as conn:
        row = conn.execute(
            f"""UPDATE jobs SET sealed = true WHERE {_HELD} AND NOT cancel_requested
            RETURNING id""", {"id": job_id, "token": token}).fetchone()
    return row is not None


def call_sent(job_id: str, token: str, step: str, attempt: int, usage: Mapping[str, Any]) -> int | None:
    """Note a host call before it is sent (``usage``: what it should cost); its id, or None
    when the lease is lost."""
    with db.connection() as conn:
        row = conn.execute(
            f"""INSERT INTO job_calls (job_id, step, attempt, state, usage)
                SELECT id, %(step)s, %(attempt)s, 'sent', %(usage)s FROM jobs
                 WHERE {_HELD} FOR SHARE
             RETURNING id""",
            {"id": job_id, "token": token, "step": step, "attempt": attempt,
             "usage": Jsonb(dict(usage))}).fetchone()
    return row[0] if row else None


def call_ended(job_id: str, call_id: int, state: str, usage: Mapping[str, Any] | None) -> None:
    """The call's answer is in (``answered`` with the host's usage) or it failed."""
    with db.connection() as conn:
        conn.execute(
            """UPDATE job_calls SET state = %(state)s, usage = coalesce(%(usage)s, usage)
                WHERE job_id = %(id)s AND id = %(call)s""",
            {"id": job_id, "call": call_id, "state": state,
             "usage": Jsonb(dict(usage)) if usage is not None else None})


def calls(job_id: str) -> list[dict[str, Any]]:
    """Every host call of a job, in order: ``step``, ``attempt``, ``state``, ``usage``."""
    with db.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT step, attempt, state, usage FROM job_calls WHERE job_id = %s "
                           "ORDER BY id", (job_id,)).fetchall()


def cancel_requested(job_id: str) -> bool:
    with db.connection() as conn:
        row = conn.execute("SELECT cancel_requested FROM jobs WHERE id = %s", (job_id,)).fetchone()
    return bool(row and row[0])


def finished_steps(job_id: str) -> dict[str, Any]:
    """``{key: result}`` of the steps a previous run finished."""
    with db.connection() as conn:
        rows = conn.execute("SELECT key, result FROM job_steps WHERE job_id = %s AND state = 'done'",
                            (job_id,)).fetchall()
    return dict(rows)


def step_started(job_id: str, token: str, key: str) -> bool:
    with db.connection() as conn:
        return conn.execute(
            f"""INSERT INTO job_steps (job_id, key, state)
                SELECT id, %(key)s, 'running' FROM jobs WHERE {_HELD} FOR SHARE
                ON CONFLICT (job_id, key) DO UPDATE
                   SET state = 'running', attempts = job_steps.attempts + 1, error_code = NULL,
                       started_at = now(), finished_at = NULL""",
            {"id": job_id, "token": token, "key": key}).rowcount == 1


def step_finished(job_id: str, token: str, key: str, result: Any) -> bool:
    with db.connection() as conn:
        return conn.execute(
            f"""UPDATE job_steps SET state = 'done', result = %(result)s, finished_at = now()
                 WHERE job_id = %(id)s AND key = %(key)s
                   AND EXISTS (SELECT 1 FROM jobs WHERE {_HELD} FOR SHARE)""",
            {"id": job_id, "token": token, "key": key, "result": Jsonb(result)}).rowcount == 1


def step_failed(job_id: str, token: str, key: str, code: str) -> None:
    with db.connection() as conn:
        conn.execute(
            f"""UPDATE job_steps SET state = 'failed', error_code = %(code)s, finished_at = now()
                 WHERE job_id = %(id)s AND key = %(key)s
                   AND EXISTS (SELECT 1 FROM jobs WHERE {_HELD} FOR SHARE)""",
            {"id": job_id, "token": token, "key": key, "code": code})


def progress(job_id: str, token: str, done: int, total: int | None, message: str | None,
             detail: Mapping[str, Any] | None = None) -> bool:
    with db.connection() as conn:
        return conn.execute(
            f"""UPDATE jobs SET progress_done = %(done)s, progress_total = %(total)s,
                       progress_message = %(message)s,
                       progress_detail = coalesce(%(detail)s, progress_detail),
                       version = version + 1, updated_at = now()
                 WHERE {_HELD}""",
            {"id": job_id, "token": token, "done": done, "total": total,
             "message": message, "detail": Jsonb(dict(detail)) if detail is not None else None}
        ).rowcount == 1


def finish(job_id: str, token: str | None, state: str, *, result: Any = None,
           error_code: str | None = None, error_message: str | None = None) -> bool:
    """Move a held job (or, with ``token=None``, a job just picked) to a final state."""
    assert state in FINISHED
    held = _HELD if token else "id = %(id)s AND state = 'running'"
    with db.connection() as conn:
        return conn.execute(
            f"""UPDATE jobs SET state = %(state)s, result = %(result)s, error_code = %(code)s,
                       error_message = %(message)s, finished_at = now(), lease_token = NULL,
                       lease_until = NULL, version = version + 1, updated_at = now()
                 WHERE {held}""",
            {"id": job_id, "token": token, "state": state, "result": Jsonb(result),
             "code": error_code, "message": error_message}).rowcount == 1


def retry_later(job_id: str, token: str, delay: float, error_code: str) -> bool:
    """Queue a failed run again after ``delay`` seconds (its finished steps are kept)."""
    with db.connection() as conn:
        return conn.execute(
            f"""UPDATE jobs SET state = 'queued', error_code = NULL, error_message = NULL, sealed = false,
                       run_after = now() + make_interval(secs => %(delay)s), lease_token = NULL,
                       lease_until = NULL, worker = NULL, version = version + 1, updated_at = now()
                 WHERE {_HELD}""",
            {"id": job_id, "token": token, "delay": delay}).rowcount == 1


def release(job_id: str, token: str) -> bool:
    """Hand a job back to the queue at once (a worker stopping); the run is not counted."""
    with db.connection() as conn:
        released = conn.execute(
            f"""UPDATE jobs SET state = 'queued', attempts = greatest(attempts - 1, 0), sealed = false,
                       run_after = now(), lease_token = NULL, lease_until = NULL, worker = NULL,
                       version = version + 1, updated_at = now()
                 WHERE {_HELD}""", {"id": job_id, "token": token}).rowcount == 1
        if released:
            conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, "new:released"))
    return released


def iter_blob(job_id: str, name: str) -> Iterator[bytes]:
    """A blob's chunks in order (for a view that streams a file back)."""
    reader = open_blob(job_id, name)
    while chunk := reader.read(CHUNK_BYTES):
        yield chunk


def queue_status() -> list[dict[str, Any]]:
    """Per kind and state: how many jobs, the oldest one's age, and running jobs whose lease
    has expired (their worker died; another will pick them)."""
    with db.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT kind, state, count(*) AS jobs,
                      extract(epoch FROM now() - min(created_at))::int AS oldest_s,
                      count(*) FILTER (WHERE state = 'running' AND lease_until < now())
                          AS lease_expired
                 FROM jobs GROUP BY kind, state ORDER BY kind, state""").fetchall()
