"""Attachment summaries: a real .docx and a real PDF in, a streamed summary with page and
paragraph references out; unreadable files refused in French before any stream starts."""
from __future__ import annotations

import base64

import pytest

from tests.llm.conftest import events
from tests.api.attachment_files import make_damaged_docx, make_docx, make_encrypted_pdf, make_pdf

FAST = {"LLM_MODEL": "fake-chat", "LLM_BACKOFF_SECONDS": 0.01, "LLM_RETRIES": 0}


@pytest.fixture
def llm_client(make_app, fake_llm):
    return make_app(LLM_BASE_URL=fake_llm.url, **FAST).test_client()


def as_json(data: bytes, filename: str) -> dict[str, str]:
    """What the pane sends: getAttachmentContentAsync's base64, and the file name."""
    return {"filename": filename, "content": base64.b64encode(data).decode()}


def prompt_of(fake_llm) -> str:
    [call] = [r for r in fake_llm.requests if r.path.endswith("/chat/completions")]
    return call.json["messages"][-1]["content"]


def test_a_pdf_is_summarised_with_its_page_markers(llm_client, fake_llm):
    fake_llm.reply = "Ordonnance de mise en état, RG n° 24/01234 (p. 1). Clôture au 12 mars 2026 (p. 2)."
    response = llm_client.post("/api/v1/attachments/summarize", json=as_json(make_pdf(), "ordonnance.pdf"))
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    parsed = events(response)
    assert "".join(d["text"] for e, d in parsed if e == "delta") == fake_llm.reply
    assert parsed[-1][0] == "done" and parsed[-1][1]["interaction_id"]
    prompt = prompt_of(fake_llm)
    assert "[p. 1]" in prompt and "[p. 2]" in prompt
    assert "Fichier : ordonnance.pdf" in prompt
    assert "clôture au 12 mars 2026" in prompt
    assert prompt.index("[p. 1]") < prompt.index("RG n° 24/01234") < prompt.index("[p. 2]")


def test_a_docx_is_summarised_with_paragraph_numbers_as_multipart(llm_client, fake_llm):
    from io import BytesIO

    fake_llm.reply = "Conclusions d'intimé pour M. Jean Dupont (§ 2)."
    response = llm_client.post("/api/v1/attachments/summarize", content_type="multipart/form-data",
                               data={"file": (BytesIO(make_docx()), "conclusions.docx")})
    assert response.status_code == 200
    parsed = events(response)
    assert parsed[-1][0] == "done"
    prompt = prompt_of(fake_llm)
    assert "[§ 1] Conclusions d'intimé" in prompt
    assert "[§ 2] Pour : M. Jean Dupont" in prompt


@pytest.mark.parametrize("data,filename,status,code,needle", [
    (make_encrypted_pdf(), "protege.pdf", 422, "document_chiffre", "mot de passe"),
    (make_damaged_docx(), "abime.docx", 422, "document_illisible", "endommagé"),
    (b"GIF89a...", "photo.gif", 415, "format_non_pris_en_charge", ".docx"),
    (make_pdf([["Page"]] * 4), "long.pdf", 413, "trop_volumineux", "la limite est de 3"),
])
def test_unreadable_files_are_refused_in_french_before_any_model_call(
        make_app, fake_llm, data, filename, status, code, needle):
    client = make_app(LLM_BASE_URL=fake_llm.url, ATTACHMENT_MAX_PAGES=3, **FAST).test_client()
    response = client.post("/api/v1/attachments/summarize", json=as_json(data, filename))
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.json["error"] == code
    assert needle in response.json["message"]
    assert not [r for r in fake_llm.requests if r.path.endswith("/chat/completions")]


def test_a_file_larger_than_ordinary_requests_is_accepted(llm_client, fake_llm):
    """Attachments have their own limit (10 MiB by default), above the 2 MiB of other routes."""
    heavy = make_pdf(padding=3 * 1024 * 1024)
    assert len(heavy) > 3 * 1024 * 1024
    response = llm_client.post("/api/v1/attachments/summarize", json=as_json(heavy, "scan.pdf"))
    assert response.status_code == 200
    assert events(response)[-1][0] == "done"


def test_a_file_over_the_size_limit_is_refused(make_app, fake_llm):
    client = make_app(LLM_BASE_URL=fake_llm.url, ATTACHMENT_MAX_BYTES=1000, **FAST).test_client()
    response = client.post("/api/v1/attachments/summarize", json=as_json(make_docx(), "gros.docx"))
    assert response.status_code == 413
    assert response.json["message"] == "Ce document est trop volumineux pour être traité."
    # A body far beyond the limit is refused before it is even decoded.
    huge = {"filename": "enorme.pdf", "content": "A" * 200_000}
    response = client.post("/api/v1/attachments/summarize", json=huge)
    assert response.status_code == 413
    assert response.json["error"] == "trop_volumineux"


@pytest.mark.parametrize("payload,field", [
    ({"filename": "a.pdf"}, "content"),
    ({"content": "AAAA"}, "filename"),
    ({"filename": "a.pdf", "content": "pas du base64 !"}, "content"),
])
def test_malformed_requests_name_the_field(llm_client, payload, field):
    response = llm_client.post("/api/v1/attachments/summarize", json=payload)
    assert response.status_code == 400
    assert response.json["field"] == field


def test_without_a_model_host_the_file_is_read_then_503(client):
    response = client.post("/api/v1/attachments/summarize", json=as_json(make_pdf(), "ordonnance.pdf"))
    assert response.status_code == 503
    assert "PLUME_LLM_BASE_URL" in response.json["message"]


def test_magistrates_only_are_refused_before_the_file_is_read(make_app):
    client = make_app(DEV_USER={"id": "m", "roles": ["Plume.Magistrat"]}).test_client()
    response = client.post("/api/v1/attachments/summarize",
                           json={"filename": "a.pdf", "content": "pas du base64 !"})
    assert response.status_code == 403
