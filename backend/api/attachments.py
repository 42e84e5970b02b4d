"""Attachment summaries for the Outlook pane: a .docx or .pdf in, a streamed summary out.

The pane reads an attachment with Mailbox 1.8 ``getAttachmentContentAsync`` (base64) and
posts it here, either as JSON ``{"filename", "content"}`` or as a multipart ``file``.
The documents room reads it with the administrator's size and page limits; a file that
cannot be read (too big, encrypted, damaged, not a .docx/.pdf) is refused with a French
message *before* any stream starts, so the pane can show it next to that file while the
other attachments are summarised. The text, with its « [p. N] » / « [§ N] » markers, then
goes to the gateway's ``attachment-summary`` task, streamed as the assist endpoints are.
"""
from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Blueprint, current_app, request

from .. import documents, llm
from ..auth import authorize_task
from ..errors import ValidationError
from .openapi import NOT_BLANK, error_responses, sse_response

bp = Blueprint("attachments", __name__)

TASK = "attachment-summary"
# Base64 is 4/3 the size of the file, plus the JSON around it.
BASE64_OVERHEAD = 4 / 3
ENVELOPE_BYTES = 64 * 1024


def _request_limit() -> int:
    return int(current_app.config["ATTACHMENT_MAX_BYTES"] * BASE64_OVERHEAD) + ENVELOPE_BYTES


def _read_upload() -> tuple[bytes, str, dict[str, Any]]:
    """The file's bytes, its name, and the other fields of the request."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ValidationError("file", "Joignez le fichier à résumer (champ « file »).")
        return upload.read(), upload.filename, request.form.to_dict()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError("body", "Envoyez la pièce jointe en JSON ({\"filename\", \"content\"}) "
                                      "ou en multipart (champ « file »).")
    filename, content = body.get("filename"), body.get("content")
    if not isinstance(filename, str) or not filename.strip():
        raise ValidationError("filename", "Le nom du fichier est manquant.")
    if not isinstance(content, str) or not content:
        raise ValidationError("content", "Le contenu du fichier (base64) est manquant.")
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("content", "Le contenu du fichier n'est pas un base64 valide.") from None
    options = {k: v for k, v in body.items() if k not in {"filename", "content"}}
    return data, filename.strip(), options


@bp.post("/api/v1/attachments/summarize")
def summarize():
    """Summarise one attachment with page (PDF) or paragraph (Word) references."""
    authorize_task(TASK)  # before reading a file the caller may not summarise
    request.max_content_length = _request_limit()
    data, filename, options = _read_upload()
    config = current_app.config
    document = documents.read_document(data, filename, max_bytes=config["ATTACHMENT_MAX_BYTES"],
                                       max_pages=config["ATTACHMENT_MAX_PAGES"], isolated=True)
    body: dict[str, Any] = {"text": document.as_marked_text(), "filename": document.filename}
    instructions = options.get("instructions")
    if isinstance(instructions, str) and instructions.strip():
        body["instructions"] = instructions
    return llm.stream_response(TASK, body)


OPENAPI = {
    "/api/v1/attachments/summarize": {"post": {
        "summary": "Summarise a mail attachment (.docx or .pdf) as a stream, with page references",
        "tags": ["outlook"],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": {
                "type": "object", "required": ["filename", "content"],
                "properties": {"filename": {"type": "string", "pattern": NOT_BLANK,
                                            "description": "Ends with .docx or .pdf, as the content is"},
                               "content": {"type": "string", "minLength": 1,
                                           "contentEncoding": "base64",
                                           "description": "getAttachmentContentAsync's base64 of "
                                                          "a .docx or .pdf file (not empty)"},
                               "instructions": {"type": "string"}}}},
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary",
                                        "description": "A .docx or .pdf file (not empty), "
                                                       "named as its content is"}}}}}},
        "responses": {
            "200": sse_response("The summary, with « [p. N] » / « [§ N] » references"),
            **error_responses({
                "400": "Missing or malformed file",
                "403": "Role not allowed",
                "413": "File too large, too many pages or paragraphs, or too much work to read",
                "415": "Not a .docx or .pdf, or a file renamed to another extension",
                "422": "Encrypted, damaged or empty file",
                "503": "No LLM host configured",
            })}}},
}
