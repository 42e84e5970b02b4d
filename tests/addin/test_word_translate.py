"""Traduire: the selection into a chosen language through the metered assist path, the
language the model recognised shown apart, the legal terms kept, and « Remplacer la
sélection » as tracked changes in the AI content control."""
from __future__ import annotations

from .conftest import open_tab, plain, word_calls, word_state

PARAGRAPHS = ["The hearing is adjourned to 12 March 2026 at the request of counsel.", "Par ces motifs."]
TRANSLATION = "L'audience est renvoyée au 12 mars 2026 à la demande de l'avocat."
REPLY = f"Langue d'origine : anglais\n\n{TRANSLATION}"


def test_translate_shows_the_language_then_replaces_the_selection(plume, fake_llm, open_pane, screenshot):
    fake_llm.reply = REPLY
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}})
    open_tab(page, "translate")
    assert page.input_value("#translate-language") == "fr"
    page.click("#translate-run")
    page.wait_for_selector("#translate-after [data-action=insert]")
    assert plain(page.inner_text("#translate-detected")) == "Langue reconnue : anglais"
    assert plain(page.inner_text("#translate-output")) == TRANSLATION  # the language line is not part of it
    sent = fake_llm.chat_requests()[-1].json["messages"]
    assert "traduire le texte fourni en français" in sent[0]["content"]
    assert "« Cour de cassation »" in sent[0]["content"] and PARAGRAPHS[0] in sent[1]["content"]
    screenshot(page, "word-translate")

    page.click("#translate-after [data-action=insert]")
    page.wait_for_selector("#translate-after [data-outcome=inserted]")
    replace = next(c for c in word_calls(page) if c["api"] == "Range.insertText")
    assert replace["args"] == [TRANSLATION, "Replace"] and replace["trackingMode"] == "TrackAll"
    state = word_state(page)
    assert state["paragraphs"] == [TRANSLATION, "Par ces motifs."]
    assert "Traduction en français de la sélection (texte d'origine en anglais)" in state["comments"][0]["text"]


def test_translate_into_another_language_and_without_selection(plume, fake_llm, open_pane):
    fake_llm.reply = "Langue d'origine : français\n\nThe cour d'appel (court of appeal) dismisses the appeal."
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": ["La cour d'appel rejette l'appel."]}})
    open_tab(page, "translate")
    page.click("#translate-run")
    page.wait_for_selector("#translate-error:not(:empty)")
    assert plain(page.inner_text("#translate-error")) == "Sélectionnez dans le document le passage à traduire."

    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": ["La cour d'appel rejette l'appel."],
                                                              "selection": [0, 0]}})
    open_tab(page, "translate")
    page.select_option("#translate-language", "en")
    page.click("#translate-run")
    page.wait_for_selector("#translate-after [data-action=insert]")
    assert "traduire le texte fourni en anglais" in fake_llm.chat_requests()[-1].json["messages"][0]["content"]
    assert plain(page.inner_text("#translate-detected")) == "Langue reconnue : français"
    assert plain(page.inner_text("#translate-output")).startswith("The cour d'appel (court of appeal)")


def test_a_translation_stopped_after_some_text_says_it_was_stopped(plume, fake_llm, open_pane):
    # No language line arrived before the stop: the status must still say « arrêtée », not « prête ».
    fake_llm.reply = "The hearing is adjourned. " * 200
    fake_llm.token_delay = 0.05
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}})
    open_tab(page, "translate")
    page.click("#translate-run")
    page.wait_for_function("() => document.getElementById('translate-output').textContent.length > 0")
    page.click("#translate-stop")
    page.wait_for_function("() => document.getElementById('translate-stop').hidden")
    status = plain(page.inner_text("#translate-status"))
    assert "arrêtée" in status and "prête" not in status
    assert page.locator("#translate-after [data-action=insert]").count() == 0
