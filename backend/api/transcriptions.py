"""Hearings: ``/api/v1/transcriptions`` — long recordings transcribed as background jobs.

::

    POST   /api/v1/transcriptions             multipart `file` (+ `language`) → 202, queued
    POST   /api/v1/transcriptions/uploads     {"filename", "size", "language"?} → 201, held
    PUT    /api/v1/transcriptions/{id}/upload?offset=N   raw part → 200 {"upload": {received, size}}
                                               (409 `envoi_decale` with `size`: resume from there)
    POST   /api/v1/transcriptions/{id}/start  → 202 (409 `envoi_incomplet` until every byte is in)
    GET    /api/v1/transcriptions             → {"transcriptions": [...]}, newest first
    GET    /api/v1/transcriptions/{id}        → state, progress, and once done the transcript
    PUT    /api/v1/transcriptions/{id}/speakers  {"speaker_changes": [{"from", "speaker"}]}
                                               → the transcript with those speakers (exports
                                               too); the whole set, replacing the last one
    POST   /api/v1/transcriptions/{id}/cancel → the transcription as it is now
    GET    /api/v1/transcriptions/{id}/export.{docx,srt,vtt,txt}  (409 until done)
    DELETE /api/v1/transcriptions/{id}        → 204 (recording and transcript deleted)

Another user's transcription is answered like one that does not exist (404), and so is an
id that is not a UUID (the routes only match UUIDs, so ``/uploads`` is never taken for an id).
"""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from ..auth import current_user
from ..errors import ValidationError
from ..usecases import transcription, transcription_export
from ..usecases.transcription import LANGUAGES
from .openapi import error_responses

bp = Blueprint("transcriptions", __name__)
ENVELOPE_BYTES = 64 * 1024
PREFIX = "/api/v1/transcriptions"


@bp.post(PREFIX)
def create():
    """Queue a whole recording (one request: fine on a good network, up to the size limit)."""
    request.max_content_length = current_app.config["HEARING_MAX_BYTES"] + ENVELOPE_BYTES
    upload = request.files.get("file")
    if upload is None:
        raise ValidationError("file", "Joignez l'enregistrement à transcrire (champ « file »).")
    body = transcription.submit(current_user(), upload.stream, upload.filename or "",
                                language=request.form.get("language") or None)
    return jsonify(body), 202


