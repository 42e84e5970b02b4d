"""Documents longer than the model's window: map in bounded parallel, reduce, « § N » kept."""
from __future__ import annotations

import re

from tests.fakes.upstream import Behaviour
from tests.llm.conftest import events, text_of

PARAGRAPHS = 24
LONG_TEXT = "\n\n".join(
    f"Paragraphe {n}. " + "Le tribunal examine les moyens soulevés par les parties au litige. " * 6
    for n in range(1, PARAGRAPHS + 1))
SMALL_WINDOW = {"LLM_CONTEXT_TOKENS": 2048, "LLM_MAX_OUTPUT_TOKENS": 200, "LLM_MAP_CONCURRENCY": 2}


def _refs(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"§ (\d+)", text)}


def _echo_refs(body: dict) -> str:
    """A model that cites every paragraph it was shown (map) or every reference (reduce)."""
    system, user = (m["content"] for m in body["messages"])
    fenced = user[user.index("<<<DONNEES"):]
    if "résumer une partie" in system:
        return "Point résumé " + " ".join(f"(§ {n})" for n in sorted(_refs(fenced)))
    return "Synthèse : " + " ".join(f"(§ {n})" for n in sorted(_refs(fenced)))


def test_a_long_document_is_summarised_part_by_part(llm_app, fake_llm):
    client = llm_app(**SMALL_WINDOW).test_client()
    fake_llm.reply = _echo_refs
    fake_llm.token_delay = 0.02

    parsed = events(client.post("/api/v1/assist/summarize", json={"text": LONG_TEXT}))

    requests = fake_llm.chat_requests()
    maps = [r for r in requests if "résumer une partie" in r.json["messages"][0]["content"]]
    reduces = [r for r in requests if "en tirer un seul résumé" in r.json["messages"][0]["content"]]
    assert len(maps) >= 3 and len(reduces) == 1
    # Every paragraph is read exactly once, numbered « [§ N] ».
    seen = [n for r in maps for n in _refs(r.json["messages"][1]["content"])]
    assert sorted(seen) == list(range(1, PARAGRAPHS + 1))
    assert fake_llm.max_active == 2  # bounded parallel map
    # The reduce sees every reference, and the final summary keeps them.
    assert _refs(reduces[0].json["messages"][1]["content"]) == set(range(1, PARAGRAPHS + 1))
    assert _refs(text_of(parsed)) == set(range(1, PARAGRAPHS + 1))
    names = [n for n, _ in parsed]
    assert names[0] == "progress" and names[-1] == "done"
    progress = [d for n, d in parsed if n == "progress"]
    assert progress[0]["done"] == 0 and progress[-1]["done"] == progress[-1]["total"] == len(maps)
    assert parsed[-1][1]["usage"]["calls"] == len(maps) + 1


def test_a_failing_part_ends_the_stream_with_a_french_error(llm_app, fake_llm):
    client = llm_app(**SMALL_WINDOW, LLM_RETRIES=0).test_client()
    fake_llm.when(lambda body: "partie 2 sur" in body["messages"][1]["content"], Behaviour(status=500))

    parsed = events(client.post("/api/v1/assist/summarize", json={"text": LONG_TEXT}))

    assert parsed[0][0] == "progress"
    assert parsed[-1][0] == "error" and parsed[-1][1]["error"] == "amont_indisponible"


def test_page_markers_of_an_attachment_are_kept_in_the_parts(llm_app, fake_llm):
    client = llm_app(**SMALL_WINDOW).test_client()
    pages = "\n".join(f"[p. {n}]\n[§ {n}] " + "Texte de la pièce jointe, page par page. " * 20
                      for n in range(1, 13))

    parsed = events(client.post("/api/v1/assist/attachment-summary",
                                json={"text": pages, "filename": "conclusions.pdf"}))

    assert parsed[-1][0] == "done"
    maps = [r.json["messages"][1]["content"] for r in fake_llm.chat_requests()
            if "résumer une partie" in r.json["messages"][0]["content"]]
    assert len(maps) > 1
    assert sorted(int(p) for m in maps for p in re.findall(r"\[p\. (\d+)\]", m)) == list(range(1, 13))


def test_a_text_too_long_for_a_single_call_task_is_refused_before_the_stream(llm_app, fake_llm):
    client = llm_app(**SMALL_WINDOW).test_client()

    response = client.post("/api/v1/assist/rewrite", json={"text": LONG_TEXT})

    assert response.status_code == 413
    assert response.json["error"] == "texte_trop_long"
    assert "Raccourcissez" in response.json["message"]
    assert fake_llm.requests == []
