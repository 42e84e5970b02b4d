"""Rechercher: real search over ingested sample decisions; cards with the citation, the
solution badge, the zone in French, the ECLI and the highlighted passage; the form folded into
a bar; « Plus de résultats »; « Ouvrir la décision » at the passage; one-click citation as a
footnote, or inline when WordApi 1.5 is missing."""
from __future__ import annotations

import json
import unicodedata

import pytest

from .conftest import CORPUS, fake_llm_settings, FeedbackLog, plain, word_calls, word_state

def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).lower()


PARAGRAPHS = ["Le salarié a commis une faute grave justifiant son licenciement immédiat."]


ZONES_FR = ("Motivation", "Moyens", "Dispositif", "Exposé du litige", "Introduction")
API_ZONES = ("motivations", "moyens", "dispositif", "expose", "introduction")


def cards(page) -> list[dict]:
    """What each result card shows, without the renderer's typography (see plain())."""
    found = page.evaluate("""() => [...document.querySelectorAll('#search-results .plume-card')].map((card) => ({
        citation: card.querySelector('.plume-card__title').textContent,
        meta: card.querySelector('.plume-card__badges').textContent,
        badge: card.querySelector('.plume-badge')?.textContent || null,
        zone: card.querySelector('.plume-zone')?.textContent || null,
        ecli: card.querySelector('.plume-card__ecli')?.textContent || null,
        marks: [...card.querySelectorAll('mark')].map((m) => m.textContent),
        text: card.querySelector('.plume-card__text').textContent,
        all: card.textContent,
        actions: [...card.querySelectorAll('.plume-card__actions button')].map((b) => b.textContent),
    }))""")
    return [{key: plain(v) if isinstance(v, str) else [plain(x) for x in v] if isinstance(v, list) else v
             for key, v in card.items()} for card in found]


def test_search_shows_citations_and_highlighted_passages_then_cites_as_footnote(
        plume, corpus, open_pane, screenshot):
    numbers = {d["number"]: d for d in corpus}
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}})
    feedback = FeedbackLog(page)
    page.fill("#search-query", "licenciement pour faute grave")
    page.click("#search-run")
    page.wait_for_selector("#search-results .plume-card")
    found = cards(page)
    assert plain(page.inner_text("#search-status")) == f"{len(found)} décisions trouvées."
    assert 2 <= len(found) <= 7
    for card in found:
        number = next(n for n in numbers if n in card["citation"])
        decision = numbers[number]
        assert decision["jurisdiction"] == "Cour de cassation"
        assert card["citation"].startswith("Cass. ")
        assert card["marks"], card
        assert all(fold(m).startswith(("licenci", "faut", "grav")) for m in card["marks"]), card["marks"]
        # The zone in French, never the API's key; the solution as a badge; the date once.
        assert card["zone"] in ZONES_FR and not any(key in card["all"] for key in API_ZONES)
        assert card["badge"] == decision["solution"]
        year = decision["date"][:4]
        assert card["all"].count(year) == card["citation"].count(year) + card["text"].count(year) + (card["ecli"] or "").count(year)
        if decision.get("ecli"):
            assert card["ecli"] == decision["ecli"]
        assert card["actions"][0] == "Citer" and card["actions"][-1] == "Ouvrir la décision"
    # The form folded into a one-line bar that names the question.
    assert page.locator("#search-form").is_hidden()
    assert plain(page.inner_text("#search-bar-text")) == "« licenciement pour faute grave »"
    # Two or three results above the fold at 320 px.
    above = page.evaluate("""() => [...document.querySelectorAll('#search-results .plume-card')]
        .filter((card) => card.getBoundingClientRect().bottom <= window.innerHeight).length""")
    assert above >= 2, above
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
    assert page.locator("#filter-zone option").all_inner_texts()[:2] == ["Toutes", "Introduction"]
    page.fill("#filter-solution", "Rejet")
    page.fill("#filter-chamber", "Chambre sociale")
    page.fill("#filter-date-from", "2024-01-01")
    page.click("#search-run")
    page.wait_for_selector("#search-results .plume-card")
    found = cards(page)
    assert found and all(any(n in card["citation"] for n in rejects) for card in found)
    assert all(card["badge"] == "Rejet" for card in found)
    assert plain(page.inner_text("#search-bar-text")) == "« faute grave » · 3 filtres"

    # « Modifier » unfolds the form with the question kept; the zone filter narrows the passages.
    page.click("#search-edit")
    assert page.evaluate("document.activeElement.id") == "search-query"
    page.select_option("#filter-zone", "moyens")
    page.click("#search-run")
    page.wait_for_selector("#search-bar-text:has-text('4 filtres')")
    page.wait_for_selector("#search-results .plume-card")
    assert {card["zone"] for card in cards(page)} == {"Moyens"}

    page.click("#search-edit")
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
    assert plain(button.inner_text()) == "Citer dans le texte"
    citation = plain(page.inner_text("#search-results .plume-card >> nth=0 >> .plume-card__title"))
    button.click()
    page.wait_for_selector("#search-results [data-outcome=inline]")
    calls = word_calls(page)
    assert not [c for c in calls if c["api"] == "Range.insertFootnote"]
    inline = [c for c in calls if c["api"] == "Range.insertText"]
    assert inline[-1]["args"] == [f" ({citation})", "End"] and inline[-1]["trackingMode"] == "TrackAll"
    assert word_state(page)["paragraphs"][0].endswith(f"({citation})")
    assert "notes de bas de page" in plain(page.inner_text("#search-results [data-outcome=inline]"))
    screenshot(page, "word-search-inline-citation")


