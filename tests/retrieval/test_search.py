"""GET /api/v1/search: hybrid results, filters, visibility, errors, audit."""
from __future__ import annotations

import psycopg
import pytest

from backend import retrieval
from backend.retrieval import tuning

from .conftest import decision, embed_all, ingest, user

LICENCIEMENT = ("MOTIFS\nAttendu que le salarié a été licencié pour faute grave après des absences "
                "répétées ; que l'employeur a respecté la procédure de licenciement. " * 3
                + "\nPAR CES MOTIFS\nRejette le pourvoi du salarié.")
BAIL = ("MOTIFS\nLe preneur à bail commercial sollicite le renouvellement du bail ; le bailleur "
        "refuse et offre une indemnité d'éviction. " * 3
        + "\nPAR CES MOTIFS\nFixe l'indemnité d'éviction due au preneur.")
RETENTION = ("MOTIFS\nLa prolongation de la rétention administrative de l'étranger est demandée "
             "par le préfet ; la mesure d'éloignement n'a pu être exécutée. " * 3
             + "\nPAR CES MOTIFS\nOrdonne la prolongation de la rétention.")
SECRET = ("MOTIFS\nLe secret du délibéré interdit de révéler les opinions des juges ; la note "
          "interne rappelle cette règle aux magistrats de la cour. " * 3
          + "\nPAR CES MOTIFS\nDiffusion interne seulement.")

CORPUS = [
    decision("cass-soc", LICENCIEMENT, jurisdiction="Cour de cassation", chamber="Chambre sociale",
             number="21-12.345", date="2022-03-09", solution="Rejet"),
    decision("ca-lyon-bail", BAIL, jurisdiction="Cour d'appel de Lyon", chamber="1ère chambre civile",
             number="20/01234", date="2021-06-15", solution="Confirme la décision"),
    decision("tj-paris-retention", RETENTION, jurisdiction="Tribunal judiciaire de Paris",
             chamber="Rétention administrative", number="23/04567", date="2023-12-18",
             solution="Prolongation"),
    decision("ca-paris-secret", SECRET, jurisdiction="Cour d'appel de Paris", chamber=None,
             number="24/00001", date="2024-01-10", solution=None,
             private_to=["Cour d'appel de Paris"]),
    decision("ca-rennes-secret", SECRET.replace("cour", "cour de Rennes"),
             jurisdiction="Cour d'appel de Rennes", number="24/00002", date="2024-01-11",
             private_to=["Cour d'appel de Rennes"]),
]


@pytest.fixture
def loaded(search_app, write_jsonl):
    ingest(search_app, [write_jsonl(CORPUS)])
    return search_app


def _search(app, **params):
    return app.test_client().get("/api/v1/search", query_string=params)


def test_words_find_the_decision_with_its_citation_zone_and_marked_terms(loaded):
    response = _search(loaded, q="licenciement faute grave")
    assert response.status_code == 200
    body = response.get_json()
    top = body["hits"][0]
    assert top["decision_id"] == "cass-soc"
    assert top["citation"] == "Cass. soc., 9 mars 2022, n° 21-12.345"
    assert top["zone"] == "motivations"
    marked = {top["text"][a:b].lower() for a, b in top["marks"]}
    assert {"faute", "grave", "licenciement"} <= marked
    assert top["decision"]["jurisdiction"] == "Cour de cassation"
    assert top["lexical_rank"] == 1 and top["score"] > 0
    assert body["semantic"] is False  # no vector computed yet: words only, and said so
    assert "en cours de calcul" in body["notice"]


def test_once_vectors_are_computed_the_vector_leg_answers_what_no_word_matches(loaded,
                                                                               fake_embeddings):
    """The fake host's vectors share the first letters of words, so a misspelt query lands
    near the passage it misspells: this shows the plumbing (the query embedded once as a
    « query: », its hits ranked by the vector leg alone), not meaning; test_meaning.py
    shows meaning with the real model."""
    assert embed_all(loaded) > 0
    body = _search(loaded, q="licenciemnt fautes graves").get_json()  # misspelt: no word matches
    assert body["semantic"] is True and body["notice"] is None
    top = body["hits"][0]
    assert (top["decision_id"], top["lexical_rank"], top["semantic_rank"]) == ("cass-soc", None, 1)
    assert top["marks"] == []
    queries = [r for r in fake_embeddings.requests if r["input"] == ["query: licenciemnt fautes graves"]]
    assert len(queries) == 1 and queries[0]["model"] == "fake-e5"


