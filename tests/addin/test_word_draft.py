"""Rédiger: a section grounded in ingested precedents, numbered sources in the pane, flagged
citations visible, and the sources listed in the comment of the inserted text."""
from __future__ import annotations

from .conftest import word_calls, word_state, open_tab

REPLY = ("La faute grave est celle qui rend impossible le maintien du salarié dans l'entreprise [1]. "
         "La Cour juge que « le ciel est toujours vert en Bourgogne » [2]. Voir aussi [9].")
PARAGRAPHS = ["M. Martin conteste son licenciement pour faute grave."]


def test_draft_shows_numbered_sources_and_flags_then_inserts_with_sources_comment(
        plume, corpus, fake_llm, open_pane, screenshot):
    fake_llm.reply = REPLY
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}})
    open_tab(page, "draft")
    page.fill("#draft-instructions", "Motiver le rejet de la contestation du licenciement pour faute grave")
    page.click("#draft-run")
    page.wait_for_selector("#draft-after [data-action=insert]")

    # The model saw the instructions, the selection and numbered sources fenced as data.
    prompt = "\n".join(m["content"] for m in fake_llm.chat_requests()[-1].json["messages"])
    assert "Motiver le rejet" in prompt and PARAGRAPHS[0] in prompt and "[1] Cass. soc." in prompt

    sources = page.evaluate("""() => [...document.querySelectorAll('#draft-sources .plume-sources > li')]
        .map((li) => li.querySelector('.plume-card__title').textContent)""")
    assert sources and sources[0].startswith("[1] Cass. soc., 23 oct. 2024, n° ")
    assert [s.split(" ")[0] for s in sources] == [f"[{n}]" for n in range(1, len(sources) + 1)]
    flags = page.locator("#draft-sources [data-flags]")
    assert "[9]" in flags.inner_text() and "à vérifier" in flags.inner_text()
    assert "le ciel est toujours vert" in flags.inner_text()
    # In the answer, [1] is a link to its source; [2] (misquoted) and [9] are shown as flagged.
    assert page.locator("#draft-output button[data-source='1']").get_attribute("class") == "plume-ref plume-ref--source"
    for flagged in ("2", "9"):
        assert "plume-ref--flagged" in page.locator(f"#draft-output button[data-source='{flagged}']").get_attribute("class")
    assert "plume-card--flagged" in page.locator("#draft-source-2").get_attribute("class")
    page.click("#draft-output button[data-source='1']")
    assert page.evaluate("document.activeElement.id") == "draft-source-1"
    screenshot(page, "word-draft")

    page.click("#draft-after [data-action=insert]")
    page.wait_for_selector("#draft-after [data-outcome=inserted]")
    comment = next(c for c in word_calls(page) if c["api"] == "Range.insertComment")["args"][0]
    assert comment.startswith("Texte généré par IA – à vérifier.")
    assert "Sources :" in comment and sources[0].split(" (")[0] in comment
    state = word_state(page)
    assert state["contentControls"][0]["title"] == "Texte généré par IA – à vérifier"
    assert state["paragraphs"][1] == REPLY and state["trackingMode"] == "Off"


def test_draft_needs_instructions(plume, open_pane):
    page = open_pane(plume())
    open_tab(page, "draft")
    page.click("#draft-run")
    assert page.inner_text("#draft-error") == "Indiquez ce que la section doit contenir."
    assert page.evaluate("document.activeElement.id") == "draft-instructions"
