"""A long query (a pasted selection) searches its most telling words, not all of them."""
from __future__ import annotations

import importlib

import psycopg
import pytest

from backend.retrieval import lexical
from backend.retrieval.records import from_json, prepare

from .conftest import decision, embed_all, ingest, user
from .test_search import CORPUS, _search

SELECTION = ("Attendu que la cour rappelle que le preneur à bail commercial peut prétendre au "
             "paiement d'une indemnité d'éviction lorsque le bailleur refuse le renouvellement")
# Decisions about something else, so that the words of CORPUS are rare, as in a real corpus.
FILLERS = [decision(f"autre-{n}", "MOTIFS\nLa cour statue sur la demande de renvoi. " * 3
                    + "\nPAR CES MOTIFS\nRenvoie l'affaire.", number=f"22/{n:05d}")
           for n in range(8)]


@pytest.fixture
def conn(database_url):
    """A connection to the migrated database: PostgreSQL analyses the words."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


def lexeme(conn, word: str) -> str:
    (found,) = lexical.stems(conn, word)
    return found


def build(conn, text: str, shares):
    return lexical.query(lexical.analyse_query(conn, text), text, shares)


def test_short_queries_keep_every_word_whatever_the_statistics(conn):
    text, stems = build(conn, "faute grave licenciement", {"faut": 0.9, "grav": 0.9})
    assert stems == {"faut", "grav", "licenci"}
    assert text.count("&") == 2


def test_the_web_search_syntax_is_kept_and_its_words_analysed_by_postgresql(conn):
    text, stems = build(conn, '«clause résolutoire» OU résiliation -expulsion', None)
    assert text == "( ( 'claus' <-> 'resolutoir' ) | 'resili' ) & !'expuls'"
    assert stems == {"claus", "resolutoir", "resili"}      # the excluded word is not marked
    matches = "SELECT to_tsvector(%s, %s) @@ %s::tsquery"
    assert conn.execute(matches, (lexical.CONFIG, "La CLAUSE RÉSOLUTOIRE du bail", text)).fetchone()[0]
    assert not conn.execute(matches, (lexical.CONFIG, "clause résolutoire, expulsion", text)).fetchone()[0]
    assert build(conn, "de la du", None) == (None, frozenset())


def test_accents_case_and_stop_words_are_those_of_the_stored_vectors(conn):
    # Stop words go before accents are folded: « à », « été » and « même » are stop words.
    assert lexical.stems(conn, "À l'été même, RÉFÉRÉ référé Refere") == {"refer"}
    assert lexical.stems(conn, "Cœur ŒUVRE") == {"coeur", "oeuvr"}


def shares_of(conn, text: str, **given: float) -> dict[str, float]:
    """A share of passages for every lexeme of ``text``: 5 %, or the one given for a word."""
    shares = dict.fromkeys(lexical.stems(conn, text), 0.05)
    shares.update({lexeme(conn, word): share for word, share in given.items()})
    return shares


def test_a_long_query_keeps_its_rarest_words_and_leaves_out_common_ones(conn):
    shares = shares_of(conn, SELECTION, cour=0.6, rappelle=0.3, paiement=0.001, éviction=0.002,
                       preneur=0.003)
    _, stems = build(conn, SELECTION, shares)
    assert lexeme(conn, "cour") not in stems and lexeme(conn, "rappelle") not in stems
    assert {lexeme(conn, "paiement"), lexeme(conn, "éviction"), lexeme(conn, "preneur")} <= stems


def test_a_long_query_asks_for_two_of_its_telling_words_together(conn):
    text, stems = build(conn, SELECTION, shares_of(conn, SELECTION))
    assert len(stems) == lexical.LONG_QUERY_TERMS
    pairs = [part.strip(" ()").split(" & ") for part in text.split(" | ")]
    assert len(pairs) == len(stems) * (len(stems) - 1) // 2
    assert {frozenset(p) for p in pairs} == {frozenset((f"'{a}'", f"'{b}'")) for a in stems
                                            for b in stems if a < b}
    assert lexical.any_of(stems) == " | ".join(f"'{s}'" for s in sorted(stems))


def test_a_long_query_keeps_at_most_the_configured_number_of_words(conn):
    words = " ".join(f"terme{chr(97 + i)}{chr(97 + j)}" for i in range(6) for j in range(6))
    shares = {lexeme(conn, w): 0.001 * n for n, w in enumerate(words.split())}
    _, stems = build(conn, words, shares)
    assert len(stems) == lexical.LONG_QUERY_TERMS
    # The rarest ones: the first words, whose share is smallest.
    assert lexeme(conn, words.split()[0]) in stems and lexeme(conn, words.split()[-1]) not in stems


def test_initials_left_by_pseudonymisation_are_not_telling(conn):
    text = "Monsieur [K] [V] et Madame [X] ont assigné la société devant le tribunal de commerce"
    _, stems = build(conn, text, {lexeme(conn, "commerce"): 0.05})
    assert not {"k", "v", "x"} & stems
    assert lexeme(conn, "assigné") in stems


def test_a_selection_of_only_common_words_still_searches_the_least_common_three(conn):
    text = "la cour le tribunal la demande le jugement les parties"
    shares = {lexeme(conn, w): share for w, share in
              (("cour", 0.5), ("tribunal", 0.4), ("demande", 0.6), ("jugement", 0.3), ("parties", 0.2))}
    _, stems = build(conn, text, shares)
    assert stems == {lexeme(conn, "parties"), lexeme(conn, "jugement"), lexeme(conn, "tribunal")}


def test_without_counts_a_long_query_matches_any_of_its_words(conn):
    text, stems = build(conn, SELECTION, {})
    assert stems == lexical.stems(conn, SELECTION) and lexeme(conn, "cour") in stems
    assert text == lexical.any_of(stems)


def test_words_no_passage_holds_come_after_the_rare_words_passages_hold(conn):
    # « Dupont » (a name in the user's draft) is in no passage: it is not counted.
    text = "Monsieur Dupont sollicite une indemnité d'éviction du bail commercial renouvelé"
    shares = shares_of(conn, text, indemnité=0.02, éviction=0.001, bail=0.01, commercial=0.03,
                       renouvelé=0.004, sollicite=0.05, monsieur=0.2)
    del shares[lexeme(conn, "Dupont")]
    every = lexical.stems(conn, text)
    assert lexical.telling(every, shares) == sorted(
        lexeme(conn, w) for w in ("éviction", "renouvelé", "bail", "indemnité"))
    shares.update({lexeme(conn, w): 0.5 for w in ("indemnité", "commercial", "sollicite")})
    assert lexical.telling(every, shares) == sorted(
        lexeme(conn, w) for w in ("éviction", "renouvelé", "bail", "Dupont"))


def test_marks_find_every_occurrence_of_the_matched_words_as_postgresql_analyses_them(conn):
    text = "Le bail commercial, les baux commerciaux ; BAIL renouvelé. Bailleur.\nRéféré, refere."
    headline = conn.execute("SELECT ts_headline(%s, %s, %s::tsquery, %s)",
                            (lexical.CONFIG, text, lexical.any_of(frozenset({"bail", "refer"})),
                             lexical.HEADLINE_OPTIONS)).fetchone()[0]
    spans = lexical.marks_from_headline(text, headline)
    assert [text[a:b] for a, b in spans] == ["bail", "BAIL", "Référé", "refere"]
    assert lexical.marks_from_headline(text + lexical.START_MARK, headline) == []


def test_search_reads_the_lexeme_counts_and_leaves_common_words_out_of_a_selection(
        search_app, write_jsonl, database_url):
    # Every passage says « cour »: a selection does not search it. Nor does it search first
    # the words no passage holds (« prétendre », « paiement »…), which would crowd out
    # the telling ones.
    corpus = [dict(d, text=d["text"].replace("MOTIFS\n", "MOTIFS\nLa cour statue. ")) for d in CORPUS]
    ingest(search_app, [write_jsonl(corpus + FILLERS)])

    response = _search(search_app, q=SELECTION)
    assert response.status_code == 200
    top = response.get_json()["hits"][0]
    assert top["decision_id"] == "ca-lyon-bail"
    marked = {top["text"][a:b].lower() for a, b in top["marks"]}
    assert {"bail", "commercial"} <= marked and "cour" not in marked


def test_ingestion_counts_the_passages_of_each_lexeme(search_app, write_jsonl, database_url):
    ingest(search_app, [write_jsonl(CORPUS + FILLERS)])
    with psycopg.connect(database_url) as conn:
        counts = dict(conn.execute("SELECT lexeme, passages FROM lexeme_counts").fetchall())
        truth = conn.execute("SELECT count(*) FROM passages WHERE tsv @@ 'evict'::tsquery").fetchone()[0]
        total = conn.execute("SELECT passages, decisions FROM lexeme_counts_total").fetchall()
        decisions = conn.execute("SELECT count(*) FROM decisions").fetchone()[0]
    assert counts["evict"] == truth == 2
    # The decisions too, for the average decision's length a keyword list's BM25 reads.
    assert counts["motif"] == 26 and total == [(26, decisions)] and decisions > 1


def test_a_small_ingestion_into_a_large_corpus_leaves_the_counts_to_the_next_large_one(
        search_app, write_jsonl, database_url, monkeypatch):
    from backend.retrieval import ingest as ingest_module

    ingest(search_app, [write_jsonl(FILLERS, "fillers.jsonl")])
    monkeypatch.setattr(ingest_module, "REFRESH_SHARE", 0.9)   # "large": 90 % of the corpus
    ingest(search_app, [write_jsonl(CORPUS)])
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM lexeme_counts WHERE lexeme = 'evict'").fetchone()[0] == 0
    with search_app.app_context():
        assert ingest_module.refresh_lexeme_counts() is True
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT passages FROM lexeme_counts WHERE lexeme = 'evict'").fetchone()[0] == 2


def test_counts_follow_replaced_and_withdrawn_decisions_as_a_recount_would(
        search_app, write_jsonl, database_url, monkeypatch):
    """The counts are kept by changes (each batch's passages added, a replaced or withdrawn
    decision's taken away), never by reading the whole corpus again: after a change and a
    withdrawal they are what counting every passage gives."""
    from backend.retrieval import ingest as ingest_module
    from backend.retrieval.judilibre import SOURCE_PREFIX

    withdrawn = decision(SOURCE_PREFIX + "retire", "MOTIFS\nLa cour ordonne une astreinte. " * 3
                         + "\nPAR CES MOTIFS\nOrdonne l'astreinte.", number="22/99999")
    ingest(search_app, [write_jsonl(CORPUS + FILLERS + [withdrawn])])
    monkeypatch.setattr(ingest_module, "REFRESH_AFTER", 0)
    changed = dict(FILLERS[0], text=FILLERS[0]["text"].replace("demande de renvoi", "péremption"))
    ingest(search_app, [write_jsonl([changed], "changed.jsonl")])
    report = ingest_module.IngestReport()
    with search_app.app_context():
        ingest_module.apply_histories(
            [("h.json", {"transactions": [{"id": "retire", "action": "deleted", "date": "2024-01-02"}]})],
            report)
    assert report.removed == 1

    with psycopg.connect(database_url) as conn:
        counts = dict(conn.execute("SELECT lexeme, passages FROM lexeme_counts").fetchall())
        truth = dict(conn.execute("SELECT word, ndoc FROM ts_stat('SELECT tsv FROM passages')").fetchall())
        left = conn.execute("SELECT count(*) FROM lexeme_count_changes").fetchone()[0]
        total = conn.execute("SELECT passages FROM lexeme_counts_total").fetchone()[0]
        passages = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
        (astreinte,), (peremption,), (demande,) = (lexical.stems(conn, word) for word in
                                                   ("astreinte", "péremption", "demande"))
    assert counts == truth and left == 0 and total == passages
    assert astreinte not in counts and counts[peremption] == 1 and counts[demande] == len(FILLERS) - 1


def test_small_ingestions_add_up_to_a_recount(search_app, write_jsonl, database_url, monkeypatch):
    """Each small ingestion alone is below the threshold; the passages added since the last
    count are not, and the counts are redone."""
    from backend.retrieval import ingest as ingest_module

    ingest(search_app, [write_jsonl(FILLERS, "fillers.jsonl")])
    monkeypatch.setattr(ingest_module, "REFRESH_SHARE", 0.9)
    ingest(search_app, [write_jsonl(CORPUS[:-1], "premier.jsonl")])

    def counts():
        with psycopg.connect(database_url) as conn:
            return (conn.execute("SELECT count(*) FROM passages").fetchone()[0],
                    conn.execute("SELECT passages FROM lexeme_counts_total").fetchone()[0])

    total, counted = counts()
    last = prepare(from_json(CORPUS[-1], "test"))
    assert total - counted > len(last.passages)   # the last decision alone is below the threshold
    monkeypatch.setattr(ingest_module, "REFRESH_AFTER", total - counted + 1)
    ingest(search_app, [write_jsonl(CORPUS[-1:], "second.jsonl")])
    total, counted = counts()
    assert counted == total


def test_common_words_are_looked_for_among_the_vector_candidates(search_app, write_jsonl,
                                                                 monkeypatch):
    import numpy as np

    search = importlib.import_module("backend.retrieval.search")
    tuning = importlib.import_module("backend.retrieval.tuning")
    # The decisions say « la cour statue », as the fillers do.
    ingest(search_app, [write_jsonl([dict(d, text=d["text"].replace("MOTIFS\n", "MOTIFS\nLa cour statue. "))
                                     for d in CORPUS])])
    embed_all(search_app)
    ingest(search_app, [write_jsonl(FILLERS, "fillers.jsonl")])   # no vectors: never candidates
    vector = np.full(384, 384 ** -0.5, dtype=np.float32)

    def lexical_hits() -> set[str]:
        with search_app.app_context():
            hits = search.run("cour statue", user(), k=20, vector=vector).hits
        return {h["decision_id"] for h in hits if h["lexical_rank"]}

    # Few matches: every passage holding the words is ranked, fillers included.
    assert any(d.startswith("autre-") for d in lexical_hits())
    # « Many » matches (no threshold): only the vector leg's candidates are looked at.
    monkeypatch.setattr(tuning, "MANY_MATCHES", 0)
    found = lexical_hits()
    assert found and not any(d.startswith("autre-") for d in found)
    # Without vectors the words are still searched, through the full-text index.
    with search_app.app_context():
        words_only = search.run("cour statue", user(), k=10)
    assert words_only.hits and all(h["lexical_rank"] for h in words_only.hits)


def test_a_selection_is_ranked_by_all_its_words_not_only_the_telling_ones(search_app, write_jsonl):
    # A labour-law corpus: « licenciement », « faute » and « grave » are in many passages, so
    # the telling words are the rarer « contestation » and « motiver », which a commercial
    # decision holds more often than the dismissal one. All the selection's words rank the
    # decision about the dismissal first.
    dismissal = ("MOTIFS\nLe salarié conteste son licenciement pour faute grave ; la faute grave "
                 "est établie et il convient de motiver la décision sur ce licenciement. "
                 + "\nPAR CES MOTIFS\nRejette la demande.")
    others = ("MOTIFS\nLe licenciement pour faute grave du salarié est confirmé. " * 2
              + "\nPAR CES MOTIFS\nConfirme.")
    commercial = ("MOTIFS\nLa contestation de la compétence consulaire oblige à motiver ; la "
                  "contestation est motivée, il faut motiver la contestation. " * 2
                  + "\nPAR CES MOTIFS\nDéclare compétent.")
    corpus = ([decision("licenciement", dismissal)]
              + [decision(f"faute-{n}", others, number=f"21-{n:05d}") for n in range(6)]
              + [decision("commercial", commercial, chamber="Chambre commerciale")]
              + [dict(f, id=f"{f['id']}-{n}") for n in range(3) for f in FILLERS])
    ingest(search_app, [write_jsonl(corpus)])
    text = "Motiver le rejet de la contestation du licenciement pour faute grave"
    with search_app.app_context():
        hits = importlib.import_module("backend.retrieval.search").run(text, user(), k=3).hits
    assert hits[0]["decision_id"] == "licenciement"
    assert "commercial" in {h["decision_id"] for h in hits}   # it matched, and comes after
