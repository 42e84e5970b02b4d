"""Rédiger: a section grounded in ingested precedents, numbered sources in the pane, flagged
citations visible, and the sources listed in the comment of the inserted text."""
from __future__ import annotations

import re

from .conftest import open_tab, plain, word_calls, word_state

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
    assert "Motiver le rejet" in prompt, prompt
    assert PARAGRAPHS[0] in prompt, prompt
    assert "[1] Cass. soc." in prompt, prompt

    # « Sources citées »: only what the answer cites ([1], [2]; [9] does not exist), one card
    # per decision; the other sources the model was given are folded under « Autres sources ».
    cited = page.evaluate("""() => [...document.querySelectorAll('#draft-sources > div > .plume-sources > li')]
        .map((li) => li.querySelector('.plume-card__title').textContent)""")
    others = page.evaluate("""() => [...document.querySelectorAll('#draft-other-sources .plume-sources > li')]
        .map((li) => li.querySelector('.plume-card__title').textContent)""")
    cited, others = [plain(t) for t in cited], [plain(t) for t in others]
    assert len(cited) == 1 and cited[0].startswith("[1] [2] Cass. soc., 23 oct. 2024, n° "), cited
    assert others and not any(title.startswith(("[1]", "[2]")) for title in others)
    assert page.locator("#draft-other-sources").get_attribute("open") is None
    numbers = sorted(int(n.strip("[]")) for title in cited + others for n in title.split(" ") if n.startswith("["))
    assert numbers == list(range(1, len(numbers) + 1))
    # The check comes above the proposal.
    assert page.evaluate("""() => document.getElementById('draft-check').compareDocumentPosition(
        document.getElementById('draft-output')) & Node.DOCUMENT_POSITION_FOLLOWING""")
    flags = page.locator("#draft-check [data-flags]")
    assert "[9]" in plain(flags.inner_text()) and "à vérifier" in plain(flags.inner_text())
    assert "le ciel est toujours vert" in plain(flags.inner_text())
    # In the answer, [1] is a link to its source; [2] (misquoted) and [9] are shown as flagged.
    assert page.locator("#draft-output button[data-source='1']").get_attribute("class") == "plume-ref plume-ref--source"
    for flagged in ("2", "9"):
        assert "plume-ref--flagged" in page.locator(f"#draft-output button[data-source='{flagged}']").get_attribute("class")
    assert "plume-card--flagged" in page.locator("#draft-sources [data-refs~='2']").get_attribute("class")
    page.click("#draft-output button[data-source='1']")
    assert page.evaluate("document.activeElement.id") == "draft-source-1"
    # The chip previews its source: the card is marked and shows its whole passage.
    card = page.locator("#draft-source-1")
    assert "plume-card--current" in card.get_attribute("class")
    assert card.locator("[data-full]").is_visible() and card.locator("[data-short]").is_hidden()
    page.click("#draft-output button[data-source='2']")  # same decision, same card
    assert page.evaluate("document.activeElement.id") == "draft-source-1"
    screenshot(page, "word-draft")

    # Flagged citations: « Insérer » asks for « J'ai vérifié » first and inserts nothing.
    page.click("#draft-after [data-action=insert]")
    blocked = page.wait_for_selector("#draft-after [data-outcome=blocked]")
    assert "J'ai vérifié" in plain(blocked.inner_text()) and "rien n'a été inséré" in plain(blocked.inner_text())
    assert page.evaluate("document.activeElement.id") == "draft-verified"
    assert not [c for c in word_calls(page) if c["api"].startswith("Range.insert")]
    screenshot(page, "word-draft-verify-first")
    page.keyboard.press("Space")
    page.click("#draft-after [data-action=insert]")
    page.wait_for_selector("#draft-after [data-outcome=inserted]")
    comment = next(c for c in word_calls(page) if c["api"] == "Range.insertComment")["args"][0]
    assert comment.startswith("Texte généré par IA – à vérifier.")
    citation = cited[0].split(" Cass.")[1]
    assert "Sources :" in comment and f"[1] Cass.{citation}" in comment and f"[2] Cass.{citation}" in comment
    assert not any(title.split(" Cass.")[1] in comment for title in others)
    # The citation warnings go into the Word comment too.
    assert "Citations signalées par la vérification :" in comment and "[9]" in comment
    # The « [n] » became footnotes citing their decision (WordApi 1.5), tracked; [9] has no
    # source and stays for the magistrate to see.
    state = word_state(page)
    assert state["contentControls"][0]["title"] == "Texte généré par IA – à vérifier"
    assert state["paragraphs"][1] == ("La faute grave est celle qui rend impossible le maintien du salarié dans "
                                      "l'entreprise. La Cour juge que « le ciel est toujours vert en Bourgogne ». "
                                      "Voir aussi [9].")
    assert state["footnotes"] == [f"Cass.{citation}"] * 2 and state["trackingMode"] == "Off"
    notes = [c for c in word_calls(page) if c["api"] == "Range.insertFootnote"]
    assert [c["trackingMode"] for c in notes] == ["TrackAll"] * 2
    assert "notes de bas de page" in plain(page.inner_text("#draft-after [data-outcome=inserted]"))


def test_draft_needs_instructions(plume, open_pane):
    page = open_pane(plume())
    open_tab(page, "draft")
    page.click("#draft-run")
    assert plain(page.inner_text("#draft-error")) == "Indiquez ce que la section doit contenir."
    assert page.evaluate("document.activeElement.id") == "draft-instructions"


def test_draft_without_flags_inserts_at_once(plume, corpus, fake_llm, open_pane):
    fake_llm.reply = "La faute grave rend impossible le maintien du salarié dans l'entreprise [1]."
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}})
    open_tab(page, "draft")
    page.fill("#draft-instructions", "Définir la faute grave")
    # Ton and Longueur, as in Outlook, reach the prompt.
    page.check("input[name=draft-tone][value=neutre]")
    page.check("input[name=draft-length][value=courte]")
    page.click("#draft-run")
    page.wait_for_selector("#draft-after [data-action=insert]")
    assert page.get_attribute("#draft-check [data-flags]", "data-flags") == "0"
    system = fake_llm.chat_requests()[-1].json["messages"][0]["content"]
    assert "sur un ton sobre et direct" in system and "d'une longueur courte (un paragraphe)" in system
    assert page.locator("#draft-verified").count() == 0
    page.click("#draft-after [data-action=insert]")
    page.wait_for_selector("#draft-after [data-outcome=inserted]")


def test_without_footnotes_the_citations_go_in_parentheses(plume, corpus, fake_llm, open_pane):
    fake_llm.reply = "La faute grave rend impossible le maintien du salarié dans l'entreprise [1]."
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0],
                                                              "sets": {"WordApi": "1.4"}}})
    open_tab(page, "draft")
    page.fill("#draft-instructions", "Définir la faute grave")
    page.click("#draft-run")
    page.wait_for_selector("#draft-after [data-action=insert]")
    citation = re.sub(r"^(\[\d+\] )+", "", plain(page.inner_text("#draft-sources .plume-card__title")))
    page.click("#draft-after [data-action=insert]")
    page.wait_for_selector("#draft-after [data-outcome=inserted]")
    paragraph = word_state(page)["paragraphs"][1]
    assert paragraph.startswith("La faute grave rend impossible") and paragraph.endswith(f"l'entreprise ({citation}).")
    assert word_state(page)["footnotes"] == []
