"""The observatory page (admins) and the « À propos de Plume » page, in a real Chromium."""
from __future__ import annotations

from playwright.sync_api import expect

from backend import audit

from .helpers import GREFFIER, MAGISTRAT, as_user, record

ADMIN = {"id": "admin-1", "name": "Admin", "roles": ["Plume.Admin"], "jurisdictions": []}
WIDE = {"width": 1280, "height": 1800}


def test_observatory_page_draws_every_figure_for_an_admin(make_app, serve_app, open_pane, screenshot):
    app = make_app(DEV_USER=ADMIN)
    first = record(app, MAGISTRAT, task="draft")
    record(app, MAGISTRAT, task="summarize")
    record(app, GREFFIER, task="mail-summary", outcome="error", error_code="amont_indisponible")
    ctx = as_user(app, MAGISTRAT)
    try:
        audit.record_event(first, "inserted", user_hash="h")
        audit.record_event(first, "feedback", user_hash="h", useful=True,
                           comment="<b>Très</b> utile")
    finally:
        ctx.pop()
    page = open_pane(serve_app(app), "/addin/observatory/", **WIDE)
    assert page.locator("#figures").is_visible()
    assert page.locator("canvas").count() == 9, page.console_messages  # Chart.js served by Plume
    cards = page.locator("#summary").inner_text()
    assert "Interactions\n3" in cards and "Utilisateurs (pseudonymes)\n2" in cards
    # Comments are shown as text, never as HTML.
    assert page.locator("#comments li").first.inner_text().endswith("<b>Très</b> utile")
    assert page.locator("#comments b").count() == 0
    page.locator("[data-figure=errors-cause] summary").click()
    assert "amont_indisponible" in page.locator("[data-figure=errors-cause] table").inner_text()
    with page.expect_download() as download:
        page.locator("#export").click()
    path = download.value.path()
    assert download.value.suggested_filename.startswith("plume-observatoire-")
    assert len(open(path, encoding="utf-8-sig").read().strip().splitlines()) == 4
    screenshot(page, "observatory")
    assert not [m for m in page.console_messages if m.startswith("pageerror")], page.console_messages


def test_observatory_page_tells_non_admins_it_is_reserved(make_app, serve_app, open_pane):
    page = open_pane(serve_app(make_app(DEV_USER=MAGISTRAT)), "/addin/observatory/", **WIDE)
    assert "réservé aux administrateurs" in page.locator("#problem").inner_text()
    assert not page.locator("#figures").is_visible()


def test_about_page_shows_this_servers_model_and_record_keeping(make_app, serve_app, open_pane,
                                                                screenshot):
    app = make_app(DEV_USER=GREFFIER, LLM_BASE_URL="https://albert.api.etalab.gouv.fr/v1",
                   LLM_MODEL="albert-large")
    page = open_pane(serve_app(app), "/addin/common/about.html", wait_ready=False)
    expect(page.locator("#about-model-name")).to_have_text("albert-large")
    assert page.locator("#about-model-host").inner_text() == "albert.api.etalab.gouv.fr"
    assert page.locator("#about-retention").inner_text() == "6 mois (183 jours)"
    assert "aucun texte" in page.locator("#about-content-logging").inner_text()
    assert page.locator("#about-not-for li").count() >= 4
    screenshot(page, "about")
