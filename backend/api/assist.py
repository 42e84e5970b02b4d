"""Assistance: ``POST /api/v1/assist/<task>`` answered as server-sent events.

The view only reads the body; the use case checks the task, role, body, quota and host
before the first byte and streams the answer (see :mod:`backend.usecases.assist`).
"""
from __future__ import annotations

from flask import Blueprint, request

from ..usecases import assist as assist_usecase
from ..usecases.tasks import LANGUAGES, LENGTHS, REPLY_LANGUAGES, MAX_INSTRUCTIONS_CHARS, MAX_SHORT_FIELD_CHARS, TASKS, TONES
from .openapi import error_responses, sse_response

bp = Blueprint("assist", __name__)


@bp.post("/api/v1/assist/<task>")
def assist(task: str):
    """Stream the answer of one assistance task."""
    return assist_usecase.stream_response(task, request.get_json(silent=True))


_EVENTS = (
    "Server-sent events, in order: `delta` {\"text\"} (repeated, each as soon as the model "
    "sends it); for a long document, `progress` {\"done\", \"total\", \"message\"} first; "
    "`fields` (mail-summary: parties, case_numbers, dates, requested_action, each with "
    "`verified`); `sources` {\"sources\", \"flags\"} (grounded drafts); then `done` "
    "{\"interaction_id\", \"usage\", \"model\", \"demo\", \"finish_reason\"} or, when the "
    "answer breaks after it started, `error` {\"error\", \"message\"} (French)."
)
OPENAPI = {
    "/api/v1/assist/{task}": {"post": {
        "summary": "Run an assistance task and stream its answer",
        "tags": ["assist"],
        "parameters": [{"name": "task", "in": "path", "required": True,
                        "schema": {"type": "string", "enum": list(TASKS)}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object",
            "properties": {
                "text": {"type": "string", "description": "The text to work on (required, not "
                                                           "blank, except for draft)"},
                "instructions": {"type": "string", "maxLength": MAX_INSTRUCTIONS_CHARS,
                                 "description": "The user's instructions (required for draft)"},
                "subject": {"type": "string", "maxLength": MAX_SHORT_FIELD_CHARS,
                            "description": "mail-summary, mail-reply: the mail's subject"},
                "conversation_id": {"type": "string", "maxLength": MAX_SHORT_FIELD_CHARS,
                                    "description": "mail-summary: the Outlook conversation "
                                                   "(Office.js `item.conversationId`); when the server "
                                                   "may call Microsoft Graph (PLUME_AUTH_CLIENT_SECRET) "
                                                   "the whole conversation is summarised, otherwise "
                                                   "the thread quoted in `text`"},
                "tone": {"type": "string", "enum": list(TONES), "description": "mail-reply, draft"},
                "length": {"type": "string", "enum": list(LENGTHS), "description": "mail-reply, draft"},
                "filename": {"type": "string", "maxLength": MAX_SHORT_FIELD_CHARS,
                             "description": "attachment-summary"},
                "reply_language": {"type": "string", "enum": list(REPLY_LANGUAGES),
                                   "description": "mail-reply: French (default) or `auto`, the language "
                                                  "of the mail answered"},
                "language": {"type": "string", "enum": list(LANGUAGES),
                             "description": "translate: the language to translate into (default fr); "
                                            "the answer's first line names the language recognised"},
            }}}}},
        "responses": {
            "200": sse_response(_EVENTS),
            **error_responses({
                "400": "Invalid body (the field is named)",
                "403": "Role not allowed for this task",
                "404": "Unknown task",
                "413": "Text too long for the model",
                "429": "User quota reached",
                "502": "The LLM host failed before answering",
                "503": "No LLM host configured, or host saturated (Retry-After)",
                "504": "The LLM host did not start answering in time",
            }),
        }}},
}
