"""Dossiers: a case file of many documents synthesised by a background job.

``POST /api/v1/dossiers`` (multipart, ``files`` repeated) creates one and starts its job
(``start=false`` holds it until ``POST …/start``, so the pane shows the estimate first);
``GET …/{id}`` and ``…/events`` (server-sent events) follow it; ``…/synthesis`` and
``…/export.docx`` give the result; ``…/files/{name}`` the original files (a reference opens
one at its page); ``DELETE`` removes the dossier with its files. A user sees only her own
dossiers: another user's is a 403, an unknown id a 404.
"""
from __future__ import annotations

import os
from typing import Iterator
from urllib.parse import quote

import click
from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context

from ..auth import current_user
from ..errors import AppError, PayloadTooLarge, ValidationError
from ..usecases import dossier, dossier_export, dossier_revision
from ..usecases.assist import SSE_HEADERS, sse
from .openapi import JSON_ERROR, error_responses

bp = Blueprint("dossiers", __name__, cli_group="dossiers")

BASE = "/api/v1/dossiers"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@bp.post(BASE)
def create():
    """Create a dossier from uploaded files (inventory and estimate in the answer)."""
    user = current_user()
    limit = current_app.config["DOSSIER_MAX_BYTES"] + dossier.ENVELOPE_BYTES
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"Les fichiers du dossier dépassent "
                              f"{current_app.config['DOSSIER_MAX_BYTES'] // 2**20} Mo au total.",
                              code="dossier_trop_volumineux",
                              detail=f"body of {request.content_length} bytes")
    request.max_content_length = limit
    uploads = []
    for storage in request.files.getlist("files"):
        stream = storage.stream
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(0)
        uploads.append(dossier.Upload(storage.filename or "fichier", stream,
                                      storage.mimetype or None, size))
    start = request.form.get("start", "true")
    if start not in ("true", "false"):
        raise ValidationError("start", "« start » vaut « true » (lancer aussitôt) ou « false » "
                                       "(attendre la confirmation).")
    answer = dossier.create(user, uploads, title=request.form.get("title"), start=start == "true")
    return jsonify(answer), 201


@bp.get(BASE)
def list_all():
    """The user's dossiers, newest first."""
    return jsonify({"dossiers": dossier.list_dossiers(current_user())})


@bp.get(f"{BASE}/<dossier_id>")
def get(dossier_id: str):
    """State, progress, inventory and estimate of one dossier."""
    return jsonify(dossier.get(current_user(), dossier_id))


@bp.post(f"{BASE}/<dossier_id>/start")
def start(dossier_id: str):
    """Start a dossier created with ``start=false``."""
    return jsonify(dossier.start(current_user(), dossier_id))


@bp.post(f"{BASE}/<dossier_id>/cancel")
def cancel(dossier_id: str):
    """Cancel a dossier (queued: at once; running: at its next step)."""
    return jsonify(dossier.cancel(current_user(), dossier_id))


@bp.delete(f"{BASE}/<dossier_id>")
def delete(dossier_id: str):
    """Delete a dossier with its job, files and synthesis."""
    dossier.delete(current_user(), dossier_id)
    return Response(status=204)


@bp.get(f"{BASE}/<dossier_id>/events")
def events(dossier_id: str):
    """Progress as server-sent events until the dossier ends."""
    stream = dossier.events(current_user(), dossier_id)
    first = next(stream)  # 403/404 before the first byte

    def relay() -> Iterator[bytes]:
        try:
            yield sse(*first)
            for event, data in stream:
                yield sse(event, data)
        finally:
            stream.close()

    return Response(stream_with_context(relay()), mimetype="text/event-stream",
                    headers=SSE_HEADERS)


@bp.get(f"{BASE}/<dossier_id>/synthesis")
def synthesis(dossier_id: str):
    """The synthesis (409 until the dossier is done)."""
    return jsonify(dossier.synthesis(current_user(), dossier_id))


@bp.post(f"{BASE}/<dossier_id>/revisions")
def revise(dossier_id: str):
    """Write the synthesis again (« Régénérer »), or refine it (« Affiner »), from the
    previous one: a job; the files are not read again."""
    answer = dossier_revision.revise(current_user(), dossier_id, request.get_json(silent=True))
    return jsonify(answer), 201


@bp.get(f"{BASE}/<dossier_id>/revisions/<revision_id>")
def revision(dossier_id: str, revision_id: str):
    """A synthesis written again: its state, then its synthesis."""
    return jsonify(dossier_revision.get(current_user(), dossier_id, revision_id))


@bp.post(f"{BASE}/<dossier_id>/revisions/<revision_id>/cancel")
def revision_cancel(dossier_id: str, revision_id: str):
    """Stop writing a version (the previous one stays)."""
    return jsonify(dossier_revision.cancel(current_user(), dossier_id, revision_id))


