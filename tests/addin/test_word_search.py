"""Rechercher: real search over ingested sample decisions, highlighted passages, filters, and
one-click citation as a footnote, or inline when WordApi 1.5 is missing."""
from __future__ import annotations

import unicodedata

from .conftest import FeedbackLog, word_calls, word_state

def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).lower()


PARAGRAPHS = ["Le salarié a commis une faute grave justifiant son licenciement immédiat."]


def cards(page) -> list[dict]:
    return page.evaluate("""() => [...document.querySelectorAll('#search-results .plume-card')].map((card) => ({
        citation: card.querySelector('.plume-card__title').textContent,
        meta: card.querySelector('.plume-card__meta').textContent,
        marks: [...card.querySelectorAll('mark')].map((m) => m.textContent),
        text: card.querySelector('.plume-card__text').textContent,
    }))""")


def test_search_shows_citations_and_highlighted_passages_then_cites_as_footnote(
        plume, corpus, open_pane, screenshot):
    numbers = {d["number"]: d for d in corpus}
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}})
    feedback = FeedbackLog(page)
    page.fill("#search-query", "licenciement pour faute grave")
    page.click("#search-run")
    page.wait_for_selector("#search-results .plume-card")
    found = cards(page)
    assert page.inner_text("#search-status") == f"{len(found)} décisions trouvées."
    assert 2 <= len(found) <= 7
    for card in found:
        number = next(n for n in numbers if n in card["citation"])
        assert numbers[number]["jurisdiction"] == "Cour de cassation"
        assert card["citation"].startswith("Cass. ")
        assert card["marks"], card
        assert all(fold(m).startswith(("licenci", "faut", "grav")) for m in card["marks"]), card["marks"]
        assert any(zone in card["meta"] for zone in ("motivations", "moyens", "dispositif", "expose", "introduction"))
    screenshot(page, "word-search")

    page.click("#search-results .plume-card >> nth=0 >> [data-action=cite]")
    page.wait_for_selector("#search-results [data-outcome=footnote]")
    footnote = [c for c in word_calls(page) if c["api"] == "Range.insertFootnote"]
    assert len(footnote) == 1
    assert footnote[0]["args"] == [found[0]["citation"]] and footnote[0]["trackingMode"] == "TrackAll"
    assert word_state(page)["footnotes"] == [found[0]["citation"]]
    assert word_state(page)["trackingMode"] == "Off"
    feedback.wait(1)
    assert [(body["outcome"], status) for body, status in feedback.sent] == [("inserted", 201)]
    screenshot(page, "word-search-cited")


def test_filters_narrow_the_results(plume, corpus, open_pane):
    rejects = {d["number"] for d in corpus if d["solution"] == "Rejet"}
    page = open_pane(plume())
    page.fill("#search-query", "faute grave")
    page.click("details.plume-filters > summary")
    page.fill("#filter-solution", "Rejet")
    page.fill("#filter-chamber", "Chambre sociale")
    page.fill("#filter-date-from", "2024-01-01")
    page.click("#search-run")
    page.wait_for_selector("#search-results .plume-card")
    found = cards(page)
    assert found and all(any(n in card["citation"] for n in rejects) for card in found)
    assert all("Rejet" in card["meta"] for card in found)

    page.fill("#filter-date-from", "2025-01-01")
    page.click("#search-run")
    page.wait_for_selector("#search-status:has-text('Aucune décision')")
    assert cards(page) == []


def test_search_from_the_selection(plume, corpus, open_pane):
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}})
    page.click("#search-selection")
    page.wait_for_selector("#search-results .plume-card")
    assert page.input_value("#search-query") == PARAGRAPHS[0]


def test_citation_goes_inline_when_footnotes_are_missing(plume, corpus, open_pane, screenshot):
    page = open_pane(plume(), globals={"__officeMockConfig": {
        "paragraphs": PARAGRAPHS, "selection": [0, 0], "sets": {"WordApi": "1.4"}}})
    page.fill("#search-query", "faute grave")
    page.click("#search-run")
    button = page.locator("#search-results .plume-card >> nth=0 >> [data-action=cite]")
    assert button.inner_text() == "Citer dans le texte"
    citation = page.inner_text("#search-results .plume-card >> nth=0 >> .plume-card__title")
    button.click()
    page.wait_for_selector("#search-results [data-outcome=inline]")
    calls = word_calls(page)
    assert not [c for c in calls if c["api"] == "Range.insertFootnote"]
    inline = [c for c in calls if c["api"] == "Range.insertText"]
    assert inline[-1]["args"] == [f" ({citation})", "End"] and inline[-1]["trackingMode"] == "TrackAll"
    assert word_state(page)["paragraphs"][0].endswith(f"({citation})")
    assert "notes de bas de page" in page.inner_text("#search-results [data-outcome=inline]")
    screenshot(page, "word-search-inline-citation")
