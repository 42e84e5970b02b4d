"""The dossier synthesis: a magistrate's whole case file read, analysed and summarised with
references, as a background job.

Flow::

    POST /api/v1/dossiers  ──create()──▶ role, limits, quota (the metered call admits it and
                                         its record stays open), inventory and estimate
                                         (documents.inspect), job submitted with the files
    worker ──run()──▶ read     one step per file or per range of pages (documents.read_pages,
                               OCR included), so a restarted worker resumes where it was
                   ▶ budget    the token estimate against the user's daily quota, before the
                               first model call
                   ▶ map       one model call per part of the dossier (pages packed in order,
                               each opened by « [fichier, p. N] »), a few at a time
                               (PLUME_DOSSIER_MAP_CONCURRENCY); JSON read leniently, asked
                               once more when malformed, else flagged
                   ▶ reduce    on the server: sections merged, the chronology dated and sorted,
                               claims grouped by party, every reference checked against the
                               pages read (the file and page exist, the quotation is on that
                               page word for word: retrieval's grounding check); badly
                               recognised pages flagged, never dropped
                   ▶ record    one interaction per dossier (kind « dossier »), finished by the
                               run that ends the job

The synthesis is JSON (see :func:`synthesis`); :mod:`.dossier_export` writes it as .docx.
Files are job blobs: kept while the dossier lives, deleted with it (or by the retention
purge), never logged or recorded.
"""
from __future__ import annotations

import io
import logging
import math
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, BinaryIO, Iterable, Iterator

from flask import current_app

from .. import audit, db, documents, jobs, llm
from ..auth import User, authorize, user_hash
from ..errors import AppError, NotFound, PayloadTooLarge, ValidationError
from ..llm.prompts import Fence, load
from ..llm.tokens import chars_for_tokens, estimate_messages, estimate_tokens
from ..retrieval import check_citations
from . import metered as metering
from .dossier_answers import (JURISDICTION, RG, as_list, cited_pages, dedupe, fold, guess_type,
                              iso_date, parse_answer, salvage_lines, short_text, total_tokens)
from .metered import metered

log = logging.getLogger(__name__)

KIND = "dossier"          # job kind and record kind
REVISION_KIND = "dossier-revision"  # a synthesis written again (usecases/dossier_revision.py)
TASK = "dossier"          # role and quota family (auth.PAGE_TASK_ROLES, TASK_FAMILY)
MODEL_TASK = "summarize"  # which model answers (PLUME_LLM_TASK_MODELS' « summarize »)
PROMPT = "dossier-map"

SECTIONS = (("faits", "Faits"), ("procedure", "Procédure"),
            ("pretentions", "Prétentions et moyens"), ("points", "Points à trancher"),
            ("pieces", "Inventaire des pièces"))
FLAG_MISSING = "reference_introuvable"
FLAG_QUOTE = "citation_non_trouvee"
FLAG_LOW = "page_mal_reconnue"

MAP_OUTPUT_TOKENS = 1200
SAFETY_TOKENS = 256
MIN_PART_TOKENS = 600
# Room left in a part for the markers of the pages cut to fit it.
PART_MARGIN = 80
# Characters an estimate counts for a page still to recognise when the dossier has no text
# page to go by (a typed court page once recognised).
SCAN_PAGE_CHARS = 2000
MAX_TITLE = 200
MAX_ITEM_CHARS = 1200
MAX_QUOTE_CHARS = 400
INSPECT_THREADS = 4
ENVELOPE_BYTES = 256 * 1024   # multipart boundaries and small fields around the files
FILE_TYPES = {"pdf": "application/pdf", "txt": "text/plain; charset=utf-8",
              "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "odt": "application/vnd.oasis.opendocument.text", "eml": "message/rfc822",
              "msg": "application/vnd.ms-outlook", "jpg": "image/jpeg", "jpeg": "image/jpeg",
              "png": "image/png", "tif": "image/tiff", "tiff": "image/tiff"}


# --- the request: inventory, estimate, submission ----------------------------------------------

@dataclass
class Upload:
    """One file of the multipart request (its stream is read once to inspect, once to store)."""

    name: str
    stream: BinaryIO
    content_type: str | None
    size: int


def _limits() -> dict[str, int]:
    config = current_app.config
    return {key: config[f"DOSSIER_{key.upper()}"] for key in
            ("max_files", "max_file_bytes", "max_bytes", "max_file_pages", "max_pages",
             "pages_per_step", "map_concurrency", "read_concurrency")}


def _unique_names(uploads: list[Upload]) -> None:
    """Two files of one dossier never share a name: references cite files by name."""
    seen: set[str] = set()
    for upload in uploads:
        name = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or "fichier"
        name = "".join(c for c in name if ord(c) >= 32)[:180] or "fichier"
        stem, dot, ext = name.rpartition(".")
        base, suffix = (stem, f".{ext}") if dot and stem else (name, "")
        candidate, n = name, 2
        while candidate.lower() in seen:
            candidate = f"{base} ({n}){suffix}"
            n += 1
        seen.add(candidate.lower())
        upload.name = candidate


def _error_json(err: AppError) -> dict[str, str]:
    return {"error": err.code, "message": err.message}