@bp.get(f"{BASE}/<dossier_id>/export.docx")
def export(dossier_id: str):
    """The synthesis as a Word document (409 until the dossier is done); ``?revision=`` one
    of its versions written again."""
    revision_id = request.args.get("revision")
    synthesis_ = (dossier_revision.synthesis_of(current_user(), dossier_id, revision_id)
                  if revision_id else dossier.synthesis(current_user(), dossier_id))
    data = dossier_export.to_docx(synthesis_)
    name = "synthese-dossier.docx"
    return Response(data, mimetype=DOCX_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})


@bp.get(f"{BASE}/<dossier_id>/files/<path:name>")
def file(dossier_id: str, name: str):
    """One of the dossier's original files, to open at a reference's page."""
    stream, content_type, size = dossier.open_file(current_user(), dossier_id, name)

    def chunks() -> Iterator[bytes]:
        with stream:
            while chunk := stream.read(1024 * 1024):
                yield chunk

    ascii_name = name.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    return Response(stream_with_context(chunks()), mimetype=content_type or "application/octet-stream",
                    headers={"Content-Length": str(size), "Cache-Control": "private, no-store",
                             "Content-Disposition": f"inline; filename=\"{ascii_name}\"; "
                                                    f"filename*=UTF-8''{quote(name)}",
                             "X-Content-Type-Options": "nosniff"})


@bp.cli.command("purge")
def purge_command() -> None:
    """Delete the dossiers past their retention (PLUME_DOSSIER_RETENTION_DAYS) with their files."""
    try:
        click.echo(f"Dossiers supprimés : {dossier.purge_expired()}.")
    except AppError as exc:
        raise click.ClickException(exc.message) from None


# --- OpenAPI --------------------------------------------------------------------------------------

