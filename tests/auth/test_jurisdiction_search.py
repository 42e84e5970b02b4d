"""End to end: the jurisdictions a signed-in user gets (admin mapping or token claim) decide
which private decisions the real precedent search returns."""
from __future__ import annotations

import json

import pytest

from backend import retrieval
from tests.fakes.embeddings import FakeEmbeddings

from .conftest import bearer

PARIS, RENNES = "Cour d'appel de Paris", "Cour d'appel de Rennes"
WORDS = "licenciement pour faute grave du salarié protégé"


def _decision(source_id: str, **fields) -> dict:
    return {"id": source_id, "jurisdiction": "Cour d'appel", "chamber": "Chambre sociale",
            "number": source_id, "date": "2023-05-10", "solution": "Rejet", "source": "test",
            "text": f"La cour, sur le {WORDS}, retient que l'employeur a respecté la procédure. "
                    f"Décision {source_id}.", **fields}


@pytest.fixture
def search_client(entra_app, tmp_path):
    with FakeEmbeddings() as embeddings:
        app = entra_app(EMBEDDINGS_BASE_URL=embeddings.url, EMBEDDINGS_MODEL="fake-e5",
                        EMBED_IN_BACKGROUND=False, AUTH_JURISDICTIONS_CLAIM="juridictions")
        corpus = tmp_path / "decisions.jsonl"
        corpus.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in [
            _decision("PUBLIC-1"),
            _decision("PARIS-1", visibility="private", private_to=[PARIS]),
            _decision("RENNES-1", visibility="private", private_to=[RENNES]),
        ]) + "\n", encoding="utf-8")
        with app.app_context():
            report = retrieval.ingest_paths([str(corpus)], progress=False)
            assert not report.failed_files
            retrieval.embed_pending()
        yield app.test_client()


def _found(client, token) -> set[str]:
    response = client.get("/api/v1/search", query_string={"q": WORDS, "k": 10}, headers=bearer(token))
    assert response.status_code == 200, response.json
    return {hit["decision_id"] for hit in response.json["hits"]}


def test_greffier_never_sees_another_jurisdictions_private_decisions(search_client, idp):
    greffier = idp.token(roles=["Plume.Greffier"])
    assert _found(search_client, greffier) == {"PUBLIC-1"}, "no jurisdiction: public decisions only"

    admin = bearer(idp.token(roles=["Plume.Admin"], oid="a0000000-0000-4000-8000-000000000009"))
    search_client.put("/api/v1/admin/jurisdictions/jeanne.martin@justice.fr", headers=admin,
                      json={"jurisdictions": [PARIS]})
    assert _found(search_client, greffier) == {"PUBLIC-1", "PARIS-1"}


def test_jurisdictions_claim_opens_its_own_private_decisions_only(search_client, idp):
    token = idp.token(roles=["Plume.Magistrat"], juridictions=[RENNES])
    assert _found(search_client, token) == {"PUBLIC-1", "RENNES-1"}
