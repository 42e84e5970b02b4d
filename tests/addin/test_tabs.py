"""The tab bars: one line that does not move when a tab becomes bold, a « Plus » menu for the
tabs that do not fit at 320 px, and no tab the user's role or the server's setup would refuse."""
from __future__ import annotations

from .conftest import open_tab
from .outlook_fixtures import POSTPONEMENT_MAIL

CLERK = {"id": "greffe-1", "name": "Greffier", "roles": ["Plume.Greffier"], "jurisdictions": []}
MAGISTRATE = {"id": "mag-1", "name": "Magistrate", "roles": ["Plume.Magistrat"], "jurisdictions": []}
ADMIN = {"id": "admin-1", "name": "Admin", "roles": ["Plume.Admin"], "jurisdictions": []}
WORD_TABS = ["tab-search", "tab-summarize", "tab-draft", "tab-rewrite", "tab-transcribe", "tab-dossier",
             "tab-pseudonymize", "tab-translate"]

TABS_JS = """() => [...document.querySelectorAll('[role=tab]')].map((tab) => {
    const box = tab.getBoundingClientRect();
    return {id: tab.id, shown: !tab.hidden && box.width > 0, x: box.x, y: box.y, width: box.width,
            selected: tab.getAttribute('aria-selected') === 'true'};
})"""


def tabs(page) -> list[dict]:
    return page.evaluate(TABS_JS)


def shown(page) -> list[str]:
    return [t["id"] for t in tabs(page) if t["shown"]]


def test_word_tabs_fit_on_one_line_with_a_more_menu_and_do_not_move(plume, open_pane, screenshot):
    page = open_pane(plume())
    visible = [t for t in tabs(page) if t["shown"]]
    assert len({round(t["y"]) for t in visible}) == 1  # one line, no wrap
    assert len(visible) < 5
    more = page.get_by_role("button", name="Plus de fonctions")
    assert more.is_visible()
    before = {t["id"]: (t["x"], t["width"]) for t in tabs(page) if t["shown"]}
    page.click("#tab-summarize")  # becomes bold: nothing moves
    after = {t["id"]: (t["x"], t["width"]) for t in tabs(page) if t["shown"]}
    assert after == before

    more.click()
    assert more.get_attribute("aria-expanded") == "true"
    items = page.locator(".plume-tabs__menu button")
    hidden_ids = [t["id"] for t in tabs(page) if not t["shown"]]
    assert [f"tab-{i.get_attribute('data-panel')[6:]}" for i in items.all()] == hidden_ids
    screenshot(page, "word-tabs-more")
    items.filter(has_text="Transcrire").click()
    assert page.locator("#panel-transcribe").is_visible()
    state = {t["id"]: t for t in tabs(page)}
    assert state["tab-transcribe"]["shown"] and state["tab-transcribe"]["selected"]
    assert len({round(t["y"]) for t in tabs(page) if t["shown"]}) == 1
    assert page.locator(".plume-tabs__menu").is_hidden()
    screenshot(page, "word-tabs-transcribe")
    # Arrow keys go through every tab, the ones in the menu too: End reaches Traduire,
    # the last tab, which comes onto the bar.
    assert not state["tab-translate"]["shown"]
    page.focus("#tab-transcribe")
    page.keyboard.press("Home")
    assert page.evaluate("document.activeElement.id") == "tab-search"
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.id") == "tab-translate"
    state = {t["id"]: t for t in tabs(page)}
    assert state["tab-translate"]["shown"] and state["tab-translate"]["selected"]
    assert page.locator("#panel-translate").is_visible()
    assert len({round(t["y"]) for t in tabs(page) if t["shown"]}) == 1


def test_word_tabs_all_shown_on_a_wide_pane(plume, open_pane):
    page = open_pane(plume(), width=900)
    assert shown(page) == WORD_TABS
    assert page.get_by_role("button", name="Plus de fonctions").is_hidden()


def test_a_clerk_sees_no_tab_of_a_magistrate_in_word(plume, open_pane, screenshot):
    page = open_pane(plume(DEV_USER=CLERK))
    # A clerk pseudonymises and translates too; what does not fit is under « Plus ».
    assert page.inner_text(".plume-header__subtitle") == "Assistant du greffe"
    page.get_by_role("button", name="Plus de fonctions").click()
    in_menu = [f"tab-{panel[6:]}" for panel in page.eval_on_selector_all(
        ".plume-tabs__menu button", "(items) => items.map((i) => i.dataset.panel)")]
    assert shown(page) + in_menu == ["tab-search", "tab-transcribe", "tab-pseudonymize", "tab-translate"]
    page.keyboard.press("Escape")
    assert page.locator("#tab-summarize").get_attribute("data-unavailable") == "true"
    page.click("#tab-transcribe")
    assert page.locator("#panel-transcribe").is_visible() and page.locator("#panel-summarize").is_hidden()
    open_tab(page, "pseudonymize")
    assert page.locator("#panel-pseudonymize").is_visible() and page.locator("#panel-transcribe").is_hidden()
    screenshot(page, "word-tabs-greffier")


def test_an_administrator_alone_has_no_word_tab(plume, open_pane):
    # Pseudonymiser is not in /me's task list: its rule is the roles the server lets through,
    # so an administrator is not shown a tab that would end in a refusal.
    page = open_pane(plume(DEV_USER=ADMIN))
    assert "demandez à votre administrateur Plume" in page.inner_text("#startup")
    assert page.locator("#app").is_hidden()
    assert page.locator("#tab-pseudonymize").get_attribute("data-unavailable") == "true"


def test_no_transcription_model_no_transcribe_tab(plume, open_pane):
    page = open_pane(plume(LLM_TRANSCRIPTION_MODEL=None), width=700)
    assert "tab-transcribe" not in shown(page) and "tab-summarize" in shown(page)


def test_outlook_tabs_for_a_clerk_and_none_for_a_magistrate(plume, outlook, screenshot):
    page = outlook(plume(DEV_USER=CLERK), POSTPONEMENT_MAIL)
    assert shown(page) == ["tab-summary", "tab-attachments", "tab-routing"]
    magistrate = outlook(plume(DEV_USER=MAGISTRATE), POSTPONEMENT_MAIL)
    assert magistrate.locator("#read-mode").is_hidden()
    assert "demandez à votre administrateur Plume" in magistrate.inner_text("#startup")
    screenshot(magistrate, "outlook-no-role")
