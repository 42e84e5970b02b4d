"""Finding a decision by its number, however it is typed, in the API and in retrieval.search."""
from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from backend import retrieval
from backend.retrieval.numbers import looks_like_number

from .conftest import decision, ingest, user

SAMPLES = Path(__file__).resolve().with_name("judilibre")
CC = "judilibre-5fca277de35a255d41ca73ab"        # pourvoi n° 19-19.463
TCOM = "judilibre-6777e9f21e60c54e02024fdd"      # 2022004346

SOCIAL = ("MOTIFS\nAttendu que le salarié a été licencié pour faute grave après des absences "
          "répétées ; que l'employeur a respecté la procédure. " * 3
          + "\nPAR CES MOTIFS\nRejette le pourvoi n° 23-11.537 du salarié.")
CITING = ("MOTIFS\nComme l'a jugé la Cour de cassation (Com., 18 novembre 2020, pourvoi n° 19-19.463), "
          "le demandeur non commerçant peut saisir le tribunal de commerce. " * 3
          + "\nPAR CES MOTIFS\nSe déclare compétent.")
CORPUS = [
    decision("soc-23-11537", SOCIAL, number="23-11.537", date="2024-02-07"),
    decision("soc-23-11538", SOCIAL.replace("11.537", "11.538"), number="23-11.538", date="2024-02-07"),
    decision("ca-lyon-rg", CITING.replace("19-19.463", "20/01111"), jurisdiction="Cour d'appel de Lyon",
             chamber="1ère chambre civile", number="21/01234", date="2022-05-03", solution="Confirme"),
    decision("tj-cites-cc", CITING, jurisdiction="Tribunal judiciaire de Nantes", chamber=None,
             number="22/04444", date="2022-01-10", solution=None),
    decision("civ3-joined", SOCIAL.replace("23-11.537", "17-18.194"), chamber="Troisième chambre civile",
             number="17-18.194, 16-21.165", date="2018-12-20"),
    decision("ca-paris-private", SOCIAL.replace("23-11.537", "24/00077"), jurisdiction="Cour d'appel de Paris",
             chamber=None, number="24/00077", date="2024-03-01", private_to=["Cour d'appel de Paris"]),
    decision("ca-rennes-private", SOCIAL.replace("23-11.537", "24/00078"),
             jurisdiction="Cour d'appel de Rennes", chamber=None, number="24/00078", date="2024-03-01",
             private_to=["Cour d'appel de Rennes"]),
]


@pytest.fixture
def loaded(search_app, write_jsonl):
    report = ingest(search_app, [write_jsonl(CORPUS), SAMPLES / "cc-decision-unresolved.json",
                                 SAMPLES / "tcom-decision-resolved.json"])
    assert report.ingested == len(CORPUS) + 2 and not report.skipped
    return search_app