def test_fusion_ranks_a_passage_found_both_ways_first(loaded):
    embed_all(loaded)
    hits = _search(loaded, q="indemnité d'éviction bail commercial").get_json()["hits"]
    assert hits[0]["decision_id"] == "ca-lyon-bail"
    assert hits[0]["lexical_rank"] == 1 and hits[0]["semantic_rank"] == 1
    # 1/(60 + 1) for the words, half as much for the vector leg (search.SEMANTIC_WEIGHT).
    assert hits[0]["score"] == pytest.approx(1.5 / 61, rel=1e-4)


def test_one_hit_per_decision_unless_asked(loaded):
    embed_all(loaded)
    default = _search(loaded, q="licenciement salarié", k=10).get_json()["hits"]
    ids = [h["decision_id"] for h in default]
    assert len(ids) == len(set(ids))
    more = _search(loaded, q="licenciement salarié", k=10, per_decision=3).get_json()["hits"]
    assert [h["decision_id"] for h in more].count("cass-soc") >= 2


@pytest.mark.parametrize("params,expected", [
    ({"jurisdiction": "cour d'appel"}, {"ca-lyon-bail", "ca-paris-secret"}),
    ({"jurisdiction": "Cour de cassation", "chamber": "sociale"}, {"cass-soc"}),
    ({"date_from": "2023-01-01", "date_to": "2023-12-31"}, {"tj-paris-retention"}),
    ({"solution": "confirme"}, {"ca-lyon-bail"}),
    ({"chamber": "retention"}, {"tj-paris-retention"}),
])
def test_filters_restrict_the_decisions(loaded, params, expected):
    embed_all(loaded)
    hits = _search(loaded, q="motifs", k=20, **params).get_json()["hits"]
    assert {h["decision_id"] for h in hits} == expected


def test_zone_filter_returns_only_that_zone(loaded):
    hits = _search(loaded, q="prolongation rétention", zone="dispositif").get_json()["hits"]
    assert hits and {h["zone"] for h in hits} == {"dispositif"}
    assert hits[0]["text"].startswith("PAR CES MOTIFS")


def test_private_decisions_reach_only_their_jurisdictions(make_app, fake_embeddings, write_jsonl):
    config = dict(EMBEDDINGS_BASE_URL=fake_embeddings.url, EMBEDDINGS_MODEL="fake-e5",
                  EMBED_IN_BACKGROUND=False)
    paris = make_app(**config)  # the dev user sits at the cour d'appel de Paris
    ingest(paris, [write_jsonl(CORPUS)])
    embed_all(paris)
    seen = {h["decision_id"] for h in _search(paris, q="secret du délibéré", k=10).get_json()["hits"]}
    assert "ca-paris-secret" in seen and "ca-rennes-secret" not in seen
    lyon = make_app(**config, DEV_USER={"id": "u2", "roles": ["Plume.Magistrat"],
                                        "jurisdictions": ["Cour d'appel de Lyon"]})
    seen = {h["decision_id"] for h in _search(lyon, q="secret du délibéré", k=10).get_json()["hits"]}
    assert not seen & {"ca-paris-secret", "ca-rennes-secret"}
    # Nothing hidden from a user of both courts: the query drops its visibility join.
    both = make_app(**config, DEV_USER={"id": "u3", "roles": ["Plume.Magistrat"], "jurisdictions": [
        "Cour d'appel de Paris", "Cour d'appel de Rennes"]})
    seen = {h["decision_id"] for h in _search(both, q="secret du délibéré", k=10).get_json()["hits"]}
    assert {"ca-paris-secret", "ca-rennes-secret"} <= seen


