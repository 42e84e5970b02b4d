"""Accessibility of both panes: axe-core (npm, served from addin/vendor, never a CDN) on every
screen, in the light and the dark theme, finds no serious or critical violation; and the
keyboard alone reaches every action, Ctrl+Entrée runs, Échap stops."""
from __future__ import annotations

import json

import pytest

from tests.fakes.upstream import Behaviour

from .conftest import open_tab, wait_until
from .outlook_fixtures import POSTPONEMENT_MAIL, attachments_scenario, mail_model
from .test_outlook_compose import DRAFT, REPLY_MAIL

AXE = "/addin/vendor/axe.min.js"
DARK_WORD = {"bodyBackgroundColor": "#292929", "bodyForegroundColor": "#ffffff",
             "controlBackgroundColor": "#1f1f1f", "controlForegroundColor": "#ffffff"}
PARAGRAPHS = ["Attendu que M. Martin a été licencié pour faute grave.", "Par ces motifs, rejette le pourvoi."]
ROUTING = {"categorie": "Demande de renvoi", "service": "Service des audiences",
           "justification": "Le message demande le renvoi d'une audience."}


def serious_violations(page, screen: str) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE)
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.filter((v) => ['serious', 'critical'].includes(v.impact)).map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ' — ' + n.failureSummary),
        }));
    }""")
    return [{"screen": screen, **v} for v in found]


def check(page, screen: str, problems: list) -> None:
    problems.extend(serious_violations(page, screen))


def test_the_check_finds_a_violation_when_there_is_one(plume, open_pane):
    page = open_pane(plume())
    page.evaluate("document.querySelector('#panel-search').append(document.createElement('button'))")
    assert "button-name" in [v["id"] for v in serious_violations(page, "bouton sans nom")]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_word_pane_screens_have_no_serious_violation(theme, plume, corpus, fake_llm, open_pane, screenshot):
    config = {"paragraphs": PARAGRAPHS, "selection": [0, 0], "url": "https://example.test/jugement.docx"}
    if theme == "dark":
        config["theme"] = DARK_WORD
    fake_llm.reply = "Le salarié a été licencié pour faute grave (§ 1) ; le pourvoi est rejeté (§ 2)."
    page = open_pane(plume(LLM_RETRIES=0), globals={"__officeMockConfig": config}, color_scheme=theme)
    assert page.evaluate("document.documentElement.dataset.theme") == theme
    problems: list = []
    check(page, "accueil", problems)

    page.fill("#search-query", "licenciement pour faute grave")
    page.click("#search-run")
    page.wait_for_selector("#search-results .plume-card")
    check(page, "résultats de recherche", problems)
    page.click("#search-results .plume-card >> nth=0 >> [data-action=open]")
    page.wait_for_selector("#search-reader-passage")
    check(page, "décision ouverte", problems)
    page.click("#search-reader [data-action=back]")

    page.click("#tab-summarize")
    page.click("#summarize-run")
    page.wait_for_selector("#summarize-after [data-action=insert]")
    page.click("#summarize-after [data-action=refine]")
    check(page, "synthèse et Affiner", problems)
    page.click("#summarize-after [data-action=insert]")
    page.wait_for_selector("#summarize-after [data-outcome=inserted]")
    check(page, "synthèse insérée", problems)
    page.click("#summarize-run")
    page.wait_for_selector("#summarize-after [data-action=insert]")
    page.locator("#panel-summarize .plume-history summary").click()
    check(page, "historique", problems)

    fake_llm.then(Behaviour(status=502))
    page.get_by_role("button", name="Plus de fonctions").click()
    check(page, "menu Plus", problems)
    page.locator(".plume-tabs__menu button", has_text="Rédiger").click()
    page.fill("#draft-instructions", "Motiver le rejet.")
    page.click("#draft-run")
    page.wait_for_selector("#draft-error .plume-bar")
    check(page, "erreur", problems)
    # A draft whose citation check flags a source: the check above the proposal, « J'ai vérifié ».
    fake_llm.reply = "La faute grave rend impossible le maintien du salarié [1]. Voir aussi [9]."
    page.click("#draft-run")
    page.wait_for_selector("#draft-verified")
    page.click("#draft-after [data-action=insert]")
    page.wait_for_selector("#draft-after [data-outcome=blocked]")
    check(page, "rédaction à vérifier", problems)

    page.get_by_role("button", name="Plus de fonctions").click()
    page.locator(".plume-tabs__menu button", has_text="Reformuler").click()
    page.click("#rewrite-run")
    page.wait_for_selector("#rewrite-after [data-action=insert]")
    page.wait_for_selector("#rewrite-diff-count:not(:empty)")
    check(page, "reformulation (modifications mot à mot)", problems)

    page.get_by_role("button", name="Plus de fonctions").click()
    page.locator(".plume-tabs__menu button", has_text="Transcrire").click()
    check(page, "transcription", problems)

    page.get_by_role("button", name="Plus de fonctions").click()
    page.locator(".plume-tabs__menu button", has_text="Pseudonymiser").click()
    page.click("#pseudo-run")
    page.wait_for_selector("#pseudo-list li.plume-card", timeout=120_000)
    page.locator("#pseudo-list li.plume-card summary").first.click()
    check(page, "pseudonymisation", problems)

    fake_llm.reply = "Langue d'origine : français\n\nThe employee was dismissed for gross misconduct."
    page.get_by_role("button", name="Plus de fonctions").click()
    page.locator(".plume-tabs__menu button", has_text="Traduire").click()
    page.select_option("#translate-language", "en")
    page.click("#translate-run")
    page.wait_for_selector("#translate-after [data-action=insert]")
    check(page, "traduction", problems)
    screenshot(page, f"word-a11y-{theme}")
    assert problems == [], json.dumps(problems, ensure_ascii=False, indent=1)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_outlook_pane_screens_have_no_serious_violation(theme, plume, fake_llm, outlook, screenshot):
    fake_llm.reply = mail_model(reply=DRAFT, routing=ROUTING)
    dark = {"theme": {"bodyBackgroundColor": "#292929", "bodyForegroundColor": "#ffffff",
                      "controlBackgroundColor": "#1f1f1f", "controlForegroundColor": "#ffffff"}} if theme == "dark" else {}
    base = plume(LLM_RETRIES=0)
    page = outlook(base, {**POSTPONEMENT_MAIL, "attachments": attachments_scenario(), **dark}, color_scheme=theme)
    assert page.evaluate("document.documentElement.dataset.theme") == theme
    problems: list = []
    check(page, "accueil", problems)
    page.get_by_role("button", name="Résumer le message").click()
    wait_until(page, "() => document.getElementById('summary-status').textContent === 'Résumé terminé.'")
    check(page, "résumé et informations relevées", problems)
    page.click("#tab-attachments")
    page.click("#attachments-run-all")
    wait_until(page, "() => document.getElementById('attachments-stop').hidden"
                     " && document.getElementById('attachments-status').textContent")
    check(page, "pièces jointes", problems)
    open_tab(page, "routing")  # at 320 px it may be in the « Plus » menu
    page.click("#routing-run")
    wait_until(page, "() => document.querySelector('.outlook-routing')")
    check(page, "orientation", problems)
    page.click("#tab-summary")
    fake_llm.then(Behaviour(status=502), Behaviour(status=502))
    page.get_by_role("button", name="Résumer le message").click()
    page.wait_for_selector("#summary-error .plume-bar")
    check(page, "erreur", problems)
    screenshot(page, f"outlook-a11y-{theme}")
    # The summary may fail on the first 502 before its fields call takes the second one: a 502
    # left in the queue must not meet the reply below.
    with fake_llm.lock:
        fake_llm._queue.clear()

    compose = outlook(base, {**REPLY_MAIL, **dark}, color_scheme=theme)
    check(compose, "rédiger", problems)
    compose.click("#reply-run")
    compose.wait_for_selector("#reply-after [data-action=insert]")
    check(compose, "projet de réponse", problems)
    assert problems == [], json.dumps(problems, ensure_ascii=False, indent=1)


def test_keyboard_only_in_word_runs_stops_and_reaches_every_action(plume, fake_llm, open_pane):
    fake_llm.reply = "Premier point. " * 40
    fake_llm.token_delay = 0.05
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 1]}})
    # To Rédiger with the keyboard: the tab list, arrows, then Tab into the panel.
    page.focus("#tab-search")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-draft"
    page.keyboard.press("Tab")  # the « Plus » menu button, then the panel
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Plus de fonctions"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "draft-instructions"
    page.keyboard.type("Motiver le rejet du pourvoi.")
    page.keyboard.press("Control+Enter")
    wait_until(page, "() => document.querySelector('#draft-output').textContent.length > 0")
    assert page.locator("#draft-stop").is_visible()
    page.keyboard.press("Escape")
    wait_until(page, "() => document.querySelector('#draft-status').textContent.includes('arrêtée')")
    assert page.locator("#draft-stop").is_hidden()
    assert page.locator("#draft-after [data-action=insert]").count() == 0

    fake_llm.token_delay = 0
    fake_llm.reply = "Le pourvoi est rejeté."
    page.focus("#draft-instructions")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#draft-after [data-action=insert]")
    # Every action of the answer is reached with Tab alone, in order.
    page.focus("#draft-run")
    reached = []
    for _ in range(12):
        page.keyboard.press("Tab")
        action = page.evaluate("document.activeElement.dataset.action || document.activeElement.getAttribute('aria-label') || ''")
        reached.append(action)
        if action == "discard":
            break
    assert [a for a in reached if a in {"copy", "regenerate", "refine", "insert", "discard"}] == [
        "copy", "regenerate", "refine", "insert", "discard"]


def test_keyboard_only_in_outlook_runs_and_stops(plume, fake_llm, outlook):
    fake_llm.reply = mail_model(reply="Maître,\n\n" + "Nous accusons réception de votre demande. " * 30)
    fake_llm.token_delay = 0.05
    page = outlook(plume(), REPLY_MAIL)
    page.focus("#reply-instructions")
    page.keyboard.press("Control+Enter")
    wait_until(page, "() => document.querySelector('#reply-output').textContent.length > 0")
    page.keyboard.press("Escape")
    wait_until(page, "() => document.querySelector('#reply-status').textContent.includes('arrêtée')")
    # A stopped draft is incomplete: it is not offered for insertion.
    assert page.locator("#reply-after [data-action=insert]").count() == 0
    assert page.locator("#reply-after [data-action=regenerate]").count() == 1