_NULL_STR = {"type": ["string", "null"]}
_ERROR_OR_NULL = {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Error"}]}
_PROGRESS = {"type": "object", "required": ["files_read", "files_total", "pages_read", "pages_total",
                                            "parts_done", "parts_total", "message"],
             "properties": {name: {"type": "integer"} for name in (
                 "files_read", "files_total", "pages_read", "pages_total", "ocr_pages_done",
                 "ocr_pages_total", "parts_done", "parts_total")}
             | {"eta_seconds": {"type": ["integer", "null"]}, "message": {"type": "string"}}}
_FILE = {"type": "object", "required": ["name", "size", "error"],
         "properties": {"name": {"type": "string"}, "format": _NULL_STR,
                        "size": {"type": "integer"}, "pages": {"type": ["integer", "null"]},
                        "ocr_pages": {"type": "integer"},
                        "low_confidence_pages": {"type": "array", "items": {"type": "integer"}},
                        "error": _ERROR_OR_NULL}}
_DOSSIER_PROPERTIES = {
    "id": {"type": "string", "format": "uuid"}, "title": _NULL_STR,
    "state": {"enum": ["queued", "running", "done", "failed", "cancelled"]},
    "held": {"type": "boolean", "description": "Created with start=false and not started yet"},
    "created_at": {"type": "string"}, "finished_at": _NULL_STR, "progress": _PROGRESS,
    "estimate": {"type": "object", "properties": {k: {"type": "integer"} for k in (
        "pages", "ocr_pages", "model_calls", "tokens")}},
    "error": _ERROR_OR_NULL,
}
DOSSIER_SCHEMA = {"type": "object",
                  "required": ["id", "title", "state", "held", "created_at", "progress", "error"],
                  "properties": {**_DOSSIER_PROPERTIES,
                                 "inventory": {"type": "array", "items": _FILE}}}
_REFERENCE = {"type": "object", "required": ["file", "page", "verified"],
              "properties": {"file": _NULL_STR, "page": {"type": ["integer", "null"]},
                             "quote": _NULL_STR, "verified": {"type": "boolean"}}}
_ITEM = {"type": "object", "required": ["text", "references", "flags"],
         "properties": {"text": {"type": "string"}, "date": _NULL_STR, "party": _NULL_STR,
                        "references": {"type": "array", "items": _REFERENCE},
                        "flags": {"type": "array", "items": {"enum": [
                            "reference_introuvable", "citation_non_trouvee",
                            "page_mal_reconnue"]}}}}
SYNTHESIS_SCHEMA = {
    "type": "object", "required": ["title", "sections", "pieces", "low_confidence_pages", "model"],
    "properties": {
        "title": _NULL_STR, "jurisdiction": _NULL_STR, "rg": _NULL_STR, "date": _NULL_STR,
        "sections": {"type": "array", "items": {
            "type": "object", "required": ["id", "title", "items"],
            "properties": {"id": {"enum": ["faits", "procedure", "pretentions", "points", "pieces"]},
                           "title": {"type": "string"}, "items": {"type": "array", "items": _ITEM}}}},
        "pieces": {"type": "array", "items": {"type": "object", "properties": {
            "file": {"type": "string"}, "type": {"type": "string"}, "date": _NULL_STR,
            "author": _NULL_STR, "pages": {"type": "integer"}}}},
        "low_confidence_pages": {"type": "array", "items": {"type": "object", "properties": {
            "file": {"type": "string"}, "page": {"type": "integer"},
            "confidence": {"type": ["number", "null"]}}}},
        "notices": {"type": "array", "items": {"type": "string"},
                    "description": "French notes for the reader (parts the model could not "
                                   "analyse, files not read, pages badly recognised)"},
        "model": {"type": "object", "properties": {"name": {"type": "string"},
                                                   "demonstration": {"type": "boolean"}}},
        "revision": {"type": "object", "description": "Present on a synthesis written again",
                     "properties": {"id": {"type": "string"}, "instruction": _NULL_STR,
                                    "base": _NULL_STR}},
    }}


REVISION_SCHEMA = {
    "type": "object", "required": ["id", "dossier_id", "state", "instruction", "progress",
                                   "error", "synthesis"],
    "properties": {
        "id": {"type": "string", "format": "uuid"}, "dossier_id": {"type": "string"},
        "state": {"enum": ["queued", "running", "done", "failed", "cancelled"]},
        "instruction": _NULL_STR, "base": _NULL_STR, "created_at": {"type": "string"},
        "finished_at": _NULL_STR,
        "progress": {"type": "object", "properties": {
            "done": {"type": "integer"}, "total": {"type": ["integer", "null"]},
            "message": {"type": "string"}}},
        "error": _ERROR_OR_NULL,
        "synthesis": {"oneOf": [{"type": "null"}, SYNTHESIS_SCHEMA]}}}


# One server-sent event (OpenAPI 3.1: the media type's schema describes one event).
EVENT_SCHEMA = {"type": "object", "required": ["event", "data"], "properties": {
    "event": {"enum": ["progress", "done", "failed", "cancelled"]},
    "data": {"type": "string", "contentMediaType": "application/json",
             "contentSchema": DOSSIER_SCHEMA}}}


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ID = [{"name": "dossier_id", "in": "path", "required": True, "schema": {"type": "string"}}]
_MINE = {"403": "Another user's dossier", "404": "No such dossier"}
_TAGS = ["dossiers"]

OPENAPI = {
    BASE: {
        "post": {
            "summary": "Create a dossier from its files (inventory and estimate), and start it",
            "description": "Each file is inspected in the request: a bad file (encrypted, damaged, "
                           "empty, unsupported, too large) stays in the inventory with its French "
                           "error and is skipped by the job. The call is admitted by the user's "
                           "quota and recorded as one interaction (kind `dossier`) whose id is "
                           "the dossier's.",
            "tags": _TAGS,
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["files"],
                "properties": {
                    "files": {"type": "array", "minItems": 1,
                              "items": {"type": "string", "format": "binary"},
                              "description": ".pdf (scans included), .docx, .odt, .txt, .eml, .msg"},
                    "title": {"type": "string",
                              "description": "Shown in the list; cut to 200 characters"},
                    "start": {"type": "string", "enum": ["true", "false"], "default": "true",
                              "description": "`false` holds the job until POST …/start"}}}}}},
            "responses": {
                "201": _json("The dossier, with its inventory and estimate", DOSSIER_SCHEMA),
                **error_responses({"400": "No file", "403": "Role not allowed",
                                   "413": "Too many files, or too many bytes or pages in all",
                                   "422": "No file of the dossier could be read",
                                   "429": "User quota reached"}),
            }},
        "get": {
            "summary": "The user's dossiers, newest first", "tags": _TAGS,
            "responses": {"200": _json("Dossiers (without inventories)", {
                "type": "object", "required": ["dossiers"],
                "properties": {"dossiers": {"type": "array", "items": {
                    "type": "object", "properties": _DOSSIER_PROPERTIES}}}})}},
    },
    f"{BASE}/{{dossier_id}}": {
        "get": {"summary": "A dossier: state, progress, inventory, estimate", "tags": _TAGS,
                "parameters": _ID,
                "responses": {"200": _json("The dossier", DOSSIER_SCHEMA),
                              **error_responses(_MINE)}},
        "delete": {"summary": "Delete a dossier with its job, files and synthesis", "tags": _TAGS,
                   "parameters": _ID,
                   "responses": {"204": {"description": "Deleted"}, **error_responses(_MINE)}},
    },
    f"{BASE}/{{dossier_id}}/start": {"post": {
        "summary": "Start a dossier created with start=false", "tags": _TAGS, "parameters": _ID,
        "responses": {"200": _json("The dossier, queued", DOSSIER_SCHEMA),
                      **error_responses({**_MINE, "409": "Already started"})}}},
    f"{BASE}/{{dossier_id}}/cancel": {"post": {
        "summary": "Cancel a dossier", "tags": _TAGS, "parameters": _ID,
        "description": "Once accepted, the dossier ends `cancelled`, even during its last "
                       "model call. Refused (409) only in the instant its synthesis is being "
                       "recorded.",
        "responses": {"200": _json("The dossier as it is now", DOSSIER_SCHEMA),
                      **error_responses({**_MINE, "409": "Too late: the synthesis is written"})}}},
    f"{BASE}/{{dossier_id}}/events": {"get": {
        "summary": "Progress of a dossier as server-sent events", "tags": _TAGS, "parameters": _ID,
        "responses": {"200": {"description": "`event: progress` with the dossier JSON at each "
                                             "change, then `event: done|failed|cancelled` (the "
                                             "dossier JSON) and the stream ends",
                              "content": {"text/event-stream": {"schema": EVENT_SCHEMA}}},
                      **error_responses(_MINE)}}},
    f"{BASE}/{{dossier_id}}/synthesis": {"get": {
        "summary": "The synthesis: sections with checked references, pièces, flagged pages",
        "tags": _TAGS, "parameters": _ID,
        "responses": {"200": _json("The synthesis", SYNTHESIS_SCHEMA),
                      **error_responses({**_MINE, "409": "Not done yet"})}}},
    f"{BASE}/{{dossier_id}}/revisions": {"post": {
        "summary": "Write the synthesis again (Régénérer) or refine it (Affiner), without "
                   "reading the files again",
        "description": "A job (kind `dossier-revision`) rewrites the previous synthesis's items "
                       "with the request, then every reference is checked again against the "
                       "pages the dossier read. Admitted by the user's quota and recorded as "
                       "one interaction (kind `dossier`) whose id is the revision's.",
        "tags": _TAGS, "parameters": _ID,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "properties": {
                "instruction": {"type": ["string", "null"], "maxLength": 300,
                                "description": "« plus court », « plus ferme », the user's "
                                               "words; null to regenerate"},
                "base": {"type": ["string", "null"],
                         "description": "The revision to start from (default: the dossier's "
                                        "synthesis)"}}}}}},
        "responses": {"201": _json("The revision, queued", REVISION_SCHEMA),
                      **error_responses({**_MINE, "400": "Bad instruction or base",
                                         "409": "The synthesis is not done yet",
                                         "429": "User quota reached"})}}},
    f"{BASE}/{{dossier_id}}/revisions/{{revision_id}}": {"get": {
        "summary": "A synthesis written again: its state, then its synthesis", "tags": _TAGS,
        "parameters": _ID + [{"name": "revision_id", "in": "path", "required": True,
                              "schema": {"type": "string"}}],
        "responses": {"200": _json("The revision", REVISION_SCHEMA),
                      **error_responses({**_MINE, "404": "No such dossier or revision"})}}},
    f"{BASE}/{{dossier_id}}/revisions/{{revision_id}}/cancel": {"post": {
        "summary": "Stop writing a version (the previous one stays)", "tags": _TAGS,
        "parameters": _ID + [{"name": "revision_id", "in": "path", "required": True,
                              "schema": {"type": "string"}}],
        "responses": {"200": _json("The revision as it is now", REVISION_SCHEMA),
                      **error_responses({**_MINE, "404": "No such dossier or revision",
                                         "409": "Too late: the version is written"})}}},
    f"{BASE}/{{dossier_id}}/export.docx": {"get": {
        "summary": "The synthesis as a Word document", "tags": _TAGS,
        "parameters": _ID + [{"name": "revision", "in": "query", "required": False,
                              "schema": {"type": "string"},
                              "description": "One of its revisions instead"}],
        "responses": {"200": {"description": "The .docx",
                              "content": {DOCX_TYPE: {"schema": {"type": "string",
                                                                 "format": "binary"}}}},
                      **error_responses({**_MINE, "409": "Not done yet"})}}},
    f"{BASE}/{{dossier_id}}/files/{{name}}": {"get": {
        "summary": "One of the dossier's original files (inline; open it at #page=N)",
        "tags": _TAGS,
        "parameters": _ID + [{"name": "name", "in": "path", "required": True,
                              "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The file as it was sent",
                              "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
                      "404": {"description": "No such dossier, or no such file in it",
                              "content": JSON_ERROR},
                      **error_responses({"403": _MINE["403"]})}}},
}