def test_a_selective_filter_still_fills_the_page_with_semantic_hits(search_app, write_jsonl,
                                                                     monkeypatch):
    """The vector leg goes on scanning until the filter has let enough passages through:
    a court holding one decision in six still gets k hits found by meaning, even when the
    scan would stop at the first ten neighbours."""
    monkeypatch.setattr(tuning, "EF_SEARCH", 10)
    session = tuning.session

    def through_the_index(conn):
        # A corpus this small is cheaper to compare exactly: take the index, as a large one does.
        session(conn)
        conn.execute("SET LOCAL enable_sort = off")

    monkeypatch.setattr(tuning, "session", through_the_index)
    paris = [decision(f"tj-paris-{i}", LICENCIEMENT.replace("salarié", f"salarié numéro {i}"),
                      jurisdiction="Tribunal judiciaire de Paris", number=f"22/{i:05d}")
             for i in range(60)]
    nimes = [decision(f"tj-nimes-{i}", BAIL.replace("preneur", f"preneur numéro {i}"),
                      jurisdiction="Tribunal judiciaire de Nîmes", number=f"23/{i:05d}")
             for i in range(12)]
    ingest(search_app, [write_jsonl(paris + nimes)])
    embed_all(search_app)
    with search_app.app_context():
        result = retrieval.search_detailed("licenciemnt fautes", user("x"), k=10,
                                           filters={"jurisdiction": "tribunal judiciaire de nimes"})
    assert len(result.hits) == 10
    assert {h["decision_id"][:8] for h in result.hits} == {"tj-nimes"}
    assert all(h["semantic_rank"] for h in result.hits)


def test_an_unreachable_embeddings_host_leaves_word_search_working(loaded, fake_embeddings):
    embed_all(loaded)
    fake_embeddings.fail = 503
    response = _search(loaded, q="indemnité d'éviction")
    assert response.status_code == 200
    body = response.get_json()
    assert body["hits"][0]["decision_id"] == "ca-lyon-bail"
    assert body["semantic"] is False
    assert "momentanément indisponible" in body["notice"]


@pytest.mark.parametrize("params,field,message", [
    ({}, "q", "Saisissez une question"),
    ({"q": "   "}, "q", "Saisissez une question"),
    ({"q": "bail", "k": "0"}, "k", "entre 1 et 50"),
    ({"q": "bail", "k": "dix"}, "k", "nombre entier"),
    ({"q": "bail", "date_from": "15/06/2021"}, "date_from", "AAAA-MM-JJ"),
    ({"q": "bail", "date_from": "2022-01-01", "date_to": "2021-01-01"}, "date_from", "postérieure"),
    ({"q": "bail", "zone": "préambule"}, "zone", "Zone inconnue"),
    ({"q": "bail", "per_decision": "9"}, "per_decision", "entre 1 et 5"),
])
def test_bad_requests_are_400_in_french_naming_the_field(loaded, params, field, message):
    response = _search(loaded, **params)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "requete_invalide" and body["field"] == field
    assert message in body["message"]


def test_search_needs_a_magistrate_or_clerk_role(make_app):
    app = make_app(DEV_USER={"id": "admin", "roles": ["Plume.Admin"], "jurisdictions": []})
    response = _search(app, q="bail")
    assert response.status_code == 403
    assert response.get_json()["error"] == "acces_refuse"


def test_each_search_is_recorded_without_its_query(loaded, database_url):
    _search(loaded, q="indemnité d'éviction")
    _search(loaded, q="bail", date_from="pas une date")
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT kind, task, outcome, error_code, source_ids FROM audit_interactions "
                            "ORDER BY started_at").fetchall()
        stored = str(conn.execute("SELECT * FROM audit_interactions").fetchall())
    assert rows[0][:4] == ("search", "search", "ok", None) and "ca-lyon-bail" in rows[0][4]
    assert rows[1][:4] == ("search", "search", "error", "requete_invalide")
    assert "éviction" not in stored


def test_changing_the_embedding_model_clears_vectors_for_recomputation(loaded, database_url):
    embed_all(loaded)
    from backend.retrieval.vectors import ensure_model, pending_count

    with loaded.app_context():
        assert pending_count() == 0
        assert ensure_model("un-autre-modele") is True
        assert pending_count() > 0
        assert ensure_model("un-autre-modele") is False
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT model FROM embedding_model").fetchone() == ("un-autre-modele",)


