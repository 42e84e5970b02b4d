"""Grounded drafting: sources from the case-law index go to the model fenced, come back checked."""
from __future__ import annotations

import json

from tests.fakes.embeddings import FakeEmbeddings
from tests.llm.conftest import events, text_of
from tests.retrieval.conftest import decision, embed_all, ingest

REASONS = ("La cour d'appel a exactement retenu que le licenciement reposait sur une faute grave, "
           "rendant impossible le maintien du salarié dans l'entreprise.")


def test_a_draft_cites_numbered_sources_and_its_citations_are_checked(llm_app, fake_llm, tmp_path):
    with FakeEmbeddings() as embeddings:
        app = llm_app(EMBEDDINGS_BASE_URL=embeddings.url, EMBEDDINGS_MODEL="fake-e5",
                      EMBED_IN_BACKGROUND=False)
        corpus = tmp_path / "decisions.jsonl"
        corpus.write_text(json.dumps(decision("d-1", REASONS), ensure_ascii=False) + "\n", encoding="utf-8")
        ingest(app, [corpus])
        embed_all(app)
        fake_llm.reply = lambda body: ("Le licenciement « reposait sur une faute grave » [1]. "
                                       "Voir aussi [7].")

        parsed = events(app.test_client().post("/api/v1/assist/draft", json={
            "instructions": "Motiver le licenciement pour faute grave du salarié.",
            "text": "Le salarié conteste son licenciement pour faute grave."}))

    names = [n for n, _ in parsed]
    assert names[-2:] == ["sources", "done"] and set(names[:-2]) == {"delta"}
    assert text_of(parsed).startswith("Le licenciement « reposait sur une faute grave » [1].")
    sources = dict(parsed)["sources"]
    assert sources["sources"][0]["n"] == 1 and "faute grave" in sources["sources"][0]["text"]
    assert [(f["kind"], f["ref"]) for f in sources["flags"]] == [("unknown_source", 7)]
    user = fake_llm.chat_requests()[-1].json["messages"][1]["content"]
    assert "source [1]" in user and REASONS in user
    assert user.index("Motiver le licenciement") < user.index("<<<DONNEES")  # instructions outside


def test_without_sources_a_draft_is_told_not_to_cite(llm_client, fake_llm):
    parsed = events(llm_client.post("/api/v1/assist/draft", json={"instructions": "Rédige l'exposé du litige."}))

    assert [n for n, _ in parsed][-1] == "done" and "sources" not in dict(parsed)
    user = fake_llm.chat_requests()[-1].json["messages"][1]["content"]
    assert "aucune source fournie : ne cite aucune jurisprudence" in user
