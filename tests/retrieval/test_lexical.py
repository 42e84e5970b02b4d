"""A long query (a pasted selection) searches its most telling words, not all of them."""
from __future__ import annotations

import psycopg

from backend.retrieval import lexical
from backend.retrieval.search import facets, forget_facets

from .conftest import decision, ingest
from .test_search import CORPUS, _search

SELECTION = ("Attendu que la cour rappelle que le preneur à bail commercial peut prétendre au "
             "paiement d'une indemnité d'éviction lorsque le bailleur refuse le renouvellement")


def test_short_queries_keep_every_word_whatever_the_statistics():
    text, stems = lexical.query("faute grave licenciement", {"faut": 0.9, "grav": 0.9})
    assert stems == {"faut", "grav", "licenci"}
    assert text.count("&") == 2


def test_a_long_query_keeps_its_rarest_words_and_leaves_out_common_ones():
    shares = {lexical.lexeme("cour"): 0.6, lexical.lexeme("rappelle"): 0.3,
              lexical.lexeme("paiement"): 0.05}
    _, stems = lexical.query(SELECTION, shares)
    assert lexical.lexeme("cour") not in stems and lexical.lexeme("rappelle") not in stems
    assert {lexical.lexeme("paiement"), lexical.lexeme("éviction"), lexical.lexeme("preneur")} <= stems


def test_a_long_query_keeps_at_most_the_configured_number_of_words():
    words = " ".join(f"terme{chr(97 + i)}{chr(97 + j)}" for i in range(6) for j in range(6))
    shares = {lexical.lexeme(w): 0.001 * n for n, w in enumerate(words.split())}
    _, stems = lexical.query(words, shares)
    assert len(stems) == lexical.LONG_QUERY_TERMS
    # The rarest ones: the first words, whose share is smallest.
    assert lexical.lexeme(words.split()[0]) in stems and lexical.lexeme(words.split()[-1]) not in stems


def test_initials_left_by_pseudonymisation_are_not_telling():
    text = "Monsieur [K] [V] et Madame [X] ont assigné la société devant le tribunal de commerce"
    _, stems = lexical.query(text, {lexical.lexeme("commerce"): 0.05})
    assert not {"k", "v", "x"} & stems
    assert lexical.lexeme("assigné") in stems


def test_a_selection_of_only_common_words_still_searches_the_least_common_three():
    text = "la cour le tribunal la demande le jugement les parties"
    shares = {lexical.lexeme(w): share for w, share in
              (("cour", 0.5), ("tribunal", 0.4), ("demande", 0.6), ("jugement", 0.3), ("parties", 0.2))}
    _, stems = lexical.query(text, shares)
    assert stems == {lexical.lexeme("parties"), lexical.lexeme("jugement"), lexical.lexeme("tribunal")}


def test_without_statistics_a_long_query_keeps_every_word():
    _, stems = lexical.query(SELECTION, {})
    assert lexical.lexeme("cour") in stems and len(stems) > lexical.LONG_QUERY_TERMS - 4


def test_marks_find_every_occurrence_of_the_matched_words():
    text = "Le bail commercial, les baux commerciaux ; BAIL renouvelé. Bailleur."
    spans = lexical.marks(text, frozenset({lexical.lexeme("bail")}))
    assert [text[a:b] for a, b in spans] == ["bail", "BAIL"]


def test_search_reads_word_statistics_and_leaves_common_words_out_of_a_selection(
        search_app, write_jsonl, database_url):
    # Every passage says « cour »: once the table is analysed, a selection does not search it.
    corpus = [dict(d, text=d["text"].replace("MOTIFS\n", "MOTIFS\nLa cour statue. ")) for d in CORPUS]
    corpus += [decision(f"autre-{n}", "MOTIFS\nLa cour statue sur la demande de renvoi. " * 3
                        + "\nPAR CES MOTIFS\nRenvoie l'affaire.", number=f"22/{n:05d}")
               for n in range(8)]
    ingest(search_app, [write_jsonl(corpus)])
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ANALYZE passages")
    with search_app.app_context():
        forget_facets()
        shares = facets().term_shares
    assert shares.get(lexical.lexeme("cour"), 0) > lexical.COMMON_SHARE

    response = _search(search_app, q=SELECTION)
    assert response.status_code == 200
    top = response.get_json()["hits"][0]
    assert top["decision_id"] == "ca-lyon-bail"
    marked = {top["text"][a:b].lower() for a, b in top["marks"]}
    assert "éviction" in marked and "cour" not in marked


def test_a_large_ingestion_leaves_the_word_statistics_searches_read(search_app, write_jsonl,
                                                                     monkeypatch):
    from backend.retrieval import ingest as ingest_module

    monkeypatch.setattr(ingest_module, "ANALYZE_AFTER", 10)   # "large": this corpus's 10+ passages
    ingest(search_app, [write_jsonl(CORPUS)])
    with search_app.app_context():
        forget_facets()
        shares = facets().term_shares
    assert shares[lexical.lexeme("motifs")] > 0.5