def test_accents_are_folded_both_ways_and_marks_point_at_the_original_words(search_app, write_jsonl):
    ingest(search_app, [write_jsonl([decision("sans-accents", LICENCIEMENT.replace("é", "e")),
                                     decision("bail", BAIL)])])
    body = _search(search_app, q="salarié licencié").get_json()
    assert [h["decision_id"] for h in body["hits"]] == ["sans-accents"]
    hit = body["hits"][0]
    assert {hit["text"][a:b] for a, b in hit["marks"]} == {"salarie", "licencie"}
    body = _search(search_app, q="eviction preneur").get_json()
    hit = body["hits"][0]
    assert hit["decision_id"] == "bail"
    assert {hit["text"][a:b] for a, b in hit["marks"]} >= {"éviction", "preneur"}


@pytest.mark.parametrize("q, expected", [
    ('"indemnité d\'éviction"', {"ca-lyon-bail"}),          # a phrase, stop word inside
    ('"éviction indemnité"', set()),                         # words in another order
    ("prolongation OU licenciement", {"tj-paris-retention", "cass-soc"}),
    ("procédure -licenciement", set()),
    ("procédure licenciement", {"cass-soc"}),
    ("de la le", set()),                                     # stop words only: nothing to match
])
def test_short_queries_understand_phrases_alternatives_and_exclusions(loaded, q, expected):
    body = _search(loaded, q=q).get_json()
    assert {h["decision_id"] for h in body["hits"]} == expected


def test_the_decision_whose_titrage_matches_comes_first(search_app, write_jsonl):
    """A titrage chain searched as keywords, ranked by BM25: the decision holding all the
    chain's notions comes before one repeating two of them many times, and every keyword
    is marked in it."""
    resolution = ("MOTIFS\nLe bailleur a fait délivrer au preneur à bail commercial un commandement "
                  "de payer visant la clause résolutoire ; faute de paiement dans le mois, le "
                  "bailleur en demande le bénéfice.\nPAR CES MOTIFS\nConstate la résiliation.")
    repetition = ("MOTIFS\nLe bail est signé. " + "La clause résolutoire est stipulée au contrat ; la clause "
                  "résolutoire doit être invoquée de bonne foi. " * 4
                  + "Un commandement a été délivré.\nPAR CES MOTIFS\nDit la clause résolutoire acquise.")
    ingest(search_app, [write_jsonl(
        [decision("resolution", resolution, number="21-00001"),
         decision("repetition", repetition, number="21-00002")]
        + [decision(f"autre-{n}", LICENCIEMENT, number=f"22-{n:05d}") for n in range(20)])])
    hits = _search(search_app, q="bail commercial – clause résolutoire – commandement de payer",
                   k=5).get_json()["hits"]
    assert [(h["decision_id"], h["lexical_rank"]) for h in hits[:2]] == [("resolution", 1),
                                                                         ("repetition", 2)]
    marked = {hits[0]["text"][a:b].lower() for a, b in hits[0]["marks"]}
    assert {"bail", "commercial", "clause", "résolutoire", "commandement", "payer"} <= marked


def test_a_decision_whose_headnote_names_the_subject_comes_first(search_app, write_jsonl):
    """The titrage and sommaire are searched as a field of their own: a decision whose
    headnote names the query's subject comes before decisions whose passages only mention
    it, and is found even when its reasons use other words."""
    titrage = ["SERVITUDE", "Servitude de passage", "Enclave", "Assiette du passage"]
    summary = "Le propriétaire d'un fonds enclavé peut réclamer un passage sur le fonds voisin."
    reasons = ("MOTIFS\nLe fonds des demandeurs n'a aucune issue sur la voie publique ; la cour "
               "fixe le chemin le plus court.\nPAR CES MOTIFS\nFixe le chemin.")
    mentions = ("MOTIFS\nLe vendeur déclare qu'aucune servitude ne grève le bien ; la servitude de "
                "vue alléguée n'est pas établie.\nPAR CES MOTIFS\nRejette la demande.")
    ingest(search_app, [write_jsonl(
        [decision("headnote", reasons, themes=titrage, summary=summary, number="21-00001")]
        + [decision(f"mention-{n}", mentions, number=f"22-{n:05d}") for n in range(5)]
        + [decision(f"autre-{n}", LICENCIEMENT, number=f"23-{n:05d}") for n in range(10)])])
    first = _search(search_app, q="servitude", k=3).get_json()["hits"][0]
    assert first["decision_id"] == "headnote"
    # Its passage holds no word of the query: shown by its first passage, nothing marked.
    assert first["lexical_rank"] is None and first["marks"] == []
    chain = _search(search_app, q="servitude – passage – enclave", k=3).get_json()["hits"]
    assert chain[0]["decision_id"] == "headnote"
    with search_app.app_context():   # without the headnote leg, the mentions come first
        tuning_weight = tuning.HEADNOTE_WEIGHT
        tuning.HEADNOTE_WEIGHT = 0.0
        try:
            alone = retrieval.search("servitude", user(), k=3)
        finally:
            tuning.HEADNOTE_WEIGHT = tuning_weight
    assert "headnote" not in [h["decision_id"] for h in alone]