@bp.post(f"{PREFIX}/uploads")
def create_upload():
    """Open a resumable upload: the recording follows in parts."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ValidationError("body", "Envoyez un objet JSON : {\"filename\", \"size\"}.")
    size = payload.get("size")
    if not isinstance(size, int) or isinstance(size, bool):
        raise ValidationError("size", "Indiquez la taille du fichier en octets (« size »).")
    filename = payload.get("filename")
    language = payload.get("language")
    if not isinstance(filename, str) or not filename.strip():
        raise ValidationError("filename", "Indiquez le nom du fichier (« filename »).")
    if language is not None and not isinstance(language, str):
        raise ValidationError("language", "Langue non prise en charge : indiquez par exemple « fr ».")
    return jsonify(transcription.create_upload(current_user(), filename, size,
                                               language=language or None)), 201


@bp.put(f"{PREFIX}/<uuid:job_id>/upload")
def upload_part(job_id: uuid.UUID):
    """One part of a resumable upload, at byte ``offset`` of the recording."""
    request.max_content_length = current_app.config["HEARING_PART_BYTES"] + ENVELOPE_BYTES
    raw = request.args.get("offset", "")
    if not raw.isdigit() or len(raw) > 15:
        raise ValidationError("offset", "Indiquez l'octet de départ de cette partie (« offset »).")
    return jsonify(transcription.append(current_user(), str(job_id), request.stream, offset=int(raw)))


@bp.post(f"{PREFIX}/<uuid:job_id>/start")
def start(job_id: uuid.UUID):
    return jsonify(transcription.start(current_user(), str(job_id))), 202


@bp.get(PREFIX)
def index():
    return jsonify({"transcriptions": transcription.list_for(current_user())})


@bp.get(f"{PREFIX}/<uuid:job_id>")
def show(job_id: uuid.UUID):
    return jsonify(transcription.status(current_user(), str(job_id)))


@bp.put(f"{PREFIX}/<uuid:job_id>/speakers")
def relabel(job_id: uuid.UUID):
    """Name the speakers from given times on (the pane's « changer d'intervenant »)."""
    return jsonify(transcription.set_speakers(current_user(), str(job_id),
                                              request.get_json(silent=True)))


@bp.post(f"{PREFIX}/<uuid:job_id>/cancel")
def cancel(job_id: uuid.UUID):
    return jsonify(transcription.cancel(current_user(), str(job_id)))


@bp.delete(f"{PREFIX}/<uuid:job_id>")
def delete(job_id: uuid.UUID):
    transcription.delete(current_user(), str(job_id))
    return "", 204


@bp.get(f"{PREFIX}/<uuid:job_id>/export.<fmt>")
def export(job_id: uuid.UUID, fmt: str):
    if fmt not in transcription_export.FORMATS:
        raise ValidationError("format", "Format d'export inconnu : docx, srt, vtt ou txt.")
    result = transcription.transcript(current_user(), str(job_id))
    data, media_type = transcription_export.export(result, fmt)
    stem = (result.get("filename") or "transcription").rsplit(".", 1)[0]
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)[:80] or "transcription"
    return Response(data, mimetype=media_type, headers={
        "Content-Disposition": f'attachment; filename="{safe}.{fmt}"'})


# OpenAPI -------------------------------------------------------------------------------------

_ID = {"name": "job_id", "in": "path", "required": True,
       "schema": {"type": "string", "format": "uuid"}}
_WORD = {"type": "object", "properties": {
    "start": {"type": "number"}, "end": {"type": "number"}, "word": {"type": "string"}}}
_SEGMENT = {"type": "object", "properties": {
    "start": {"type": "number"}, "end": {"type": "number"}, "text": {"type": "string"},
    "speaker": {"type": "string"},
    "words": {"type": "array", "items": _WORD,
              "description": "Each word's time on the recording, when the host gives them"}}}
_CHANGE = {"type": "object", "required": ["from", "speaker"], "additionalProperties": False,
           "properties": {"from": {"type": "number", "minimum": 0,
                                   "description": "Seconds of the recording from which…"},
                          "speaker": {"type": "string", "minLength": 1, "maxLength": 80,
                                      "description": "…this person speaks (until the next change)"}}}
_TRANSCRIPTION: dict[str, Any] = {"type": "object", "required": ["id", "state", "progress"],
                                  "properties": {
    "id": {"type": "string"},
    "state": {"type": "string", "enum": ["queued", "running", "done", "failed", "cancelled"]},
    "filename": {"type": ["string", "null"]}, "language": {"type": ["string", "null"]},
    "progress": {"type": "object", "properties": {
        "done_seconds": {"type": "integer"}, "total_seconds": {"type": ["integer", "null"]},
        "eta_seconds": {"type": ["integer", "null"]}, "message": {"type": ["string", "null"]}}},
    "upload": {"type": "object", "properties": {"received": {"type": "integer"},
                                                "size": {"type": "integer"}}},
    "error": {"type": ["object", "null"]},
    "text": {"type": "string"}, "segments": {"type": "array", "items": _SEGMENT},
    "duration": {"type": "number"}, "model": {"type": ["string", "null"]},
    "demo": {"type": "boolean"}, "pieces": {"type": "integer"},
    "interaction_id": {"type": "string"},
    "speaker_changes": {"type": "array", "items": _CHANGE}}}
_JSON = {"application/json": {"schema": _TRANSCRIPTION}}
_COMMON = {"403": "Role not allowed", "404": "No such transcription (or another user's)"}

OPENAPI = {
    PREFIX: {
        "post": {
            "summary": "Transcribe a recording of any length as a background job",
            "tags": ["transcription"],
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary",
                                        "description": "wav, mp3, m4a, ogg/opus, webm, flac, mp4, mov"},
                               "language": {"type": "string", "default": "fr",
                                            "enum": sorted(LANGUAGES)}}}}}},
            "responses": {
                "202": {"description": "Queued: follow it with GET …/{id}", "content": _JSON},
                **error_responses({"400": "No file, empty file or bad language",
                                   "403": "Role not allowed", "413": "Recording too large",
                                   "415": "Not a supported audio or video format"}),
            }},
        "get": {
            "summary": "The user's transcriptions, newest first",
            "tags": ["transcription"],
            "responses": {"200": {"description": "{\"transcriptions\": [...]}", "content": {
                "application/json": {"schema": {"type": "object", "properties": {
                    "transcriptions": {"type": "array", "items": _TRANSCRIPTION}}}}}}}},
    },
    f"{PREFIX}/uploads": {"post": {
        "summary": "Open a resumable upload of a recording (then PUT its parts, then start)",
        "tags": ["transcription"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["filename", "size"],
            "properties": {"filename": {"type": "string"}, "size": {"type": "integer"},
                           "language": {"type": "string", "enum": sorted(LANGUAGES)}}}}}},
        "responses": {
            "201": {"description": "Held until started", "content": _JSON},
            **error_responses({"400": "Bad filename, size or language", "403": "Role not allowed",
                               "413": "Recording too large"}),
        }}},
    f"{PREFIX}/{{job_id}}/upload": {"put": {
        "summary": "One part of a resumable upload",
        "tags": ["transcription"],
        "parameters": [_ID, {"name": "offset", "in": "query", "required": True,
                             "schema": {"type": "integer", "minimum": 0}}],
        "requestBody": {"required": True, "content": {"application/octet-stream": {
            "schema": {"type": "string", "format": "binary"}}}},
        "responses": {
            "200": {"description": "{\"id\", \"upload\": {\"received\", \"size\"}}"},
            **error_responses({"400": "Bad offset, empty part or past the announced size",
                               **_COMMON,
                               "409": "The part does not follow what is stored (`size` says "
                                      "where to resume), or the upload is closed",
                               "413": "Part too large", "415": "Not a supported format"}),
        }}},
    f"{PREFIX}/{{job_id}}/start": {"post": {
        "summary": "Start transcribing an uploaded recording",
        "tags": ["transcription"], "parameters": [_ID],
        "responses": {
            "202": {"description": "Queued", "content": _JSON},
            **error_responses({**_COMMON, "409": "Upload not complete (`size`: bytes received)"}),
        }}},
    f"{PREFIX}/{{job_id}}": {
        "get": {"summary": "A transcription: state, progress (audio seconds, time left), and the "
                           "transcript once done",
                "tags": ["transcription"], "parameters": [_ID],
                "responses": {"200": {"description": "The transcription", "content": _JSON},
                              **error_responses(_COMMON)}},
        "delete": {"summary": "Delete a transcription, its recording and transcript",
                   "tags": ["transcription"], "parameters": [_ID],
                   "responses": {"204": {"description": "Deleted"},
                                 **error_responses(_COMMON)}},
    },
    f"{PREFIX}/{{job_id}}/speakers": {"put": {
        "summary": "Name the speakers from given times on (the whole set, replacing the last "
                   "one); the transcript and its exports carry them",
        "tags": ["transcription"], "parameters": [_ID],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["speaker_changes"],
            "properties": {"speaker_changes": {"type": "array", "maxItems": 2000,
                                               "items": _CHANGE}}}}}},
        "responses": {
            "200": {"description": "The transcription", "content": _JSON},
            **error_responses({**_COMMON, "400": "Bad changes (time or name)",
                               "409": "The transcription is not done"}),
        }}},
    f"{PREFIX}/{{job_id}}/cancel": {"post": {
        "summary": "Cancel a transcription (a piece in flight finishes first)",
        "tags": ["transcription"], "parameters": [_ID],
        "responses": {"200": {"description": "The transcription", "content": _JSON},
                      **error_responses(_COMMON)}}},
    f"{PREFIX}/{{job_id}}/export.{{fmt}}": {"get": {
        "summary": "A finished transcript as .docx, .srt, .vtt or .txt",
        "tags": ["transcription"],
        "parameters": [_ID, {"name": "fmt", "in": "path", "required": True,
                             "schema": {"type": "string", "enum": list(transcription_export.FORMATS)}}],
        "responses": {
            "200": {"description": "The file", "content": {
                media.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                for media in transcription_export.MEDIA_TYPES.values()}},
            **error_responses({**_COMMON, "400": "Unknown format",
                               "409": "The transcription is not done"}),
        }}},
}