def _search(app, **params):
    response = app.test_client().get("/api/v1/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["hits"]


@pytest.mark.parametrize("query, key", [
    ("23-11537", "2311537"), ("23 11.537", "2311537"), ("pourvoi n°23-11.537", "2311537"),
    ("n° 23-11.537", "2311537"), ("Pourvoi n° Y 19-19.463", "1919463"), ("N°23-11.537", "2311537"),
    ("2311537", "2311537"), ("21/01234", "2101234"), ("RG 21/01234", "2101234"),
    ("n° RG : 21/01234", "2101234"), ("2022004346", "2022004346"), ("2024G00010", "2024g00010"),
    ("pourvois n° 23-11.537", "2311537"),
])
def test_numbers_are_recognised_however_they_are_typed(query, key):
    assert looks_like_number(query) == key


@pytest.mark.parametrize("query", ["licenciement faute grave", "article 1240", "2020", "L. 1234-5",
                                   "licenciement 23-11.537", "bail commercial – clause résolutoire",
                                   "", "n°", "art. 700"])
def test_words_are_not_numbers(query):
    assert looks_like_number(query) is None


@pytest.mark.parametrize("query", ["23-11537", "23 11.537", "pourvoi n°23-11.537", "n° 23-11.537",
                                   "23-11.537"])
def test_each_spelling_finds_the_decision_first_through_the_api(loaded, query):
    hits = _search(loaded, q=query)
    assert hits[0]["decision_id"] == "soc-23-11537"
    assert hits[0]["citation"] == "Cass. soc., 7 févr. 2024, n° 23-11.537"
    # Its neighbour 23-11.538 is not offered as a match when the exact number exists.
    assert "soc-23-11538" not in [h["decision_id"] for h in hits[:1]]
    top = hits[0]
    assert [top["text"][a:b] for a, b in top["marks"]] == ["23-11.537"]


@pytest.mark.parametrize("query, expected", [
    ("19-19.463", CC), ("pourvoi n° Y 19-19.463", CC), ("19 19463", CC),
    ("21/01234", "ca-lyon-rg"), ("RG 21/01234", "ca-lyon-rg"), ("2022004346", TCOM),
    ("16-21.165", "civ3-joined"), ("17-18194", "civ3-joined"),
])
def test_retrieval_search_finds_each_number(loaded, query, expected):
    with loaded.app_context():
        hits = retrieval.search(query, user("Cour d'appel de Paris"))
    assert hits[0]["decision_id"] == expected
    assert hits[0]["score"] == 1.0 and hits[0]["lexical_rank"] is None


def test_the_number_comes_first_then_the_decisions_citing_it(loaded):
    hits = _search(loaded, q="pourvoi n° 19-19.463", k=5)
    assert [h["decision_id"] for h in hits[:2]] == [CC, "tj-cites-cc"]
    assert hits[0]["zone"] == "introduction"       # the passage that names the number
    assert "19-19.463" in hits[0]["text"]
    assert hits[1]["lexical_rank"] == 1 and hits[1]["score"] < hits[0]["score"]


def test_a_number_hit_has_the_shape_of_any_hit(loaded):
    by_number = _search(loaded, q="21/01234")[0]
    by_words = _search(loaded, q="tribunal de commerce compétent")[0]
    assert set(by_number) == set(by_words)
    assert set(by_number["decision"]) == set(by_words["decision"])
    assert by_number["decision"]["jurisdiction"] == "Cour d'appel de Lyon"


def test_a_typo_still_finds_the_nearest_number(loaded):
    hits = _search(loaded, q="2022004347")   # the commercial court's 2022004346, one digit off
    assert hits[0]["decision_id"] == TCOM
    assert 0 < hits[0]["score"] < 1


def test_an_unknown_number_falls_back_to_the_search(loaded):
    hits = _search(loaded, q="99-99.999")
    assert all(h["score"] < 1 for h in hits)


def test_a_private_decision_is_found_by_number_only_by_its_jurisdiction(make_app, fake_embeddings,
                                                                        write_jsonl):
    config = dict(EMBEDDINGS_BASE_URL=fake_embeddings.url, EMBEDDINGS_MODEL="fake-e5",
                  EMBED_IN_BACKGROUND=False)
    paris = make_app(**config)  # the dev user sits at the cour d'appel de Paris
    ingest(paris, [write_jsonl(CORPUS)])
    assert _search(paris, q="24/00077")[0]["decision_id"] == "ca-paris-private"
    assert "ca-rennes-private" not in {h["decision_id"] for h in _search(paris, q="24/00078")}
    lyon = make_app(**config, DEV_USER={"id": "u2", "roles": ["Plume.Magistrat"],
                                        "jurisdictions": ["Cour d'appel de Lyon"]})
    seen = {h["decision_id"] for q in ("24/00077", "24 00077", "RG 24/00077", "24/00078")
            for h in _search(lyon, q=q)}
    assert not seen & {"ca-paris-private", "ca-rennes-private"}
    with lyon.app_context():
        assert not {h["decision_id"] for h in retrieval.search("24/00077", user("Cour d'appel de Lyon"))
                    } & {"ca-paris-private"}


def test_filters_apply_to_numbers_too(loaded):
    hits = _search(loaded, q="23-11.537", jurisdiction="Cour d'appel")
    assert "soc-23-11537" not in {h["decision_id"] for h in hits}
    assert _search(loaded, q="23-11.537", chamber="sociale")[0]["decision_id"] == "soc-23-11537"


def test_the_lookup_reads_the_trigram_index(loaded, database_url):
    with psycopg.connect(database_url) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT id FROM decisions WHERE number_key LIKE '%2311537%'"))
        assert "decisions_number_key_idx" in plan
        assert conn.execute("SELECT number_key FROM decisions WHERE source_id = 'civ3-joined'"
                            ).fetchone() == ("1718194 1621165",)


def test_the_samples_numbers_survive_both_shapes(app, database_url):
    for shape in ("unresolved", "resolved"):
        ingest(app, [SAMPLES / f"cc-decision-{shape}.json"])
        with app.app_context():
            assert retrieval.search("19-19.463", user())[0]["decision_id"] == CC
    assert json.loads((SAMPLES / "cc-decision-resolved.json").read_text())["number"] == "19-19.463"
