"""Search by meaning with the real embedding model (multilingual-e5-small, in-process).

The other search tests use a fake embeddings host whose vectors only share the first
letters of words; these show that a question worded with none of a decision's words finds
it through the real model. Kept small: the model embeds about two passages a second.
"""
from __future__ import annotations

import pytest

from .conftest import decision, embed_all, ingest
from .test_search import BAIL, LICENCIEMENT, RETENTION, _search


@pytest.fixture(scope="module")
def paraphrases() -> list[tuple[str, str]]:
    # (question sharing no word stem with the decision's text, the decision it means)
    return [
        ("renvoi d'un employé pour comportement fautif", "cass-soc"),
        ("fin de location d'un magasin et somme versée au locataire qui doit partir", "ca-lyon-bail"),
        ("le représentant de l'État demande de garder plus longtemps l'immigré en attendant son "
         "départ forcé", "tj-paris-retention"),
    ]


def test_a_question_in_other_words_finds_the_decision_it_means(make_app, write_jsonl, paraphrases):
    app = make_app(EMBED_IN_BACKGROUND=False)   # no embeddings host: the model in-process
    ingest(app, [write_jsonl([
        decision("cass-soc", LICENCIEMENT),
        decision("ca-lyon-bail", BAIL, jurisdiction="Cour d'appel de Lyon", number="20/01234"),
        decision("tj-paris-retention", RETENTION, jurisdiction="Tribunal judiciaire de Paris",
                 number="23/04567"),
    ])])
    assert embed_all(app) == 6
    for question, expected in paraphrases:
        body = _search(app, q=question).get_json()
        assert body["semantic"] is True, body["notice"]
        top = body["hits"][0]
        assert (top["decision_id"], top["lexical_rank"], top["semantic_rank"]) == (expected, None, 1), question