def test_open_the_decision_at_the_passage_then_come_back(plume, corpus, open_pane, screenshot):
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}})
    page.fill("#search-query", "licenciement pour faute grave")
    page.click("#search-run")
    page.wait_for_selector("#search-results .plume-card")
    first = cards(page)[0]
    page.click("#search-results .plume-card >> nth=0 >> [data-action=open]")
    page.wait_for_selector("#search-reader-passage")
    assert page.locator("#search-results").is_hidden()
    assert plain(page.inner_text("#search-reader-title")) == first["citation"]
    # The whole decision, the hit's passage marked, focused and on screen.
    number = next(d for d in corpus if d["number"] in first["citation"])
    reader_text = plain(page.inner_text("#search-reader .plume-decision__text"))
    assert len(reader_text) > len(first["text"]) and number["text"][:40].split()[0] in reader_text
    assert page.evaluate("document.activeElement.id") == "search-reader-passage"
    box = page.evaluate("document.getElementById('search-reader-passage').getBoundingClientRect().top")
    assert 0 <= box < 900
    passage = plain(page.inner_text("#search-reader-passage"))
    assert all(fold(m) in fold(passage) for m in first["marks"])
    screenshot(page, "word-search-decision")

    page.click("#search-reader [data-action=cite]")
    page.wait_for_selector("#search-reader [data-outcome=footnote]")
    assert word_state(page)["footnotes"] == [first["citation"]]

    page.click("#search-reader [data-action=back]")
    assert page.locator("#search-reader").is_hidden() and page.locator("#search-results").is_visible()
    assert page.evaluate("document.activeElement.dataset.action") == "open"


@pytest.fixture
def larger_corpus(make_app, fake_llm, tmp_path) -> int:
    """Enough decisions about a contract for more than one page of results."""
    from backend import retrieval

    chosen = [line for line in CORPUS.open(encoding="utf-8") if "contrat" in json.loads(line)["text"]][:40]
    path = tmp_path / "many.jsonl"
    path.write_text("".join(chosen), encoding="utf-8")
    app = make_app(**fake_llm_settings(fake_llm))
    with app.app_context():
        retrieval.ingest_paths([str(path)], progress=False)
    return len(chosen)


def test_more_results_pages_on_without_repeating(plume, larger_corpus, open_pane):
    assert larger_corpus > 20
    page = open_pane(plume())
    page.fill("#search-query", "contrat")
    page.click("#search-run")
    page.wait_for_selector("#search-results .plume-card")
    assert len(cards(page)) == 10
    page.click("#search-more")
    page.wait_for_selector("#search-results .plume-card >> nth=10")
    found = cards(page)
    assert len(found) == 20 and len({card["citation"] for card in found}) == 20
    assert plain(page.inner_text("#search-status")) == "20 décisions trouvées."
    # The focus goes to the first new card's first action.
    assert page.evaluate("document.activeElement.closest('.plume-card') === document.querySelectorAll('#search-results .plume-card')[10]")
