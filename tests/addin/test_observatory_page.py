"""The Observatory and « À propos » pages as their readers see them at 320 px: French date
fields (jj/mm/aaaa), causes of error in French words, « 95ᵉ », one empty-state sentence per
empty chart, striped bars besides colour, a not-admin page that says whom to ask, « 0 décision
indexée », and a way back."""
from __future__ import annotations

import re

from backend import audit
from tests.audit.helpers import GREFFIER, MAGISTRAT, as_user, record

from .conftest import plain, serious_violations, wait_until

OBSERVATORY = "/addin/observatory/"
ABOUT = "/addin/common/about.html"
ADMIN = {"id": "admin-1", "name": "Admin", "roles": ["Plume.Admin"], "jurisdictions": []}


def seed(app) -> None:
    """Two drafts (one inserted, one discarded and rated 👍 then 👎) and an upstream error."""
    first = record(app, MAGISTRAT, task="draft")
    second = record(app, MAGISTRAT, task="draft")
    record(app, GREFFIER, task="mail-summary", outcome="error", error_code="amont_indisponible", ttft=False)
    ctx = as_user(app, MAGISTRAT)
    try:
        audit.record_event(first, "inserted", user_hash="h")
        audit.record_event(second, "discarded", user_hash="h")
        audit.record_event(second, "feedback", user_hash="h", useful=True)
        audit.record_event(second, "feedback", user_hash="h", useful=False)
    finally:
        ctx.pop()


def test_the_figures_read_in_french(make_app, serve_app, open_pane, screenshot):
    app = make_app(DEV_USER=ADMIN)
    seed(app)
    page = open_pane(serve_app(app), OBSERVATORY)
    assert page.locator("#figures").is_visible(), "\n".join(page.console_messages)
    # The period in jj/mm/aaaa, in fields that say so.
    for field in ("#period-from", "#period-to"):
        assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", page.input_value(field))
        assert page.get_attribute(field, "placeholder") == "jj/mm/aaaa"
    text = plain(page.inner_text("body"))
    assert "amont_indisponible" not in text
    page.locator("[data-figure='errors-cause'] summary").click()
    assert "Hébergeur du modèle indisponible" in plain(page.inner_text("[data-figure='errors-cause']"))
    assert "95ᵉ centile" in text and "95e" not in text
    # 👍 then 👎 on one answer counts once, as 👎.
    page.locator("[data-figure='feedback'] summary").click()
    row = plain(page.locator("[data-figure='feedback'] tbody tr").first.inner_text()).split("\t")
    assert row[:3] == ["Rédaction", "0", "1"], row
    # Écartées and 👎 are striped (a pattern), not told apart by colour alone.
    fills = page.evaluate("""() => {
        const out = {};
        for (const name of ['text-outcomes', 'feedback']) {
            const chart = Chart.getChart(document.querySelector(`[data-figure='${name}'] canvas`));
            out[name] = chart.data.datasets.map((d) => [d.label, d.backgroundColor instanceof CanvasPattern]);
        }
        return out;
    }""")
    assert dict(fills["feedback"]) == {"👍 Utile": False, "👎 Pas utile": True}
    assert dict(fills["text-outcomes"])["Écartées"] is True and dict(fills["text-outcomes"])["Insérées"] is False
    # Readable at 320 px: nothing wider than the window.
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > 321).map((el) => el.tagName + '.' + el.className).slice(0, 5)""")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320, wide
    assert serious_violations(page, "observatoire") == []
    screenshot(page, "observatory-320")

    # An empty period: each figure says one sentence, no empty chart.
    page.fill("#period-from", "01/01/2020")
    page.fill("#period-to", "31/01/2020")
    page.click("button[type=submit]")
    wait_until(page, "() => document.getElementById('status').textContent.includes('01/01/2020')")
    figures = page.locator("figure.obs-figure")
    for i in range(figures.count()):
        figure = figures.nth(i)
        assert figure.locator("canvas").count() == 0
        assert figure.locator(".obs-empty").all_inner_texts() == ["Aucune donnée sur la période."]
    screenshot(page, "observatory-empty")

    # A date that is not jj/mm/aaaa is said in French, on its field.
    page.fill("#period-from", "31/02/2026")
    page.click("button[type=submit]")
    wait_until(page, "() => document.getElementById('problem').textContent.length > 0")
    assert plain(page.inner_text("#problem")) == "La date de début « 31/02/2026 » n'est pas une date au format jj/mm/aaaa."
    assert page.evaluate("document.activeElement.id") == "period-from"


def test_a_non_administrator_is_told_whom_to_ask(make_app, serve_app, open_pane, screenshot):
    page = open_pane(serve_app(make_app(DEV_USER=MAGISTRAT)), OBSERVATORY)
    problem = plain(page.inner_text("#problem"))
    assert problem.startswith("L'Observatoire de l'IA est réservé aux administrateurs de Plume.")
    assert "demandez à l'administrateur de Plume de votre juridiction" in problem
    assert serious_violations(page, "observatoire réservé") == []
    screenshot(page, "observatory-not-admin-320")


def test_about_agrees_in_number_and_offers_a_way_back(make_app, serve_app, open_pane, screenshot):
    base = serve_app(make_app(DEV_USER=ADMIN))
    page = open_pane(base, OBSERVATORY)
    assert page.locator("#back").is_hidden()  # opened on its own: nothing to go back to…
    assert page.locator("#back-note").is_visible()  # …and the page says how to leave
    page.click("a.plume-header__link")
    page.locator("#about-decisions").wait_for()
    assert plain(page.inner_text("#about-decisions")) == "0 décision est actuellement indexée."
    assert page.locator("#back-note").is_hidden()
    assert serious_violations(page, "à propos") == []
    screenshot(page, "about-320")
    page.click("#back")
    page.wait_for_url(f"{base}{OBSERVATORY}")
