"""Bad input is a 400 (or 414) in the JSON error shape on every route, never a 500:
JSON nested 10,000 deep, NUL bytes and lone surrogates wherever text comes in, addresses
far too long, and every error Werkzeug raises itself."""
from __future__ import annotations

import base64

import pytest

from tests.documents.samples import pdf_bytes

DEEP = "[" * 10_000 + "]" * 10_000
JSON_ROUTES = [
    ("POST", "/api/v1/assist/summarize"),
    ("POST", "/api/v1/attachments/summarize"),
    ("POST", "/api/v1/feedback"),
    ("POST", "/api/v1/routing/suggest"),
    ("PUT", "/api/v1/admin/jurisdictions/jean.dupont@justice.fr"),
]


@pytest.fixture
def client(make_app, fake_llm):
    return make_app(LLM_BASE_URL=fake_llm.url, LLM_MODEL="fake-chat", LLM_RETRIES=0).test_client()


def assert_json_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) >= {"error", "message"}
    if code:
        assert body["error"] == code
    return body


@pytest.mark.parametrize("method,path", JSON_ROUTES)
def test_json_nested_10000_deep_is_a_400_in_french(client, method, path, caplog):
    for body in (DEEP, '{"text": ' + DEEP + "}"):
        response = client.open(path, method=method, data=body, content_type="application/json")
        answer = assert_json_error(response, 400, "requete_invalide")
        assert "trop imbriqué" in answer["message"]
    assert "unexpected error" not in caplog.text


def test_json_nested_just_over_the_limit_is_refused_and_under_it_is_read(client):
    deep = {"interaction_id": "x", "comment": "ok", "useful": None}
    nested: object = "fin"
    for _ in range(40):
        nested = [nested]
    response = client.post("/api/v1/routing/suggest", json={"text": "bail", "extra": nested})
    assert "trop imbriqué" in assert_json_error(response, 400)["message"]
    response = client.post("/api/v1/feedback", json=deep)
    assert response.status_code == 404  # read, then the interaction is unknown


@pytest.mark.parametrize("query", [
    "q=bail&chamber=%00", "q=bail&solution=cass%00ation", "q=bail&jurisdiction=Cour%00",
    "q=b%00ail", "q=bail&zone=motivations%00", "q=bail&x%00=1",
])
def test_a_nul_byte_in_a_search_argument_is_a_400_naming_it(client, query):
    response = client.get(f"/api/v1/search?{query}")
    body = assert_json_error(response, 400, "requete_invalide")
    assert "caractère invalide" in body["message"]


def test_a_nul_byte_in_a_path_is_a_400(client):
    response = client.put("/api/v1/admin/jurisdictions/jean%00dupont", json={"jurisdictions": []})
    assert assert_json_error(response, 400)["field"] == "user"
    response = client.delete("/api/v1/admin/jurisdictions/jean%00dupont")
    assert_json_error(response, 400)
    response = client.get("/addin/word/%00.html")
    assert_json_error(response, 400)


@pytest.mark.parametrize("body,field", [
    ({"jurisdictions": ["Cour d'appel de Paris\u0000"]}, "jurisdictions"),
    ({"jurisdictions": ["Tribunal \ud800"]}, "jurisdictions"),
])
def test_a_nul_byte_in_an_admin_jurisdiction_is_a_400_and_nothing_is_stored(client, body, field):
    import json

    raw = json.dumps(body)  # ensure_ascii: the surrogate travels as \ud800, valid JSON
    response = client.put("/api/v1/admin/jurisdictions/jean.dupont@justice.fr", data=raw,
                          content_type="application/json")
    assert assert_json_error(response, 400)["field"] == field
    assert client.get("/api/v1/admin/jurisdictions").get_json()["mappings"] == []


def test_a_nul_byte_in_a_feedback_comment_is_refused_not_spooled(client):
    response = client.post("/api/v1/feedback", json={
        "interaction_id": "00000000-0000-0000-0000-000000000001", "comment": "Très\u0000 utile"})
    body = assert_json_error(response, 400, "requete_invalide")
    assert body["field"] == "comment"


def test_a_nul_byte_in_routing_text_and_in_a_form_field_is_a_400(client):
    response = client.post("/api/v1/routing/suggest", json={"subject": "a", "text": "b\u0000"})
    assert assert_json_error(response, 400)["field"] == "text"
    response = client.post("/api/v1/transcribe", content_type="multipart/form-data",
                           data={"language": "fr\u0000"})
    assert assert_json_error(response, 400)["field"] == "language"


def test_a_nul_byte_in_an_uploaded_file_name_is_a_400(client):
    from io import BytesIO

    response = client.post("/api/v1/attachments/summarize", content_type="multipart/form-data",
                           data={"file": (BytesIO(pdf_bytes([["x"]])), "a\u0000.pdf")})
    assert_json_error(response, 400)
    response = client.post("/api/v1/attachments/summarize", json={
        "filename": "a\u0000.pdf", "content": base64.b64encode(pdf_bytes([["x"]])).decode()})
    assert assert_json_error(response, 400)["field"] == "filename"


def test_a_100_kb_query_is_a_414_in_the_json_shape(client):
    response = client.get("/api/v1/search?q=" + "a" * 100_000)
    body = assert_json_error(response, 414, "adresse_trop_longue")
    assert "trop longue" in body["message"]


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/api/v1/nulle-part", 404),
    ("DELETE", "/api/v1/search", 405),
    ("POST", "/healthz", 405),
])
def test_every_error_werkzeug_raises_has_the_json_shape(client, method, path, status):
    assert_json_error(client.open(path, method=method), status)


def test_a_renamed_pdf_is_refused_by_the_attachment_route(client, fake_llm):
    for name in ("conclusions.docx", "notes.txt"):
        response = client.post("/api/v1/attachments/summarize", json={
            "filename": name, "content": base64.b64encode(pdf_bytes([["x"]])).decode()})
        body = assert_json_error(response, 415, "format_non_pris_en_charge")
        assert "renommez-le en .pdf" in body["message"]
    assert not [r for r in fake_llm.requests if r.path.endswith("/chat/completions")]


def test_a_docx_bomb_with_lying_sizes_is_a_413_before_any_model_call(client, fake_llm):
    from tests.documents.bombs import lying_docx

    response = client.post("/api/v1/attachments/summarize", json={
        "filename": "bombe.docx", "content": base64.b64encode(lying_docx(60_000_000)).decode()})
    body = assert_json_error(response, 413, "trop_volumineux")
    assert "se décompresse" in body["message"]
    assert not [r for r in fake_llm.requests if r.path.endswith("/chat/completions")]


def test_a_form_part_without_a_name_is_not_a_server_error(client):
    """The fuzzer sent a part whose name Werkzeug could not read (it became None): the
    guard must let the view answer, not fail on the missing name."""
    boundary = "plume"
    body = (f"--{boundary}\r\nContent-Disposition: form-data\r\n\r\nU\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
            f"\r\n\x89PNG\r\n--{boundary}--\r\n").encode("latin-1")
    response = client.post("/api/v1/attachments/summarize", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code in (400, 415)
    assert response.json["error"] and response.json["message"]
