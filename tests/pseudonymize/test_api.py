"""POST /api/v1/pseudonymize: the contract, bad input in French, the record without the text."""
from __future__ import annotations

import json

import psycopg
import pytest

URL = "/api/v1/pseudonymize"
DECISION = ("M. Jean Dupont, demeurant 12 rue des Lilas, 69100 Villeurbanne, a assigné Mme Marie Martin "
            "devant le tribunal judiciaire de Lyon. Président : M. Pierre LEROY. M. Dupont a perdu.")


def test_the_answer_follows_the_contract(client):
    response = client.post(URL, json={"text": DECISION})
    assert response.status_code == 200
    body = response.json
    assert list(body) == ["entities", "text", "kept"]
    assert response.headers["X-Interaction-Id"]
    for entity in body["entities"]:
        assert set(entity) == {"start", "end", "text", "category", "replacement", "entity_id"}
        assert DECISION[entity["start"]:entity["end"]] == entity["text"]
    assert body["text"] == ("M. [A], demeurant [Adresse 1], [Localité 1], a assigné Mme [B] devant le tribunal "
                            "judiciaire de Lyon. Président : M. Pierre LEROY. M. [A] a perdu.")
    assert {"Pierre LEROY", "Lyon"} <= {k["text"] for k in body["kept"]}
    dupont = [e for e in body["entities"] if "Dupont" in e["text"]]
    assert len(dupont) == 2 and len({e["entity_id"] for e in dupont}) == 1


def test_offsets_are_code_points_with_emojis_and_combining_accents(client):
    text = "👩‍⚖️ Audience : Mme Zoe\u0301 LEFE\u0300VRE 🇫🇷 et M. Noël Dupré ont comparu. 😀 Mme LEFE\u0300VRE a parlé."
    body = client.post(URL, json={"text": text}).json
    names = [e for e in body["entities"] if e["category"] == "personne"]
    assert len(names) == 3
    for entity in names:
        assert text[entity["start"]:entity["end"]] == entity["text"]
    assert body["text"] == "👩‍⚖️ Audience : Mme [A] 🇫🇷 et M. [B] ont comparu. 😀 Mme [A] a parlé."


def test_categories_can_be_kept_and_unknown_ones_are_refused(client):
    body = client.post(URL, json={"text": DECISION, "keep": ["adresse"]}).json
    assert "12 rue des Lilas" in body["text"]
    assert any(k["category"] == "adresse" for k in body["kept"])
    response = client.post(URL, json={"text": DECISION, "keep": ["nom"]})
    assert response.status_code == 400
    assert response.json["field"] == "keep" and "Catégorie inconnue : nom" in response.json["message"]


def test_a_dossier_keeps_its_letters_from_one_document_to_the_next(client):
    first = client.post(URL, json={"text": DECISION}).json
    second_text = ("Conclusions de Marie Martin contre Jean Dupont. M. Luc Perrin, voisin, atteste que DUPONT "
                   "vit au 12 rue des Lilas, puis 3 rue Neuve.")
    second = client.post(URL, json={"text": second_text, "known": first["entities"]}).json
    by_text = {e["text"]: e["replacement"] for e in second["entities"]}
    assert by_text["Marie Martin"] == "[B]" and by_text["Jean Dupont"] == "[A]" and by_text["DUPONT"] == "[A]"
    assert by_text["Luc Perrin"] == "[C]"  # a new person takes the next free letter
    assert by_text["12 rue des Lilas"] == "[Adresse 1]" and by_text["3 rue Neuve"] == "[Adresse 2]"
    alone = client.post(URL, json={"text": second_text}).json
    assert {e["replacement"] for e in alone["entities"] if e["text"] == "Jean Dupont"} == {"[B]"}


@pytest.mark.parametrize("known", ["[A]", [{"text": "Jean Dupont", "category": "nom", "replacement": "[A]"}],
                                   [{"text": "Jean Dupont", "category": "personne", "replacement": "A"}],
                                   [{"text": " ", "category": "personne", "replacement": "[A]"}]])
def test_a_malformed_known_list_is_refused_in_french(client, known):
    response = client.post(URL, json={"text": DECISION, "known": known})
    assert response.status_code == 400
    assert response.json["field"] == "known"
    assert response.json["message"].startswith("« known » doit être la liste des remplacements déjà faits")


