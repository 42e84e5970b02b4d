"""Dictation: ``POST /api/v1/transcribe`` (multipart audio) → text with timed segments."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from ..auth import current_user
from ..errors import ValidationError
from ..usecases import transcription
from ..usecases.transcription import LANGUAGES
from .openapi import error_responses

bp = Blueprint("transcribe", __name__)
# Multipart boundaries and the other fields around the file.
ENVELOPE_BYTES = 64 * 1024


@bp.post("/api/v1/transcribe")
def transcribe():
    """Transcribe one recording (wav, mp3, m4a, ogg, webm)."""
    request.max_content_length = current_app.config["LLM_TRANSCRIPTION_MAX_BYTES"] + ENVELOPE_BYTES
    upload = request.files.get("file")
    if upload is None:
        raise ValidationError("file", "Joignez l'enregistrement à transcrire (champ « file »).")
    language = request.form.get("language") or None
    return jsonify(transcription.transcribe(
        current_user(), upload.read(), upload.filename or "", language=language,
        max_bytes=current_app.config["LLM_TRANSCRIPTION_MAX_BYTES"]))


OPENAPI = {
    "/api/v1/transcribe": {"post": {
        "summary": "Transcribe a recording through the sovereign speech-to-text model",
        "tags": ["assist"],
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary",
                                    "description": "wav, mp3, m4a, ogg or webm"},
                           "language": {"type": "string", "default": "fr",
                                        "enum": sorted(LANGUAGES)}}}}}},
        "responses": {
            "200": {"description": "{\"text\", \"segments\": [{\"start\", \"end\", \"text\"}], "
                                   "\"language\", \"duration\", \"model\", \"demo\", "
                                   "\"interaction_id\"} (demo: the embedded model answered)"},
            **error_responses({
                "400": "No file, or bad language",
                "403": "Role not allowed",
                "413": "File too large",
                "415": "Not a supported audio format",
                "502": "The host failed",
                "503": "Transcription not configured",
            }),
        }}},
}
