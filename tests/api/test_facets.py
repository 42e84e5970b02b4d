"""GET /api/v1/facets/jurisdictions: the courts the search filter offers, limited to the
decisions the user may see, one entry per folded spelling, for signed-in searchers only."""
from __future__ import annotations

import json

from backend import retrieval
from tests.auth.conftest import entra_settings

TEXT = "MOTIFS\nAttendu que le salarié a été licencié pour faute grave.\nPAR CES MOTIFS\nRejette."
MAGISTRAT = ["Plume.Magistrat"]


def decision(source_id: str, jurisdiction: str, **fields) -> dict:
    return {"id": source_id, "jurisdiction": jurisdiction, "chamber": "Chambre sociale",
            "number": "21-12.345", "date": "2022-03-09", "solution": "Rejet", "text": TEXT,
            "source": "test", **fields}


CORPUS = [
    decision("cass-1", "Cour de cassation"),
    decision("cass-2", "Cour de cassation"),
    decision("ca-lyon", "Cour d'appel de Lyon"),
    decision("ca-nimes-1", "Cour d'appel de Nîmes"),
    decision("ca-nimes-2", "Cour d'appel de Nîmes"),
    decision("ca-nimes-3", "Cour d'appel de Nimes"),    # another spelling of the same court
    decision("tj-evry", "Tribunal judiciaire d'Évry"),
    decision("no-court", ""),
    decision("ca-paris-secret", "Cour d'appel de Paris", private_to=["Cour d'appel de Paris"]),
    decision("ca-rennes-secret", "Cour d'appel de Rennes", private_to=["Cour d'appel de Rennes"]),
]
PUBLIC = ["Cour d'appel de Lyon", "Cour d'appel de Nîmes", "Cour de cassation", "Tribunal judiciaire d'Évry"]


def app_for(make_app, tmp_path, *, jurisdictions, roles=MAGISTRAT, ingest=True):
    app = make_app(DEV_USER={"id": "u", "name": "U", "roles": roles, "jurisdictions": jurisdictions})
    if ingest:
        path = tmp_path / "decisions.jsonl"
        path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in CORPUS), encoding="utf-8")
        with app.app_context():
            report = retrieval.ingest_paths([str(path)], progress=False)
            assert not report.failed_files, report.summary()
    return app


def courts(app) -> list[str]:
    response = app.test_client().get("/api/v1/facets/jurisdictions")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["jurisdictions"]


def test_a_user_without_jurisdictions_sees_the_public_courts_in_folded_order(make_app, tmp_path):
    # « Cour d'appel de Nîmes » once, in its commonest spelling; no empty name; no private court.
    assert courts(app_for(make_app, tmp_path, jurisdictions=[])) == PUBLIC


def test_a_private_court_shows_only_to_its_own_users(make_app, tmp_path):
    app_for(make_app, tmp_path, jurisdictions=[])  # loads the corpus once
    paris = make_app(DEV_USER={"id": "p", "roles": MAGISTRAT, "jurisdictions": ["Cour d'appel de Paris"]})
    assert courts(paris) == ["Cour d'appel de Lyon", "Cour d'appel de Nîmes", "Cour d'appel de Paris",
                             "Cour de cassation", "Tribunal judiciaire d'Évry"]
    both = make_app(DEV_USER={"id": "b", "roles": ["Plume.Greffier"],
                              "jurisdictions": ["Cour d'appel de Paris", "Cour d'appel de Rennes"]})
    assert {"Cour d'appel de Paris", "Cour d'appel de Rennes"} <= set(courts(both))


def test_an_empty_corpus_offers_no_court(make_app, tmp_path):
    assert courts(app_for(make_app, tmp_path, jurisdictions=[], ingest=False)) == []


def test_a_user_whose_roles_do_not_reach_search_is_refused_in_french(make_app, tmp_path):
    app = app_for(make_app, tmp_path, jurisdictions=[], roles=["Plume.Admin"], ingest=False)
    response = app.test_client().get("/api/v1/facets/jurisdictions")
    assert response.status_code == 403
    body = response.get_json()
    assert body == {"error": "acces_refuse", "message": "Votre rôle ne permet pas d'accéder à cette fonction."}


def test_signing_in_is_required(make_app, idp):
    app = make_app(**entra_settings(idp))
    response = app.test_client().get("/api/v1/facets/jurisdictions")
    assert response.status_code == 401 and response.get_json()["error"]


def test_the_openapi_document_describes_the_view(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/facets/jurisdictions"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["required"] == ["jurisdictions"]


def test_a_decision_is_read_whole_with_its_citation_and_zones(make_app, tmp_path):
    app = app_for(make_app, tmp_path, jurisdictions=[])
    response = app.test_client().get("/api/v1/decisions/cass-1")
    assert response.status_code == 200
    body = response.get_json()
    assert body["decision_id"] == "cass-1" and body["text"] == TEXT
    assert body["citation"] == "Cass. soc., 9 mars 2022, n° 21-12.345"
    assert body["date"] == "2022-03-09" and body["solution"] == "Rejet"
    assert body["zones"] and all(0 <= z["start"] < z["end"] <= len(TEXT) for z in body["zones"])


def test_a_private_decision_of_another_court_is_as_unknown_as_a_missing_one(make_app, tmp_path):
    app = app_for(make_app, tmp_path, jurisdictions=[])
    client = app.test_client()
    for missing in ("ca-paris-secret", "pas-une-decision", "x" * 300):
        response = client.get(f"/api/v1/decisions/{missing}")
        assert response.status_code == 404, missing
        assert response.get_json() == {
            "error": "introuvable",
            "message": "Cette décision est introuvable dans la jurisprudence que vous pouvez consulter."}
    paris = make_app(DEV_USER={"id": "p", "roles": MAGISTRAT, "jurisdictions": ["Cour d'appel de Paris"]})
    assert paris.test_client().get("/api/v1/decisions/ca-paris-secret").status_code == 200


def test_reading_a_decision_needs_the_search_role(make_app, tmp_path):
    app = app_for(make_app, tmp_path, jurisdictions=[], roles=["Plume.Admin"], ingest=False)
    assert app.test_client().get("/api/v1/decisions/cass-1").status_code == 403
