"""Reformuler: the selection and its plain-language version side by side; « Remplacer la
sélection » replaces it, tracked, inside the AI content control."""
from __future__ import annotations

from .conftest import open_tab, plain, word_calls, word_state

PARAGRAPHS = ["Attendu que l'appelant ne justifie d'aucun grief.", "Que l'exception de nullité sera rejetée.",
              "Par ces motifs."]
REPLY = "L'appelant ne prouve pas qu'il a subi un préjudice. La demande d'annulation est donc rejetée."


def test_rewrite_shows_before_and_after_then_replaces_the_selection(plume, fake_llm, open_pane, screenshot):
    fake_llm.reply = REPLY
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 1]}})
    open_tab(page, "rewrite")
    page.click("#rewrite-run")
    page.wait_for_selector("#rewrite-after [data-action=insert]")
    assert page.inner_text("#rewrite-before") == "\n".join(PARAGRAPHS[:2])
    assert plain(page.inner_text("#rewrite-output")) == REPLY
    assert page.inner_text("#rewrite-after [data-action=insert]") == "Remplacer la sélection"
    screenshot(page, "word-rewrite")

    page.click("#rewrite-after [data-action=insert]")
    page.wait_for_selector("#rewrite-after [data-outcome=inserted]")
    replace = next(c for c in word_calls(page) if c["api"] == "Range.insertText")
    assert replace["args"] == [REPLY, "Replace"] and replace["trackingMode"] == "TrackAll"
    state = word_state(page)
    assert state["paragraphs"] == [REPLY, "Par ces motifs."]
    assert state["contentControls"][0]["tag"] == "plume-ai" and state["trackingMode"] == "Off"
    assert "Reformulation" in state["comments"][0]["text"]


def test_rewrite_without_selection_says_what_to_do(plume, open_pane):
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS}})
    open_tab(page, "rewrite")
    page.click("#rewrite-run")
    page.wait_for_selector("#rewrite-error:not(:empty)")  # after the pane has read the selection
    assert page.inner_text("#rewrite-error") == "Sélectionnez dans le document le passage à reformuler."


def test_discarding_clears_the_comparison(plume, fake_llm, open_pane):
    fake_llm.reply = REPLY
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}})
    open_tab(page, "rewrite")
    page.click("#rewrite-run")
    page.click("#rewrite-after [data-action=discard]")
    assert page.locator("#rewrite-compare").is_hidden()
    assert "rien n'a été inséré" in page.inner_text("#rewrite-status")
    assert word_state(page)["paragraphs"] == PARAGRAPHS


def test_refused_rewrite_shows_no_empty_comparison(plume, open_pane):
    clerk = {"id": "greffe-1", "name": "Greffier", "roles": ["Plume.Greffier"], "jurisdictions": []}
    # Roles unknown to the pane (``/me`` failed): the tab shows, and the server refuses.
    page = open_pane(plume(DEV_USER=clerk), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}},
                     wait_ready=False)
    page.route("**/api/v1/me", lambda route: route.fulfill(status=503, body="{}", content_type="application/json"))
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    open_tab(page, "rewrite")
    page.click("#rewrite-run")
    page.wait_for_selector("#rewrite-error [role=alert]")
    assert page.locator("#rewrite-compare").is_hidden()
