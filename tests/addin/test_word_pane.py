"""The Word pane as a whole: start-up, keyboard use, Office theme, and how it degrades when
Word lacks a requirement set or Office.js cannot load."""
from __future__ import annotations

import pytest

from .conftest import OFFICE_JS, open_tab, plain


@pytest.fixture
def base_url(make_app, serve_app):
    return serve_app(make_app())


def test_tabs_are_buttons_usable_with_the_keyboard(base_url, open_pane, screenshot):
    page = open_pane(base_url)
    tabs = page.locator("[role=tab]")
    assert tabs.all_inner_texts() == ["Rechercher", "Synthétiser", "Rédiger", "Reformuler", "Transcrire", "Dossier",
                                      "Pseudonymiser", "Traduire"]
    assert tabs.evaluate_all("els => els.map(e => e.tagName)") == ["BUTTON"] * 8
    page.locator("#tab-search").focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-summarize"
    assert page.locator("#tab-summarize").get_attribute("aria-selected") == "true"
    assert page.locator("#panel-summarize").is_visible()
    assert not page.locator("#panel-search").is_visible()
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.id") == "tab-translate"
    page.keyboard.press("Home")
    assert page.evaluate("document.activeElement.id") == "tab-search"
    # Only the selected tab is in the Tab order; Tab moves to « Plus », then into the panel.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Plus de fonctions"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "search-query"
    outline = page.evaluate("getComputedStyle(document.activeElement).borderBottomWidth")
    assert outline == "2px"
    # Nothing overflows the 320 px pane.
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    screenshot(page, "word-start")


def test_banners_and_about_link(base_url, open_pane):
    page = open_pane(base_url)
    assert "Mode développement" in plain(page.inner_text("[data-banner=dev]"))
    models = plain(page.inner_text("[data-banner=models]"))
    assert "Aucun service d'IA n'est configuré" in models and "PLUME_" not in models  # the setting is for admins
    about = page.locator("a", has_text="À propos de Plume")
    href = page.evaluate("(a) => a.href", about.element_handle())
    assert href.endswith("/addin/common/about.html")
    assert page.request.get(href).status == 200


def test_follows_the_office_theme(base_url, open_pane, screenshot):
    theme = {"bodyBackgroundColor": "#1f1f1f", "bodyForegroundColor": "#f0f0f0",
             "controlBackgroundColor": "#292929", "controlForegroundColor": "#ffffff"}
    page = open_pane(base_url, globals={"__officeMockConfig": {"theme": theme}})
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(31, 31, 31)"
    screenshot(page, "word-dark-theme")
    page.evaluate("window.__officeMockChangeTheme({bodyBackgroundColor: '#ffffff', bodyForegroundColor: '#000000'})")
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"


def test_old_word_gets_french_notices_instead_of_failures(base_url, open_pane):
    page = open_pane(base_url, globals={"__officeMockConfig": {"sets": {"WordApi": "1.3"}}})
    tracking = page.locator("[data-banner=capability-tracking]")
    footnotes = page.locator("[data-banner=capability-footnotes]")
    assert "suivi des modifications" in plain(tracking.inner_text())
    assert "entre parenthèses" in plain(footnotes.inner_text())


def test_word_without_document_api_still_offers_search(base_url, open_pane):
    page = open_pane(base_url, globals={"__officeMockConfig": {"sets": {"WordApi": None}}})
    notice = page.locator("[data-banner=capability-read]")
    assert "trop ancienne" in plain(notice.inner_text())
    open_tab(page, "summarize")
    page.click("#summarize-run")
    refused = plain(page.locator("#summarize-error").inner_text())
    assert "ne permet pas à Plume de lire" in refused and "WordApi" not in refused
    assert page.evaluate("window.__officeCalls.length") == 0


def test_outside_office_the_pane_says_how_to_open_it(base_url, browser):
    context = browser.new_context(viewport={"width": 320, "height": 600})
    try:
        context.route(OFFICE_JS, lambda route: route.abort())
        page = context.new_page()
        page.goto(f"{base_url}/addin/word/")
        message = page.locator("#startup [role=alert]")
        message.wait_for()
        assert "ouvrez Plume depuis Word" in plain(message.inner_text())
        assert not page.locator("#app").is_visible()
    finally:
        context.close()