def test_a_keyword_list_ranks_the_decision_that_holds_all_its_notions_across_passages(
        search_app, write_jsonl, monkeypatch):
    """A titrage chain names what a whole decision is about: the decision whose passages
    hold every notion of the chain between them comes before one whose passages each hold
    more of the chain's words but never all its notions (the « whole » leg, BM25 over each
    decision as one document); without that leg, the denser passages win."""
    filler = "Les parties ont été entendues en leurs explications à l'audience publique. " * 12
    spread = ("MOTIFS\nLe preneur à bail commercial invoque la clause résolutoire du bail "
              "commercial ; la clause résolutoire est claire. " + filler
              + "\nPAR CES MOTIFS\nLe commandement de payer étant resté vain, ordonne l'expulsion "
                "du preneur ; le commandement de payer vaut titre pour l'expulsion. " + filler)
    dense = ("MOTIFS\nLe bail commercial contient une clause résolutoire ; la clause résolutoire "
             "du bail commercial est claire. " * 2 + filler
             + "\nPAR CES MOTIFS\nLa clause résolutoire du bail commercial est examinée. " * 2
             + filler)
    ingest(search_app, [write_jsonl(
        [decision("spread", spread, number="21-00001"), decision("dense", dense, number="21-00002")]
        + [decision(f"autre-{n}", LICENCIEMENT, number=f"22-{n:05d}") for n in range(20)])])
    chain = "bail commercial – clause résolutoire – commandement de payer – expulsion"

    def first(weight: float) -> str:
        monkeypatch.setattr(tuning, "DECISION_WEIGHT", weight)
        with search_app.app_context():
            return retrieval.search(chain, user(), k=3)[0]["decision_id"]

    assert first(tuning.DECISION_WEIGHT) == "spread"
    assert first(0.0) == "dense"


def test_a_keyword_list_word_counts_in_the_other_forms_the_decisions_hold(search_app, write_jsonl,
                                                                         monkeypatch):
    """French stemming of accent-folded words leaves « étranger » (``etrang``) and
    « étrangers » (``etranger``) apart: a keyword list's « étranger » also counts the plural
    a decision holds, so that decision comes before one repeating the chain's other words
    more often; without the other forms, the repetitions win."""
    filler = "Les parties ont été entendues en leurs explications à l'audience publique. " * 6
    plural = ("MOTIFS\nLe préfet demande la prolongation de la rétention administrative ; le "
              "registre des étrangers est produit. " + filler
              + "\nPAR CES MOTIFS\nOrdonne la prolongation.")
    repeated = ("MOTIFS\nLa prolongation de la rétention administrative est demandée ; la rétention "
                "administrative a été notifiée, la prolongation est justifiée. " + filler
                + "\nPAR CES MOTIFS\nOrdonne la prolongation de la rétention administrative.")
    ingest(search_app, [write_jsonl(
        [decision("pluriel", plural, number="21-00001"), decision("repetee", repeated, number="21-00002")]
        + [decision(f"autre-{n}", LICENCIEMENT, number=f"22-{n:05d}") for n in range(20)])])
    chain = "étranger – rétention administrative – prolongation"

    def first(chars: int) -> dict:
        monkeypatch.setattr(tuning, "INFLECTION_CHARS", chars)
        with search_app.app_context():
            return retrieval.search(chain, user(), k=3)[0]

    hit = first(tuning.INFLECTION_CHARS)
    assert hit["decision_id"] == "pluriel"
    assert "étrangers" in {hit["text"][a:b] for a, b in hit["marks"]}   # the form that counted
    assert first(0)["decision_id"] == "repetee"