def _window() -> tuple[int, int]:
    """(context, answer budget) in tokens of the model the dossier's map calls will use, from
    the settings, as the job's gateway finds them (no call to the host in a request)."""
    config = current_app.config
    model = config["LLM_TASK_MODELS"].get(MODEL_TASK) or config.get("LLM_MODEL") or ""
    context = int(config["LLM_MODEL_CONTEXT"].get(model, config["LLM_CONTEXT_TOKENS"]))
    return context, min(MAP_OUTPUT_TOKENS, config["LLM_MAX_OUTPUT_TOKENS"], context // 4)


def _prompt_overhead() -> int:
    return estimate_messages(load(PROMPT).messages(
        fence="DONNEES 000000000000", part="100", parts="100", title="x" * 60, document=""))


def _part_tokens(context: int, output: int) -> int:
    return max(MIN_PART_TOKENS, context - output - _prompt_overhead() - SAFETY_TOKENS)


Slice = tuple[str, int, int, int]  # file, page, first and last character (excluded) of its text


def pack(pages: Iterable[tuple[str, int, int]], limit: int) -> list[list[Slice]]:
    """The dossier's parts: consecutive pages (``(file, page, characters)``, whitespace
    folded, in order) packed into parts of at most ``limit`` characters, each page opened by
    its « [file, p. N] » marker; a page longer than a part is cut. One rule for the job (which
    fills the slices with the text) and for the estimate before reading (with lengths only)."""
    parts: list[list[Slice]] = []
    current: list[Slice] = []
    size, width = 0, limit - PART_MARGIN
    for name, number, length in pages:
        for first in range(0, length, width):
            last = min(length, first + width)
            block = len(f"[{name}, p. {number}]\n") + (last - first) + 2
            if current and size + block > limit:
                parts.append(current)
                current, size = [], 0
            current.append((name, number, first, last))
            size += block
    if current:
        parts.append(current)
    return parts


def estimate(inventory: list[dict[str, Any]], chars: dict[str, tuple[int | None, ...]]
             ) -> dict[str, int]:
    """Pages, OCR pages, model calls and tokens a dossier should take (shown before it
    starts): its pages' characters (``chars``: each file's, from the inspection; a page to
    recognise counts as the dossier's mean text page) packed into parts as the job will."""
    context, output = _window()
    limit = chars_for_tokens(_part_tokens(context, output))
    readable = [f for f in inventory if not f["error"]]
    known = [n for f in readable for n in chars.get(f["name"], ()) if n is not None]
    scan = round(sum(known) / len(known)) if known else SCAN_PAGE_CHARS
    pages = []
    for entry in readable:
        lengths = list(chars.get(entry["name"], ()))
        if not lengths:  # not inspected page by page: its size spread over its pages
            count = entry["pages"] or 1
            lengths = [min(entry["size"], SCAN_PAGE_CHARS * count) // count] * count
        pages += [(entry["name"], n, scan if length is None else length)
                  for n, length in enumerate(lengths, start=1)]
    parts = pack(pages, limit)
    text_tokens = sum(estimate_tokens("x" * (len(f"[{name}, p. {n}]\n") + last - first + 2))
                      for part in parts for name, n, first, last in part)
    calls = len(parts)
    return {"pages": sum(f["pages"] or 0 for f in readable),
            "ocr_pages": sum(f["ocr_pages"] for f in readable), "model_calls": calls,
            "tokens": text_tokens + calls * (_prompt_overhead() + output)}


def create(user: User, uploads: list[Upload], *, title: str | None, start: bool) -> dict[str, Any]:
    """Create a dossier from the request's files: 201's JSON. Bad files stay in the inventory
    with their French error; no readable file at all is a 422; too many or too large: 413."""
    authorize(user, TASK)
    limits = _limits()
    if not uploads:
        raise ValidationError("files", "Ajoutez au moins un fichier au dossier (champ « files »).")
    if len(uploads) > limits["max_files"]:
        raise PayloadTooLarge(f"Un dossier peut contenir au plus {limits['max_files']} fichiers "
                              f"({len(uploads)} envoyés).", code="dossier_trop_volumineux",
                              detail=f"{len(uploads)} files")
    total = sum(u.size for u in uploads)
    if total > limits["max_bytes"]:
        raise PayloadTooLarge(f"Les fichiers du dossier dépassent {limits['max_bytes'] // 2**20} Mo "
                              "au total.", code="dossier_trop_volumineux", detail=f"{total} bytes")
    title = " ".join((title or "").split())[:MAX_TITLE] or None
    _unique_names(uploads)
    with metered(user, KIND, TASK) as call:
        # A few files at once: each is read in its own sandbox child.
        with ThreadPoolExecutor(INSPECT_THREADS, thread_name_prefix="plume-inspect") as pool:
            inspected = list(pool.map(lambda upload: _inspect(upload, limits), uploads))
            uploads, inspected = _with_attachments(uploads, inspected, limits, pool)
        inventory = [entry for entry, _ in inspected]
        chars = {entry["name"]: found for entry, found in inspected}
        readable = [f for f in inventory if not f["error"]]
        if not readable:
            raise AppError("Aucun fichier de ce dossier n'a pu être lu : "
                           + " ; ".join(f"« {f['name']} » : {f['error']['message']}"
                                        for f in inventory[:5]),
                           status=422, code="dossier_illisible", detail="no readable file")
        pages = sum(f["pages"] or 0 for f in readable)
        if pages > limits["max_pages"]:
            raise PayloadTooLarge(f"Ce dossier compte {pages} pages ; au plus {limits['max_pages']} "
                                  "pages par dossier. Répartissez les pièces en plusieurs dossiers.",
                                  code="dossier_trop_volumineux", detail=f"{pages} pages")
        guess = estimate(inventory, chars)
        record = call.hand_over()
        params = {"title": title or _default_title(inventory), "inventory": inventory,
                  "estimate": guess, "record": record}
        for upload in uploads:
            upload.stream.seek(0)
        job_id = jobs.submit(KIND, user_hash(user.id), params, hold=not start, job_id=call.id,
                             blobs={u.name: jobs.Blob(u.stream, u.content_type) for u in uploads
                                    if not _entry(inventory, u.name)["error"]})
    log.info("dossier created", extra={"dossier_id": job_id, "files": len(inventory),
                                       "readable": len(readable), "pages": guess["pages"],
                                       "ocr_pages": guess["ocr_pages"], "held": not start})
    return dossier_json(jobs.get(job_id, user_hash(user.id)))


ATTACHED = " › "  # « courriel.eml › constat.pdf »: a file attached to a mail of the dossier
MAILS = ("eml", "msg")


def _with_attachments(uploads: list[Upload], inspected: list[tuple[dict[str, Any], Any]],
                      limits: dict[str, int], pool: ThreadPoolExecutor
                      ) -> tuple[list[Upload], list[tuple[dict[str, Any], Any]]]:
    """The files attached to the dossier's mails become files of the dossier, right after
    their mail, named « mail › pièce », read with the same limits (one level deep: what is
    attached to an attached mail is named in its text only). Past the dossier's number of
    files, an attachment stays in the inventory with its error."""
    mails = [(u, entry) for u, (entry, _) in zip(uploads, inspected)
             if entry["format"] in MAILS and not entry["error"]]
    extracted = dict(zip([u.name for u, _ in mails],
                         pool.map(lambda pair: _attachments_of(pair[0], limits), mails)))
    added = [a for found in extracted.values() for a in found if isinstance(a, Upload)]
    _unique_names(uploads + added)
    room = limits["max_files"] - len(uploads)
    checked = dict(zip([a.name for a in added[:max(0, room)]],
                       pool.map(lambda upload: _inspect(upload, limits), added[:max(0, room)])))
    all_uploads, all_inspected = [], []
    for upload, found in zip(uploads, inspected):
        all_uploads.append(upload)
        all_inspected.append(found)
        for attachment in extracted.get(upload.name, []):
            if isinstance(attachment, dict):  # the mail's attachments could not be taken out
                all_inspected.append((attachment, ()))
                continue
            all_uploads.append(attachment)
            all_inspected.append(checked.get(attachment.name) or (
                _refused_entry(attachment, "dossier_complet",
                               f"Le dossier compte déjà {limits['max_files']} fichiers : cette "
                               "pièce jointe n'est pas lue."), ()))
    return all_uploads, all_inspected


def _attachments_of(mail: Upload, limits: dict[str, int]) -> list[Upload | dict[str, Any]]:
    """A mail's attachments as uploads of the dossier, or an inventory entry saying why
    they could not be taken out of it."""
    mail.stream.seek(0)
    try:
        found = documents.attachments(mail.stream.read(), mail.name,
                                      max_bytes=limits["max_file_bytes"])
    except documents.DocumentError as err:
        log.info("dossier mail attachments refused", extra={"error": err.code,
                                                            "detail": err.detail})
        entry = _refused_entry(Upload(f"{mail.name}{ATTACHED}pièces jointes", io.BytesIO(), None,
                                      0), err.code, err.message)
        return [entry]
    return [Upload(f"{mail.name}{ATTACHED}{name}", io.BytesIO(content), None, len(content))
            for name, content in found]


def _refused_entry(upload: Upload, code: str, message: str) -> dict[str, Any]:
    return {"name": upload.name, "format": None, "size": upload.size, "pages": None,
            "ocr_pages": 0, "low_confidence_pages": [], "error": {"error": code, "message": message}}


def _entry(inventory: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(f for f in inventory if f["name"] == name)


def _default_title(inventory: list[dict[str, Any]]) -> str:
    return f"Dossier du {date.today().strftime('%d/%m/%Y')} ({len(inventory)} fichier" \
           f"{'s' if len(inventory) > 1 else ''})"


def _inspect(upload: Upload, limits: dict[str, int]
             ) -> tuple[dict[str, Any], tuple[int | None, ...]]:
    """The file's inventory entry, and its pages' characters (for the estimate only)."""
    entry: dict[str, Any] = {"name": upload.name, "format": None, "size": upload.size,
                             "pages": None, "ocr_pages": 0, "low_confidence_pages": [],
                             "error": None}
    if upload.size > limits["max_file_bytes"]:
        entry["error"] = {"error": "fichier_trop_volumineux",
                          "message": f"Ce fichier dépasse {limits['max_file_bytes'] // 2**20} Mo."}
        return entry, ()
    upload.stream.seek(0)
    data = upload.stream.read()
    info = documents.inspect(data, upload.name, max_bytes=limits["max_file_bytes"],
                        max_pages=limits["max_file_pages"])
    entry.update(format=info.format, pages=info.pages, ocr_pages=info.ocr_pages or 0)
    if info.error is not None:
        entry["error"] = _error_json(info.error)
        log.info("dossier file refused", extra={"error": info.error.code,
                                                "detail": info.error.detail})
    return entry, info.chars


# --- what the panes see ------------------------------------------------------------------------

def _owner(user: User) -> str:
    return user_hash(user.id)


def _job(user: User, dossier_id: str) -> jobs.Job:
    owner = _owner(user)
    jobs.check_owner(dossier_id, owner, kind=KIND)
    return jobs.get(dossier_id, owner)


def dossier_json(job: jobs.Job, *, detailed: bool = True) -> dict[str, Any]:
    """The dossier as the API shows it (see the contract in the API module)."""
    params, detail = job.params, job.progress_detail or {}
    result = job.result if isinstance(job.result, dict) else {}
    inventory = result.get("inventory") or params.get("inventory") or []
    readable = [f for f in inventory if not f["error"]]
    guess = params.get("estimate") or {}
    progress = {
        "files_read": detail.get("files_read", 0), "files_total": len(readable),
        "pages_read": detail.get("pages_read", 0),
        "pages_total": detail.get("pages_total", guess.get("pages", 0)),
        "ocr_pages_done": detail.get("ocr_pages_done", 0),
        "ocr_pages_total": detail.get("ocr_pages_total", guess.get("ocr_pages", 0)),
        "parts_done": detail.get("parts_done", 0), "parts_total": detail.get("parts_total", 0),
        "eta_seconds": detail.get("eta_seconds"),
        "message": job.progress_message or _state_message(job),
    }
    if job.state == "done":
        progress["eta_seconds"] = 0
    answer = {"id": job.id, "title": params.get("title"), "state": job.state, "held": job.held,
              "created_at": job.created_at.isoformat(),
              "finished_at": job.finished_at.isoformat() if job.finished_at else None,
              "progress": progress, "estimate": guess,
              "error": ({"error": job.error_code, "message": job.error_message}
                        if job.error_code else None)}
    if detailed:
        lows = detail.get("low_confidence") or {}
        errors = detail.get("file_errors") or {}
        answer["inventory"] = [
            {**f, "low_confidence_pages": f.get("low_confidence_pages") or lows.get(f["name"], []),
             "error": f["error"] or errors.get(f["name"])} for f in inventory]
    return answer


def _state_message(job: jobs.Job) -> str:
    if job.held:
        return "En attente de votre confirmation"
    return {"queued": "En file d'attente…", "running": "Lecture des fichiers…",
            "done": "Synthèse terminée", "failed": "Échec du traitement",
            "cancelled": "Traitement annulé"}[job.state]


def get(user: User, dossier_id: str) -> dict[str, Any]:
    return dossier_json(_job(user, dossier_id))


def list_dossiers(user: User) -> list[dict[str, Any]]:
    return [dossier_json(job, detailed=False)
            for job in jobs.list_for(_owner(user), kind=KIND, limit=200)]


def start(user: User, dossier_id: str) -> dict[str, Any]:
    job = _job(user, dossier_id)
    if not job.held:
        raise AppError("Ce dossier a déjà été lancé.", status=409, code="dossier_deja_lance",
                       detail=f"dossier {dossier_id} is not held")
    return dossier_json(jobs.start_held(dossier_id, _owner(user)))


def cancel(user: User, dossier_id: str) -> dict[str, Any]:
    _job(user, dossier_id)
    job = jobs.cancel(dossier_id, _owner(user))
    if job.state == "running" and not job.cancel_requested:  # sealed: its synthesis is written
        raise AppError("Trop tard pour annuler : la synthèse de ce dossier vient d'être écrite.",
                       status=409, code="annulation_impossible",
                       detail=f"dossier {dossier_id} is sealed")
    if job.state == "cancelled":  # cancelled before any worker took it: no run will record it
        _finish_record(job.params["record"], "stopped", None,
                       measures={"files": len(job.params["inventory"]), "runs": job.attempts})
    return dossier_json(job)


def delete(user: User, dossier_id: str) -> None:
    job = _job(user, dossier_id)
    _delete_revisions(_owner(user), dossier_id)
    jobs.delete(dossier_id, _owner(user))
    if not job.finished:  # a run stopped by the deletion writes nothing more
        _finish_record(job.params["record"], "stopped", None,
                       measures={"files": len(job.params["inventory"]), "runs": job.attempts})
    log.info("dossier deleted", extra={"dossier_id": dossier_id})


def _delete_revisions(owner: str, dossier_id: str) -> None:
    """The syntheses written again from this dossier's go with it."""
    for revision in jobs.list_for(owner, kind=REVISION_KIND, limit=1000):
        if revision.params.get("dossier") == dossier_id:
            jobs.delete(revision.id, owner)
            if not revision.finished:
                _finish_record(revision.params["record"], "stopped", None,
                               measures={"runs": revision.attempts})


def synthesis(user: User, dossier_id: str) -> dict[str, Any]:
    job = _job(user, dossier_id)
    if job.state != "done":
        raise AppError("La synthèse n'est pas encore prête : le dossier est "
                       f"« {_state_message(job).rstrip('…')} ».", status=409,
                       code="synthese_non_prete", detail=f"dossier state {job.state}")
    return job.result["synthesis"]


def open_file(user: User, dossier_id: str, name: str) -> tuple[BinaryIO, str | None, int]:
    """One of the dossier's files (stream, content type, size)."""
    _job(user, dossier_id)
    infos = {b.name: b for b in jobs.blob_infos(dossier_id, _owner(user))}
    if name not in infos:
        raise NotFound("Ce fichier ne fait pas partie du dossier (ou n'a pas pu être lu).",
                       code="fichier_introuvable", detail="no such blob in the dossier")
    # The type follows the name the inventory read it by, never what the browser claimed
    # (a file sent as text/html is not served as a page of this origin).
    content_type = FILE_TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")
    return jobs.open_blob(dossier_id, _owner(user), name), content_type, infos[name].size


def events(user: User, dossier_id: str, *, timeout: float = 15.0,
           max_seconds: float = 3600.0) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(event, dossier JSON)`` at each change, ``progress`` until the last one (``done``,
    ``failed`` or ``cancelled``). The first is sent at once."""
    job = _job(user, dossier_id)
    owner, deadline = _owner(user), time.monotonic() + max_seconds
    while True:
        if job.finished:
            yield job.state, dossier_json(job)
            return
        yield "progress", dossier_json(job)
        if time.monotonic() > deadline:
            return
        job = jobs.wait_for_change(dossier_id, owner, job.version, timeout=timeout)


# --- retention (the job workers purge on their schedule: backend/jobs/retention.py) --------------


def purge_expired() -> int:
    """Delete now the dossiers and their versions past PLUME_DOSSIER_RETENTION_DAYS (what
    the workers do on their schedule), with their files, steps and syntheses; how many.
    Their records stay (they hold no text); their measures go with the records."""
    purged = jobs.purge_expired([KIND, REVISION_KIND])
    if purged is None or purged.failed:
        raise AppError("La purge des dossiers a échoué ; voir le journal.", code="purge_echouee",
                       detail=f"job purge failed for {purged.failed if purged else 'all'}")
    return purged.total


def _purge_measures(config: Any) -> int:
    """A dossier's counts go with the record they stand beside (PLUME_AUDIT_RETENTION_DAYS)."""
    before = datetime.now(timezone.utc) - timedelta(days=config["AUDIT_RETENTION_DAYS"])
    with db.connection() as conn:
        return conn.execute("DELETE FROM dossier_measures WHERE recorded_at < %s",
                            (before,)).rowcount


def _close_abandoned(purged: list[jobs.Abandoned]) -> None:
    """A dossier sent but never started, purged: its record, admitted when it was sent and
    handed over to the job, ends « interrompu » (no run will finish it)."""
    for job in purged:
        if job.params.get("record"):
            _finish_record(job.params["record"], "error", audit.INTERRUPTED_CODE,
                           measures={"files": len(job.params.get("inventory") or []), "runs": 0})


RETENTION = jobs.Retention("DOSSIER_RETENTION_DAYS", timedelta(days=1),
                           abandoned=_close_abandoned, also=_purge_measures)


# --- the record ---------------------------------------------------------------------------------

MEASURES = ("files", "files_read", "pages", "ocr_pages", "low_confidence_pages", "parts",
            "model_calls", "malformed_parts", "runs")


def _finish_record(state: dict[str, Any], outcome: str, code: str | None,
                   call: metering.Call | None = None,
                   measures: dict[str, int] | None = None) -> None:
    """Finish the dossier's one record, unless it already is (another run, a cancel), and
    store its measures beside it (counts only)."""
    call = call or metering.resume(state)
    if audit.get_interaction(state["id"]) is not None:
        call.detach()
        return
    call.finish(outcome, code)
    values = {name: int((measures or {}).get(name) or 0) for name in MEASURES}
    try:
        with db.connection() as conn:
            conn.execute(
                f"""INSERT INTO dossier_measures (interaction_id, outcome, {", ".join(MEASURES)})
                    VALUES (%(id)s, %(outcome)s, {", ".join(f"%({m})s" for m in MEASURES)})
                    ON CONFLICT (interaction_id) DO NOTHING""",
                {"id": state["id"], "outcome": outcome if outcome != "error" else code or outcome,
                 **values})
    except Exception:  # noqa: BLE001 - the record itself is written; the counts are extra
        log.exception("dossier measures not stored", extra={"dossier_id": state["id"]})


# --- the job ------------------------------------------------------------------------------------

@jobs.handler(KIND, retention=RETENTION)
def run(ctx: jobs.JobContext) -> dict[str, Any]:
    """Read, map, reduce (see the module docstring); the record is finished on every verdict."""
    state = ctx.params["record"]
    call = metering.resume(state)
    work = DossierRun(ctx, call)

    def finish(outcome: str, code: str | None, result: dict[str, Any] | None) -> None:
        work.charge_stored()
        _finish_record(state, outcome, code, call, result["stats"] if result else work.measures())

    result = metering.job_verdict(ctx, call, work.execute, finish)
    log.info("dossier finished", extra={"dossier_id": ctx.id, **result["stats"]})
    return result


def ask_json(ctx: jobs.JobContext, gw: llm.Gateway, step: str, messages: list[dict[str, str]],
             max_tokens: int, cancel: Any, log_extra: dict[str, Any]
             ) -> tuple[dict[str, Any] | None, str, list[dict[str, Any]]]:
    """One model call of a dossier job, its JSON answer read leniently and asked once more if
    malformed: ``(parsed or None, the last text, each call's usage)``. Each call is noted
    with the job before it is sent (:meth:`~jobs.JobContext.host_call`); a call cut by the
    owner's cancel ends the job cancelled."""
    usages: list[dict[str, Any]] = []
    parsed, text = None, ""
    for attempt in range(2):
        if ctx.cancelled:
            raise jobs.Cancelled()
        try:
            with ctx.host_call(step, {"prompt_tokens": estimate_messages(messages)}) as spent:
                answer = gw.complete(MODEL_TASK, messages, max_tokens=max_tokens, cancel=cancel)
                spent.answered(answer.usage)
        except AppError:
            if ctx.cancelled:  # the call was cut because the owner cancelled
                raise jobs.Cancelled() from None
            raise
        usages.append(dict(answer.usage or {}))
        text = answer.text
        parsed = parse_answer(text)
        if parsed is not None:
            break
        log.info("dossier answer malformed", extra={**log_extra, "step": step, "attempt": attempt + 1})
    return parsed, text, usages


class _CancelFlag:
    """What the gateway watches between two pieces of an answer: the job's cancellation."""

    def __init__(self, ctx: jobs.JobContext):
        self.ctx = ctx

    def is_set(self) -> bool:
        return self.ctx.cancelled


class DossierRun:
    """One run of a dossier job (a resumed run gets the finished steps back)."""

    def __init__(self, ctx: jobs.JobContext, call: metering.Call):
        self.ctx = ctx
        self.call = call
        self.config = current_app.config
        self.limits = _limits()
        self.title: str = ctx.params["title"]
        self.inventory: list[dict[str, Any]] = [dict(f) for f in ctx.params["inventory"]]
        self.files = [f for f in self.inventory if not f["error"]]
        self.pages: dict[tuple[str, int], dict[str, Any]] = {}
        self.file_errors: dict[str, dict[str, str]] = {}
        self.lows: dict[str, list[int]] = {}
        self.detail: dict[str, Any] = {
            "files_read": 0, "pages_read": 0, "ocr_pages_done": 0, "parts_done": 0,
            "parts_total": 0, "pages_total": sum(f["pages"] or 0 for f in self.files),
            "ocr_pages_total": sum(f["ocr_pages"] for f in self.files), "eta_seconds": None}
        self.lock = threading.Lock()
        self.began = time.monotonic()
        self.low = documents.low_confidence(self.config)
        self.pages_this_run = 0
        self.ranges_left: Counter[str] = Counter()
        self.reading_began = time.monotonic()
        self.map_seconds: list[float] = []
        self.map_results: list[dict[str, Any]] = []
        self.fence = Fence()
        self.cancel_flag = _CancelFlag(ctx)

    # -- reading -----------------------------------------------------------------------------
    def execute(self) -> dict[str, Any]:
        self._progress("Lecture des fichiers…")
        self._read_all()
        self.detail["pages_total"] = self.detail["pages_read"]
        parts = self._parts()
        self.detail["parts_total"] = len(parts)
        gw = llm.gateway()
        model = gw.model_for(MODEL_TASK)
        self.ctx.step("budget", self._check_budget, parts, model)
        self._progress(f"Analyse du dossier : {len(parts)} partie{'s' if len(parts) > 1 else ''}…")
        steps = [(f"map:{i}", lambda i=i, p=part: self._map(gw, model, i, len(parts), p))
                 for i, part in enumerate(parts)]
        self.map_results = self.ctx.map_steps(steps, concurrency=self.limits["map_concurrency"])
        if self.ctx.cancelled:
            raise jobs.Cancelled()
        self._progress("Rédaction de la synthèse…")
        synthesis_ = self._reduce(model)
        inventory = [{**f, "low_confidence_pages": self.lows.get(f["name"], []),
                      "error": f["error"] or self.file_errors.get(f["name"])}
                     for f in self.inventory]
        self.call.update(model=model, prompt_version=load(PROMPT).id,
                         source_ids=[f"fichier:{b.sha256[:16]}" for b in self.ctx.blobs()
                                     if b.sha256])
        stats = {**self.measures(), "tokens": sum(total_tokens(u) for u in self.ctx.spent())}
        # Cancel wins: past this point a cancel is refused; before it, it ends the dossier.
        self.ctx.seal()
        return {"synthesis": synthesis_, "inventory": inventory, "stats": stats}

    def _read_all(self) -> None:
        """Every readable file, a range of pages per step, a few steps at a time (OCR is
        per core); files whose page count is unknown are read range after range."""
        per_step, ranged, unknown = self.limits["pages_per_step"], [], []
        for entry in self.files:
            if entry["pages"]:
                ranged += [(entry["name"], first, min(first + per_step - 1, entry["pages"]))
                           for first in range(1, entry["pages"] + 1, per_step)]
            else:
                unknown.append(entry)
        self.ranges_left = Counter(name for name, _, _ in ranged)
        for key, chunk in self.ctx.results("read:").items():  # read by an earlier run
            self._count_pages(chunk.get("pages") or [], quiet=True)
            self._range_done(key[len("read:"):].rsplit(":", 1)[0], quiet=True)
        self.reading_began = time.monotonic()
        chunks = self.ctx.map_steps(
            [(f"read:{name}:{first}", lambda n=name, a=first, b=last: self._read_range(n, a, b))
             for name, first, last in ranged], concurrency=self.limits["read_concurrency"])
        by_file: dict[str, list[dict[str, Any]]] = {}
        for (name, _, _), chunk in zip(ranged, chunks):
            by_file.setdefault(name, []).append(chunk)
        for entry in self.files:
            if entry["pages"]:
                self._accept(entry["name"], by_file.get(entry["name"], []))
            else:
                self._accept(entry["name"], self._read_unknown(entry["name"]))
                self._range_done(entry["name"])

    def _range_done(self, name: str, quiet: bool = False) -> None:
        """A file counts as read when its last range is (ranges end in any order)."""
        with self.lock:
            if name in self.ranges_left:
                self.ranges_left[name] -= 1
                if self.ranges_left[name] > 0:
                    return
                del self.ranges_left[name]
            self.detail["files_read"] += 1
            read = self.detail["files_read"]
        if not quiet:
            self._progress(f"Lecture : {read} fichier{'s' if read > 1 else ''} sur {len(self.files)}")

    def _read_unknown(self, name: str) -> list[dict[str, Any]]:
        chunks, start, per_step = [], 1, self.limits["pages_per_step"]
        while True:
            chunk = self.ctx.step(f"read:{name}:{start}", self._read_range, name, start,
                                  start + per_step - 1)
            chunks.append(chunk)
            if chunk.get("error") or chunk["last"]:
                return chunks
            start += per_step

    def _accept(self, name: str, chunks: list[dict[str, Any]]) -> None:
        """A file's pages in the dossier; a file with an error at any page is left out whole
        (its error goes to the inventory)."""
        error = next((c["error"] for c in chunks if c.get("error")), None)
        if error:
            self.file_errors[name] = error
            self.detail["file_errors"] = self.file_errors
        else:
            for chunk in chunks:
                for page in chunk["pages"]:
                    self.pages[(name, page["n"])] = page
                    if page["conf"] is not None and page["conf"] < self.low:
                        self.lows.setdefault(name, []).append(page["n"])

    def _read_range(self, name: str, start: int, end: int) -> dict[str, Any]:
        """One step: pages ``start``..``end`` of a file (JSON, stored for a resumed run)."""
        with self.ctx.open_blob(name) as stream:
            data = stream.read()
        pages = []
        try:
            for page in documents.read_pages(
                    data, name, max_bytes=self.limits["max_file_bytes"],
                    max_pages=self.limits["max_file_pages"], start_page=start, end_page=end):
                pages.append({"n": page.number, "text": page.text, "ocr": bool(page.ocr),
                              "conf": page.confidence})
                if self.ctx.cancelled:
                    raise jobs.Cancelled()
        except documents.DocumentError as err:
            log.info("dossier file unreadable", extra={"dossier_id": self.ctx.id,
                                                       "error": err.code, "detail": err.detail})
            if _entry(self.inventory, name)["pages"]:
                self._range_done(name)
            return {"pages": [], "last": True, "error": _error_json(err)}
        known = _entry(self.inventory, name)["pages"]
        last = len(pages) < end - start + 1 or (known is not None and end >= known)
        self._count_pages(pages)
        if known:
            self._range_done(name)
        return {"pages": pages, "last": last, "error": None}

    def _count_pages(self, pages: list[dict[str, Any]], quiet: bool = False) -> None:
        with self.lock:
            self.detail["pages_read"] += len(pages)
            self.detail["ocr_pages_done"] += sum(1 for p in pages if p["ocr"])
            if not quiet:
                self.pages_this_run += len(pages)
        if not quiet:
            self._progress(f"Lecture : {self.detail['pages_read']} pages lues")

    # -- parts and the map -------------------------------------------------------------------
    def _parts(self) -> list[str]:
        """Consecutive pages packed into parts that fit the model's window, each page opened
        by its reference marker. Deterministic: a resumed run cuts the same parts."""
        gw = llm.gateway()
        model = gw.model_for(MODEL_TASK)
        context = gw.context_tokens(model)
        self.output = min(MAP_OUTPUT_TOKENS, gw.max_output_tokens(model))
        limit = chars_for_tokens(_part_tokens(context, self.output))
        texts = {}
        for entry in self.files:
            name = entry["name"]
            if name in self.file_errors:
                continue
            for n in sorted(n for (file, n) in self.pages if file == name):
                texts[(name, n)] = " ".join(self.pages[(name, n)]["text"].split())
        return ["".join(f"[{name}, p. {n}]\n{texts[(name, n)][first:last]}\n\n"
                        for name, n, first, last in part)
                for part in pack(((name, n, len(text)) for (name, n), text in texts.items()),
                                 limit)]

    def _messages(self, index: int, total: int, part: str) -> list[dict[str, str]]:
        return load(PROMPT).messages(fence=self.fence.name, part=str(index + 1), parts=str(total),
                                     title=self.title, document=self.fence.wrap("partie", part))

    def _check_budget(self, parts: list[str], model: str) -> dict[str, int]:
        """Before the first model call: the whole dossier's tokens against the user's quota."""
        need = sum(estimate_messages(self._messages(i, len(parts), p)) + self.output
                   for i, p in enumerate(parts))
        left = self.call.budget_left()
        if left is not None and need > left:
            raise jobs.Failure(
                f"Ce dossier demande environ {need:,} jetons d'analyse ; il vous en reste {left:,} "
                "aujourd'hui. Réduisez le dossier ou relancez-le demain.".replace(",", " "),
                code="quota_depasse", detail=f"dossier needs {need} tokens, {left} left today")
        return {"tokens": need, "left": left if left is not None else -1}

    def _map(self, gw: llm.Gateway, model: str, index: int, total: int, part: str) -> dict[str, Any]:
        """One model call over one part; JSON read leniently, asked once more if malformed."""
        began = time.monotonic()
        messages = self._messages(index, total, part)
        parsed, text, usages = ask_json(self.ctx, gw, f"map:{index}", messages, self.output,
                                        self.cancel_flag, {"dossier_id": self.ctx.id, "part": index})
        result = {"ok": parsed is not None, "data": parsed, "usage": usages,
                  "lines": None if parsed is not None else salvage_lines(text)}
        with self.lock:
            self.map_seconds.append(time.monotonic() - began)
            self.detail["parts_done"] += 1
            done = self.detail["parts_done"]
        self._progress(f"Analyse : partie {done} sur {total}")
        return result

    # -- the reduce --------------------------------------------------------------------------
    def _reduce(self, model: str) -> dict[str, Any]:
        sections: dict[str, list[dict[str, Any]]] = {key: [] for key, _ in SECTIONS}
        pieces: dict[str, dict[str, Any]] = {}
        jurisdiction = rg = None
        notices = []
        for index, result in enumerate(self.map_results):
            data = result.get("data")
            if not result.get("ok"):
                notices.append(f"La partie {index + 1} n'a pas pu être analysée correctement par "
                               "le modèle : seuls les passages qu'il a référencés sont repris, "
                               "à vérifier.")
                for line in result.get("lines") or []:
                    sections["faits"].append(self._item(line))
                continue
            jurisdiction = jurisdiction or short_text(data.get("juridiction"), MAX_TITLE)
            rg = rg or short_text(data.get("rg"), 40)
            for key in ("faits", "procedure", "pretentions", "points"):
                for raw in as_list(data.get(key)):
                    item = self._item(raw)
                    if item is not None:
                        sections[key].append(item)
            for raw in as_list(data.get("pieces")):
                file = short_text(raw.get("fichier"), 255)
                if file and file in self._names() and file not in pieces:
                    pieces[file] = {"type": short_text(raw.get("type"), 80),
                                    "date": iso_date(raw.get("date")),
                                    "author": short_text(raw.get("auteur"), MAX_TITLE)}
        sections = {key: dedupe([i for i in items if i is not None])
                    for key, items in sections.items()}
        sections["faits"].sort(key=lambda i: (i["date"] is None, i["date"] or ""))
        sections["procedure"].sort(key=lambda i: (i["date"] is None, i["date"] or ""))
        sections["pretentions"].sort(key=lambda i: (i["party"] or "").lower())
        jurisdiction = jurisdiction or self._find(JURISDICTION)
        rg = rg or self._find(RG)
        inventory = []
        for entry in self.inventory:
            name = entry["name"]
            found = pieces.get(name, {})
            inventory.append({"file": name, "type": found.get("type") or guess_type(name),
                              "date": found.get("date"), "author": found.get("author"),
                              "pages": len([1 for (f, _) in self.pages if f == name])
                              or entry["pages"] or 0})
        sections["pieces"] = [{"text": f"{p['type']} — {p['file']}"
                                       + (f", {p['date']}" if p["date"] else "")
                                       + (f", {p['author']}" if p["author"] else ""),
                               "date": p["date"], "party": p["author"],
                               "references": [{"file": p["file"], "page": 1, "quote": None,
                                               "verified": (p["file"], 1) in self.pages}],
                               "flags": [] if (p["file"], 1) in self.pages else [FLAG_MISSING]}
                              for p in inventory]
        lows = [{"file": f, "page": n, "confidence": self.pages[(f, n)]["conf"]}
                for f, numbers in self.lows.items() for n in numbers]
        if lows:
            notices.append(f"{len(lows)} page{'s' if len(lows) > 1 else ''} mal reconnue"
                           f"{'s' if len(lows) > 1 else ''} à la lecture optique : leur contenu "
                           "est repris mais doit être vérifié sur l'original.")
        for name, err in self.file_errors.items():
            notices.append(f"« {name} » n'a pas pu être lu : {err['message']}")
        demo = bool(self.config.get("LLM_DEMO"))
        return {"title": self.title, "jurisdiction": jurisdiction, "rg": rg,
                "date": date.today().isoformat(),
                "sections": [{"id": key, "title": label, "items": sections[key]}
                             for key, label in SECTIONS],
                "pieces": inventory, "low_confidence_pages": lows, "notices": notices,
                "model": {"name": model, "demonstration": demo}}

    def _names(self) -> set[str]:
        return {f["name"] for f in self.inventory}

    def _find(self, pattern: re.Pattern[str]) -> str | None:
        for entry in self.files:
            for n in (1, 2):
                page = self.pages.get((entry["name"], n))
                match = pattern.search(page["text"]) if page else None
                if match:
                    return " ".join(match.group(1).split())
        return None

    # -- bookkeeping -------------------------------------------------------------------------
    def measures(self) -> dict[str, int]:
        """What this dossier took so far (every run's finished steps): the record's counts."""
        maps = [r for r in self.ctx.results("map:").values() if isinstance(r, dict)]
        spent = self.ctx.spent()
        return {"files": len(self.inventory),
                "files_read": len({file for file, _ in self.pages}),
                "pages": len(self.pages),
                "ocr_pages": sum(1 for p in self.pages.values() if p["ocr"]),
                "low_confidence_pages": sum(len(v) for v in self.lows.values()),
                "parts": self.detail["parts_total"],
                "model_calls": len(spent),
                "malformed_parts": sum(1 for r in maps if not r.get("ok")),
                "runs": self.ctx.attempt}

    def charge_stored(self) -> None:
        """Charge the usage of every model call the host served for this dossier, in this run
        or before, those lost with a dead worker included (jobs' host-call notes)."""
        for usage in self.ctx.spent():
            self.call.charge(usage)

    def _progress(self, message: str) -> None:
        with self.lock:
            detail = dict(self.detail, low_confidence=self.lows, eta_seconds=self._eta())
            done = detail["pages_read"] + detail["parts_done"]
            total = max(1, detail["pages_total"]) + max(detail["parts_total"], 1)
        self.ctx.progress(done, total, message, detail=detail)

    def _eta(self) -> int | None:
        """Seconds left: pages still to read at this run's reading pace, parts still to
        analyse at the pace of the calls so far (a few at a time)."""
        d = self.detail
        pages_left = max(0, d["pages_total"] - d["pages_read"])
        pace = ((time.monotonic() - self.reading_began) / self.pages_this_run
                if self.pages_this_run else None)
        if d["parts_total"] == 0 and pace is None:
            return None
        parts_total = d["parts_total"] or self.ctx.params.get("estimate", {}).get("model_calls", 1)
        parts_left = max(0, parts_total - d["parts_done"])
        per_part = (sum(self.map_seconds) / len(self.map_seconds)) if self.map_seconds else 20.0
        seconds = pages_left * (pace or 1.0) + parts_left * per_part / self.limits["map_concurrency"]
        return int(math.ceil(seconds))

    def _item(self, raw: Any) -> dict[str, Any] | None:
        return References(self.pages, self._names(), self.low).item(raw)


class References:
    """Checks a section's items against the pages read: the file and page exist, a
    quotation is on that page word for word, a badly recognised page is flagged."""

    def __init__(self, pages: dict[tuple[str, int], dict[str, Any]], names: set[str], low: float):
        self.pages, self.names, self.low = pages, names, low

    def _names(self) -> set[str]:
        return self.names

    def item(self, raw: Any) -> dict[str, Any] | None:
        """One item of a section with its references checked against the pages read."""
        if not isinstance(raw, dict):
            return None
        text = short_text(raw.get("texte") or raw.get("text"), MAX_ITEM_CHARS)
        if not text:
            return None
        refs = []
        for ref in cited_pages(raw.get("ref")) or [None]:
            quote = short_text(raw.get("citation"), MAX_QUOTE_CHARS)
            refs.append(self._check(ref, quote))
        flags = sorted({flag for r in refs for flag in r.pop("_flags")})
        return {"text": text, "date": iso_date(raw.get("date")),
                "party": short_text(raw.get("partie"), MAX_TITLE), "references": refs, "flags": flags}

    def _check(self, ref: tuple[str, int] | None, quote: str | None) -> dict[str, Any]:
        if ref is None:
            return {"file": None, "page": None, "quote": quote, "verified": False,
                    "_flags": [FLAG_MISSING]}
        file, page = self._resolve(ref)
        found = self.pages.get((file, page))
        flags = []
        if found is None:
            flags.append(FLAG_MISSING)
        else:
            if quote and check_citations(f"« {quote} » [1]", [{"n": 1, "text": found["text"]}]):
                flags.append(FLAG_QUOTE)
            if found["conf"] is not None and found["conf"] < self.low:
                flags.append(FLAG_LOW)
        return {"file": file, "page": page, "quote": quote,
                "verified": found is not None and FLAG_QUOTE not in flags, "_flags": flags}

    def _resolve(self, ref: tuple[str, int]) -> tuple[str, int]:
        """The dossier's file a reference names (the model may drop the extension or case)."""
        file, page = ref
        names = self._names()
        if file in names:
            return file, page
        wanted = fold(file)
        for name in names:
            if fold(name) == wanted or fold(name.rsplit(".", 1)[0]) == wanted:
                return name, page
        return file, page