@pytest.mark.parametrize("payload,field,message", [
    ({"text": ""}, "text", "Le texte à pseudonymiser est vide."),
    ({"text": "   \n "}, "text", "Le texte à pseudonymiser est vide."),
    ({"texte": "M. Dupont"}, "text", "Indiquez le texte à pseudonymiser dans le champ « text »."),
    ({"text": 42}, "text", "Indiquez le texte à pseudonymiser dans le champ « text »."),
    (["M. Dupont"], "text", "Le corps de la requête doit être un objet JSON"),
    ({"text": "PK\x03\x04\x14\x08binaire\x01\x02"}, "text", "Le texte contient des caractères qui ne sont pas du texte"),
    # NUL bytes and lone surrogates are refused for every field of every request (api/guards.py)
    ({"text": "PK\x03\x04\x00\x00binaire"}, "text", "La requête contient un caractère invalide"),
    ({"text": "M. Dupont", "keep": "adresse"}, "keep", "« keep » doit être une liste"),
])
def test_bad_bodies_are_refused_in_french(client, payload, field, message):
    response = client.post(URL, json=payload)
    assert response.status_code == 400
    assert response.json["error"] == "requete_invalide"
    assert response.json["field"] == field
    assert response.json["message"].startswith(message)


def test_wrong_json_and_binary_junk(client):
    for data, content_type in ((b'{"text": "M. Dupont"', "application/json"),
                               (bytes(range(256)) * 4, "application/json"),
                               (b"\xff\xfe\x00binary", "application/octet-stream")):
        response = client.post(URL, data=data, content_type=content_type)
        assert response.status_code == 400
        assert response.json["error"] == "requete_invalide"
        assert "objet JSON" in response.json["message"]


def test_a_lone_surrogate_is_refused(client):
    response = client.post(URL, data='{"text": "M. Dupont \\ud800"}', content_type="application/json")
    assert response.status_code == 400
    assert response.json["field"] == "text"
    assert "caractère invalide" in response.json["message"]


def test_five_megabytes_are_refused_before_reading_and_long_texts_after(client):
    big = json.dumps({"text": "M. Dupont a signé. " * (5 * 1024 * 1024 // 19)})
    response = client.post(URL, data=big, content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"] == "trop_volumineux"
    assert "au plus 4 Mo" in response.json["message"]
    response = client.post(URL, json={"text": "a" * 600_001})
    assert response.status_code == 413
    assert "au plus 600 000" in response.json["message"] and "Découpez-le" in response.json["message"]


def test_each_call_is_recorded_without_the_text(client, database_url):
    client.post(URL, json={"text": DECISION})
    client.post(URL, json={"text": ""})
    with psycopg.connect(database_url) as conn:
        records = conn.execute("SELECT kind, task, outcome, error_code, model FROM audit_interactions "
                               "ORDER BY seq").fetchall()
        dump = str(conn.execute("SELECT * FROM audit_interactions").fetchall())
    assert records == [("pseudonymize", "pseudonymize", "ok", None, "fr_core_news_md"),
                       ("pseudonymize", "pseudonymize", "error", "requete_invalide", "fr_core_news_md")]
    assert "Dupont" not in dump and "Lilas" not in dump


def test_roles_and_quotas_apply(make_app):
    nobody = make_app(DEV_USER={"id": "a", "roles": ["Plume.Admin"]}).test_client()
    response = nobody.post(URL, json={"text": DECISION})
    assert response.status_code == 403 and response.json["error"] == "acces_refuse"
    clerk = make_app(DEV_USER={"id": "g", "roles": ["Plume.Greffier"]}, QUOTA_REQUESTS_PER_MINUTE=1).test_client()
    assert clerk.post(URL, json={"text": DECISION}).status_code == 200
    response = clerk.post(URL, json={"text": DECISION})
    assert response.status_code == 429 and response.json["error"] == "quota_depasse"
    assert int(response.headers["Retry-After"]) > 0


def test_the_openapi_document_describes_the_route(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    operation = paths["/api/v1/pseudonymize"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["required"] == ["text"]
    assert set(operation["responses"]) >= {"200", "400", "403", "413", "429"}
