"""Grounded drafting: numbered sources, and the check of [n] references and quotations."""
from __future__ import annotations

from backend import retrieval

from .conftest import decision, embed_all, ingest, user

SOURCES = [
    {"n": 1, "text": "Le juge consulaire ne peut dès lors être considéré comme seul compétent "
                     "dans un litige opposant un demandeur non-commerçant à un défendeur commerçant."},
    {"n": 2, "text": "La cour d’appel a exactement retenu que le licenciement reposait sur une "
                     "faute grave,   rendant impossible le maintien du salarié dans l'entreprise."},
]


def check(text: str):
    return retrieval.check_citations(text, SOURCES)


def test_a_faithful_draft_raises_no_flag():
    text = ("Le demandeur non commerçant conserve le choix de sa juridiction [1]. La Cour a jugé "
            "que le licenciement « reposait sur une faute grave, rendant impossible le maintien "
            "du salarié dans l’entreprise » [2], et le juge consulaire n'est pas « seul compétent » [1].")
    assert check(text) == []


def test_a_reference_to_no_given_source_is_flagged_once():
    flags = check("Voir en ce sens [3], et aussi [1, 3] ainsi que [4-5].")
    assert [(f["kind"], f["ref"]) for f in flags] == [
        ("unknown_source", 3), ("unknown_source", 4), ("unknown_source", 5)]
    assert flags[0]["message"] == "La référence [3] ne correspond à aucune des 2 sources fournies."


def test_a_quotation_absent_from_its_cited_source_is_flagged():
    flags = check("Le licenciement « reposait sur une faute lourde » [2].")
    assert flags == [{"kind": "quote_not_found", "ref": 2, "quote": "reposait sur une faute lourde",
                      "message": "La citation « reposait sur une faute lourde » ne figure pas mot "
                                 "pour mot dans la source [2]."}]


def test_a_quotation_found_in_another_source_than_the_cited_one_is_flagged():
    flags = check('Le juge n\'est pas "seul compétent" [2].')
    assert [(f["kind"], f["ref"], f["quote"]) for f in flags] == [("quote_not_found", 2, "seul compétent")]


def test_an_uncited_quotation_must_appear_in_some_source():
    assert check("Il est « seul compétent » en la matière.") == []
    flags = check("Il s'agit d'une « faute inexcusable ».")
    assert flags[0]["ref"] is None
    assert "dans aucune des sources fournies" in flags[0]["message"]


def test_elisions_quotes_and_spaces_are_normalised():
    text = ("La cour a retenu que le licenciement « reposait sur une faute grave […] dans "
            "l'entreprise » [2] ; « La cour d'appel a exactement retenu » [2].")
    assert check(text) == []
    flags = check("« rendant impossible […] reposait sur » [2]")  # parts out of order
    assert [f["kind"] for f in flags] == ["quote_not_found"]


def test_grounding_sources_are_numbered_passages_with_their_citation(search_app, write_jsonl):
    reasons = ("Attendu que le salarié a été licencié pour faute grave ; que la cour d'appel a "
               "exactement retenu que son maintien dans l'entreprise était impossible. ") * 4
    ingest(search_app, [write_jsonl([
        decision("cass-1", "MOTIFS\n" + reasons + "\nPAR CES MOTIFS\nRejette le pourvoi.",
                 number="21-12.345", date="2022-03-09"),
        decision("ca-1", "MOTIFS\nLe bail commercial est renouvelé. " * 20, jurisdiction="Cour d'appel de Lyon",
                 number="20/01234", date="2021-06-15"),
    ])])
    embed_all(search_app)
    with search_app.app_context():
        sources = retrieval.grounding_sources("licenciement pour faute grave", user("x"), k=3)
    assert [s["n"] for s in sources] == list(range(1, len(sources) + 1))
    first = sources[0]
    assert set(first) == {"n", "passage_id", "decision_id", "citation", "zone", "date",
                          "jurisdiction", "text"}
    assert (first["decision_id"], first["citation"], first["date"]) == (
        "cass-1", "Cass. soc., 9 mars 2022, n° 21-12.345", "2022-03-09")
    assert "faute grave" in first["text"]
    quoted = f"Le salarié a été « licencié pour faute grave » [{first['n']}]."
    assert retrieval.check_citations(quoted, sources) == []
