"""The observatory page (admins) and the « À propos de Plume » page, in a real Chromium."""
from __future__ import annotations

from playwright.async_api import expect

from backend import audit

from .conftest import new_page, screenshot
from .helpers import GREFFIER, MAGISTRAT, as_user, record

ADMIN = {"id": "admin-1", "name": "Admin", "roles": ["Plume.Admin"], "jurisdictions": []}


def test_observatory_page_draws_every_figure_for_an_admin(make_app, serve_app, in_chromium):
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
    base_url = serve_app(app)

    async def check(browser):
        page = await new_page(browser, f"{base_url}/addin/observatory/")
        await page.wait_for_selector("body[data-ready='true']")
        assert await page.locator("#figures").is_visible()
        # Nine charts, drawn by the Chart.js that Plume serves.
        assert await page.locator("canvas").count() == 9, page.console_messages
        cards = await page.locator("#summary").inner_text()
        assert "Interactions\n3" in cards and "Utilisateurs (pseudonymes)\n2" in cards
        # Comments are shown as text, never as HTML.
        assert (await page.locator("#comments li").first.inner_text()).endswith("<b>Très</b> utile")
        assert await page.locator("#comments b").count() == 0
        await page.locator("[data-figure=errors-cause] summary").click()
        assert "Hébergeur du modèle indisponible" in await page.locator("[data-figure=errors-cause] table").inner_text()
        async with page.expect_download() as info:
            await page.locator("#export").click()
        download = await info.value
        assert download.suggested_filename.startswith("plume-observatoire-")
        with open(await download.path(), encoding="utf-8-sig") as handle:
            assert len(handle.read().strip().splitlines()) == 4
        await screenshot(page, "observatory")
        assert not [m for m in page.console_messages if m.startswith("pageerror")], page.console_messages

    in_chromium(check)


def test_observatory_page_tells_non_admins_it_is_reserved(make_app, serve_app, in_chromium):
    base_url = serve_app(make_app(DEV_USER=MAGISTRAT))

    async def check(browser):
        page = await new_page(browser, f"{base_url}/addin/observatory/")
        await page.wait_for_selector("body[data-ready='true']")
        assert "réservé aux administrateurs" in await page.locator("#problem").inner_text()
        assert not await page.locator("#figures").is_visible()

    in_chromium(check)


def test_about_page_shows_this_servers_model_and_record_keeping(make_app, serve_app, in_chromium):
    app = make_app(DEV_USER=GREFFIER, LLM_BASE_URL="https://albert.api.etalab.gouv.fr/v1",
                   LLM_MODEL="albert-large")
    base_url = serve_app(app)

    async def check(browser):
        page = await new_page(browser, f"{base_url}/addin/common/about.html", width=320, height=900)
        await expect(page.locator("#about-model-name")).to_have_text("albert-large")
        assert await page.locator("#about-model-host").inner_text() == "albert.api.etalab.gouv.fr"
        assert await page.locator("#about-retention").inner_text() == "6 mois (183 jours)"
        assert "aucun texte" in await page.locator("#about-content-logging").inner_text()
        assert await page.locator("#about-not-for li").count() >= 4
        await screenshot(page, "about")

    in_chromium(check)
