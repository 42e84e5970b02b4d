"""The issue's privacy check: a canary sent in a document, a mail body and a question reaches
the model but no database table and no log line, while content logging is off."""
from __future__ import annotations

import io
import uuid

import psycopg
from docx import Document

from backend import audit
from tests.llm.conftest import FAST, events

from .helpers import MAGISTRAT, as_user, rows

TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb", "ARRAY", "USER-DEFINED",
              "tsvector")


def _tables_holding(database_url: str, needle: str) -> list[str]:
    """Every column of every table that contains ``needle``: text, arrays, JSON, bytes."""
    found = []
    with psycopg.connect(database_url) as conn:
        columns = conn.execute(
            """SELECT table_name, column_name, data_type FROM information_schema.columns
               WHERE table_schema = 'public' ORDER BY table_name, ordinal_position""").fetchall()
        assert len({table for table, _, _ in columns}) >= 8  # the whole schema, not a part of it
        for table, column, data_type in columns:
            if data_type == "bytea":
                condition = f'position(convert_to(%(needle)s, \'UTF8\') in "{column}") > 0'
            elif data_type in TEXT_TYPES:
                condition = f'"{column}"::text ILIKE \'%%\' || %(needle)s || \'%%\''
            else:
                continue
            hits = conn.execute(f'SELECT count(*) FROM "{table}" WHERE {condition}',
                                {"needle": needle}).fetchone()[0]
            if hits:
                found.append(f"{table}.{column}")
    return found


def _docx(text: str) -> bytes:
    document = Document()
    document.add_heading("Conclusions", level=1)
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_a_canary_reaches_the_model_but_no_table_and_no_log(make_app, fake_llm, database_url,
                                                             capsys):
    canary = f"CANARI{uuid.uuid4().hex[:12].upper()}"
    fake_llm.reply = lambda body: f"Voici la réponse, qui reprend {canary} mot pour mot."
    app = make_app(DEV_USER={**MAGISTRAT, "roles": ["Plume.Magistrat", "Plume.Greffier"]},
                   LLM_BASE_URL=fake_llm.url, EMBEDDINGS_BASE_URL=fake_llm.url,
                   EMBEDDINGS_MODEL="fake-embeddings", EMBED_IN_BACKGROUND=False, **FAST)
    client = app.test_client()
    document = f"Le tribunal a statué.\n\nLe témoin {canary} a été entendu."
    mail = f"Bonjour, le dossier de M. {canary} est renvoyé au 12 mars. Cordialement."

    calls = [
        ("/api/v1/assist/summarize", {"json": {"text": document}}),
        ("/api/v1/assist/draft", {"json": {
            "instructions": f"Quelle jurisprudence pour le cas {canary} ?", "text": document}}),
        ("/api/v1/assist/mail-summary", {"json": {"text": mail, "subject": "Renvoi"}}),
        ("/api/v1/assist/mail-reply", {"json": {"text": mail}}),
        ("/api/v1/attachments/summarize", {
            "content_type": "multipart/form-data",
            "data": {"file": (io.BytesIO(_docx(document)), "conclusions.docx")}}),
    ]
    for path, arguments in calls:
        response = client.post(path, **arguments)
        body = response.get_data(as_text=True)  # read to the end, as the pane does
        assert response.status_code == 200, body
        assert events(response)[-1][0] == "done", body
        assert canary in body  # the user did get the answer
    search = client.get("/api/v1/search", query_string={"q": f"responsabilité {canary}"})
    assert search.status_code == 200
    interaction_id = search.json["interaction_id"]
    assert client.post("/api/v1/feedback", json={"interaction_id": interaction_id,
                                                 "useful": True}).status_code == 201

    sent = " ".join(str(r.json) for r in fake_llm.chat_requests())
    assert sent.count(canary) >= 5  # every input really went to the model
    assert len(rows(database_url, "SELECT seq FROM audit_interactions")) == 6

    assert _tables_holding(database_url, canary) == []
    captured = capsys.readouterr()
    assert "interaction recorded" in captured.out  # the logs were captured, and are clean
    assert canary not in captured.out and canary not in captured.err

    # The scan does find text where it is stored: a comment written for the observatory,
    # and content an administrator chose to log.
    logging_app = make_app(AUDIT_CONTENT_LOGGING=True)
    ctx = as_user(logging_app, MAGISTRAT)
    try:
        audit.record_event(interaction_id, "feedback", user_hash="h", comment=f"Voir {canary}")
        interaction = audit.start("assist", "summarize")
        interaction.log_content("document", document)
        interaction.finish("ok")
    finally:
        ctx.pop()
    assert _tables_holding(database_url, canary) == ["audit_content.content", "audit_events.comment"]
