"""Accessibility of both panes and of the pages beside them: axe-core (npm, served from
addin/vendor, never a CDN) on every screen — each tab, each state of an answer (running,
stopped, done, inserted, refined, history), errors, Observatoire, À propos — in the light and
the dark theme, finds no serious or critical violation; each screen is saved at 320 px as
tests/output/screenshots/<pane>-<screen>-<theme>.png. And the keyboard alone reaches every
action, Ctrl+Entrée runs, Échap stops, on each tab of both panes."""
from __future__ import annotations

import json
import re
import unicodedata

import pytest

from tests.audit.helpers import MAGISTRAT
from tests.fakes.upstream import Behaviour

from .conftest import answer_faults, open_tab, serious_violations, typography_faults, wait_until
from .outlook_fixtures import POSTPONEMENT_MAIL, attachments_scenario, mail_model
from .test_observatory_page import ADMIN, OBSERVATORY, seed
from .test_outlook_compose import DRAFT, REPLY_MAIL
from .test_outlook_translation import ENGLISH_QUOTED, FOREIGN_MAIL, reply_or_translate

DARK_WORD = {"bodyBackgroundColor": "#292929", "bodyForegroundColor": "#ffffff",
             "controlBackgroundColor": "#1f1f1f", "controlForegroundColor": "#ffffff"}
PARAGRAPHS = ["Attendu que M. Martin a été licencié pour faute grave.", "Par ces motifs, rejette le pourvoi."]
ROUTING = {"categorie": "Demande de renvoi", "service": "Service des audiences",
           "justification": "Le message demande le renvoi d'une audience."}


def slug(text: str) -> str:
    """« résultats de recherche » → « resultats-de-recherche », for a file name."""
    plain_text = unicodedata.normalize("NFD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain_text.lower()).strip("-")


class Screens:
    """Checks each screen of one pane in one theme with axe-core, for French typography
    (conftest.TYPOGRAPHY_FAULTS) and for what no answer may show (conftest.answer_faults),
    and saves its picture."""

    def __init__(self, pane: str, theme: str, screenshot) -> None:
        self.pane, self.theme, self.screenshot = pane, theme, screenshot
        self.problems: list[dict] = []
        self.seen: list[str] = []

    def check(self, page, screen: str, running: bool = False) -> None:
        self.problems.extend(serious_violations(page, f"{self.pane} · {screen} · {self.theme}"))
        self.problems.extend(typography_faults(page, f"{self.pane} · {screen}"))
        self.problems.extend(answer_faults(page, f"{self.pane} · {screen}", running))
        self.screenshot(page, f"{self.pane}-{slug(screen)}-{self.theme}")
        self.seen.append(screen)

    def assert_clean(self) -> None:
        assert self.problems == [], json.dumps(self.problems, ensure_ascii=False, indent=1)


def test_the_check_finds_a_violation_when_there_is_one(plume, open_pane):
    page = open_pane(plume())
    page.evaluate("document.querySelector('#panel-search').append(document.createElement('button'))")
    assert "button-name" in [v["id"] for v in serious_violations(page, "bouton sans nom")]
    # And each rule of the screens' other checks, broken once on purpose.
    page.evaluate("""() => {
        const panel = document.querySelector('#panel-search');
        const after = Object.assign(document.createElement('div'), {id: 'search-after'});
        for (let i = 0; i < 2; i += 1) after.append(Object.assign(document.createElement('p'), {className: 'plume-oversight', textContent: 'Texte proposé par une IA'}));
        const bar = Object.assign(document.createElement('div'), {className: 'plume-bar'});
        bar.append(document.createElement('button'), document.createElement('button'));
        for (const b of bar.children) b.textContent = 'Action';
        const said = Object.assign(document.createElement('p'), {textContent: "Réglez PLUME_LLM_BASE_URL : l'arrêt n° 23-11.537"});
        panel.append(after, bar, said);
        document.querySelector('#summarize-stop').hidden = false;
        document.querySelector('#panel-summarize').hidden = false;
    }""")
    found = {f["id"] for f in answer_faults(page, "fautes") + typography_faults(page, "fautes")}
    assert found == {"Arrêter sans tâche en cours", "deux avis IA sur une réponse",
                     "plus d’une action dans une barre de message", "réglage ou version d’API montré",
                     "apostrophe droite", "espace sécable avant une ponctuation haute",
                     "espace sécable après une abréviation", "numéro de pourvoi sécable"}, found


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_word_pane_screens_have_no_serious_violation(theme, plume, corpus, fake_llm, open_pane, screenshot):
    config = {"paragraphs": PARAGRAPHS, "selection": [0, 0], "url": "https://example.test/jugement.docx"}
    if theme == "dark":
        config["theme"] = DARK_WORD
    fake_llm.reply = "Le salarié a été licencié pour faute grave (§ 1) ; le pourvoi est rejeté (§ 2)."
    page = open_pane(plume(LLM_RETRIES=0), globals={"__officeMockConfig": config}, color_scheme=theme)
    assert page.evaluate("document.documentElement.dataset.theme") == theme
    screens = Screens("word", theme, screenshot)
    screens.check(page, "accueil")

    page.fill("#search-query", "licenciement pour faute grave")
    page.click("#search-run")
    page.wait_for_selector("#search-results .plume-card")
    screens.check(page, "résultats de recherche")
    page.click("#search-results .plume-card >> nth=0 >> [data-action=open]")
    page.wait_for_selector("#search-reader-passage")
    screens.check(page, "décision ouverte")
    page.click("#search-reader [data-action=back]")

    page.click("#tab-summarize")
    screens.check(page, "synthèse")
    # While it runs: « Arrêter », and nothing else to do with a half answer.
    slow = "Le salarié a été licencié pour faute grave (§ 1). " * 30
    fake_llm.reply, fake_llm.token_delay = slow, 0.03
    page.click("#summarize-run")
    wait_until(page, "() => document.querySelector('#summarize-output').textContent.length > 0")
    assert page.locator("#summarize-stop").is_visible()
    screens.check(page, "synthèse en cours", running=True)
    page.click("#summarize-stop")
    wait_until(page, "() => document.querySelector('#summarize-status').textContent.includes('arrêtée')")
    assert page.locator("#summarize-stop").is_hidden()
    screens.check(page, "synthèse arrêtée")
    fake_llm.reply = "Le salarié a été licencié pour faute grave (§ 1) ; le pourvoi est rejeté (§ 2)."
    fake_llm.token_delay = 0
    page.click("#summarize-run")
    page.wait_for_selector("#summarize-after [data-action=insert]")
    page.click("#summarize-after [data-action=refine]")
    screens.check(page, "synthèse et Affiner")
    page.click("#summarize-after [data-action=insert]")
    page.wait_for_selector("#summarize-after [data-outcome=inserted]")
    screens.check(page, "synthèse insérée")
    page.click("#summarize-run")
    page.wait_for_selector("#summarize-after [data-action=insert]")
    page.locator("#panel-summarize .plume-history summary").click()
    screens.check(page, "historique")

    fake_llm.then(Behaviour(status=502))
    page.get_by_role("button", name="Plus de fonctions").click()
    screens.check(page, "menu Plus")
    page.locator(".plume-tabs__menu button", has_text="Rédiger").click()
    screens.check(page, "rédiger")
    page.fill("#draft-instructions", "Motiver le rejet.")
    page.click("#draft-run")
    page.wait_for_selector("#draft-error .plume-bar")
    screens.check(page, "erreur")
    # A draft whose citation check flags a source: the check above the proposal, « J'ai vérifié ».
    fake_llm.reply = "La faute grave rend impossible le maintien du salarié [1]. Voir aussi [9]."
    page.click("#draft-run")
    page.wait_for_selector("#draft-verified")
    page.click("#draft-after [data-action=insert]")
    page.wait_for_selector("#draft-after [data-outcome=blocked]")
    screens.check(page, "rédaction à vérifier")

    open_tab(page, "rewrite")
    screens.check(page, "reformuler")
    page.click("#rewrite-run")
    page.wait_for_selector("#rewrite-after [data-action=insert]")
    page.wait_for_selector("#rewrite-diff-count:not(:empty)")
    screens.check(page, "reformulation mot à mot")

    open_tab(page, "transcribe")
    screens.check(page, "transcrire")
    open_tab(page, "dossier")
    screens.check(page, "dossier")

    open_tab(page, "pseudonymize")
    page.click("#pseudo-run")
    page.wait_for_selector("#pseudo-list li.plume-card", timeout=120_000)
    page.locator("#pseudo-list li.plume-card summary").first.click()
    screens.check(page, "pseudonymisation")

    fake_llm.reply = "Langue d'origine : français\n\nThe employee was dismissed for gross misconduct."
    open_tab(page, "translate")
    screens.check(page, "traduire")
    page.select_option("#translate-language", "en")
    page.click("#translate-run")
    page.wait_for_selector("#translate-after [data-action=insert]")
    screens.check(page, "traduction")
    screens.assert_clean()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_outlook_pane_screens_have_no_serious_violation(theme, plume, fake_llm, outlook, screenshot):
    fake_llm.reply = mail_model(reply=DRAFT, routing=ROUTING)
    dark = {"theme": {"bodyBackgroundColor": "#292929", "bodyForegroundColor": "#ffffff",
                      "controlBackgroundColor": "#1f1f1f", "controlForegroundColor": "#ffffff"}} if theme == "dark" else {}
    base = plume(LLM_RETRIES=0)
    page = outlook(base, {**POSTPONEMENT_MAIL, "attachments": attachments_scenario(), **dark}, color_scheme=theme)
    assert page.evaluate("document.documentElement.dataset.theme") == theme
    screens = Screens("outlook", theme, screenshot)
    screens.check(page, "accueil")
    page.get_by_role("button", name="Résumer le message").click()
    wait_until(page, "() => document.getElementById('summary-status').textContent === 'Résumé terminé.'")
    screens.check(page, "résumé et informations relevées")
    page.click("#tab-attachments")
    screens.check(page, "pièces jointes")
    page.click("#attachments-run-all")
    wait_until(page, "() => document.getElementById('attachments-stop').hidden"
                     " && document.getElementById('attachments-status').textContent")
    screens.check(page, "pièces jointes résumées")
    open_tab(page, "routing")  # at 320 px it may be in the « Plus » menu
    screens.check(page, "orientation")
    page.click("#routing-run")
    wait_until(page, "() => document.querySelector('.outlook-routing')")
    screens.check(page, "orientation proposée")
    open_tab(page, "dossier")
    screens.check(page, "dossier")
    page.click("#tab-summary")
    fake_llm.then(Behaviour(status=502), Behaviour(status=502))
    page.get_by_role("button", name="Résumer le message").click()
    page.wait_for_selector("#summary-error .plume-bar")
    screens.check(page, "erreur")
    # The summary may fail on the first 502 before its fields call takes the second one: a 502
    # left in the queue must not meet the next answers.
    with fake_llm.lock:
        fake_llm._queue.clear()

    fake_llm.reply = reply_or_translate
    foreign = outlook(base, {**FOREIGN_MAIL, **dark}, color_scheme=theme)
    foreign.get_by_role("button", name="Traduire en français").click()
    wait_until(foreign, "() => document.getElementById('translate-mail-status').textContent === 'Traduction terminée.'")
    screens.check(foreign, "traduction en français")

    fake_llm.reply = mail_model(reply=DRAFT, routing=ROUTING)
    compose = outlook(base, {**REPLY_MAIL, **dark}, color_scheme=theme)
    screens.check(compose, "rédiger")
    compose.click("#reply-run")
    compose.wait_for_selector("#reply-after [data-action=insert]")
    screens.check(compose, "projet de réponse")
    fake_llm.reply = reply_or_translate
    english = outlook(base, {"mode": "compose", "subject": "RE: Hearing of 12 March 2026", "body": ENGLISH_QUOTED,
                             "selection": {"start": 0, "end": 0}, **dark}, color_scheme=theme)
    english.check("input[name=reply-language][value=auto]")
    english.click("#reply-run")
    wait_until(english, "() => document.getElementById('reply-french-status').textContent.includes('version française')")
    screens.check(english, "réponse dans la langue de l’expéditeur")
    screens.assert_clean()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_observatory_and_about_have_no_serious_violation(theme, make_app, serve_app, open_pane, screenshot):
    admin = make_app(DEV_USER=ADMIN)
    seed(admin)
    base = serve_app(admin)
    screens = Screens("observatoire", theme, screenshot)
    page = open_pane(base, OBSERVATORY, color_scheme=theme)
    assert page.evaluate("document.documentElement.dataset.theme") == theme
    page.wait_for_selector("#figures:not([hidden])")
    for summary in page.locator("details.obs-table summary, [data-figure] details summary").all():
        summary.click()  # the tables under the charts, open
    screens.check(page, "chiffres")
    page.fill("#period-from", "01/01/2020")
    page.fill("#period-to", "31/01/2020")
    page.click("button[type=submit]")
    wait_until(page, "() => document.getElementById('status').textContent.includes('01/01/2020')")
    screens.check(page, "période vide")
    page.fill("#period-from", "31/02/2026")
    page.click("button[type=submit]")
    wait_until(page, "() => document.getElementById('problem').textContent.length > 0")
    screens.check(page, "date invalide")
    page.click("a.plume-header__link")
    page.locator("#about-decisions").wait_for()
    screens.check(page, "à propos")

    reserved = open_pane(serve_app(make_app(DEV_USER=MAGISTRAT)), OBSERVATORY, color_scheme=theme)
    screens.check(reserved, "réservé aux administrateurs")
    screens.assert_clean()


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


def focused(page) -> str:
    return page.evaluate("document.activeElement.id")


def press_until(page, key: str, condition: str, limit: int = 40) -> None:
    """Presses ``key`` until ``condition`` (a script on the page) holds: the way a keyboard
    user moves, with no click and no focus set by the test."""
    for _ in range(limit):
        if page.evaluate(condition):
            return
        page.keyboard.press(key)
    assert page.evaluate(condition), f"{key} × {limit} never reached {condition}; focus on {focused(page)!r}"


def keyboard_to_panel(page, name: str) -> None:
    """From anywhere in the pane, back to the tab list with Maj+Tab, to the tab with the arrows
    (a tab in the « Plus » menu comes in turn), then Tab into its panel."""
    press_until(page, "Shift+Tab", "document.activeElement.getAttribute('role') === 'tab'")
    press_until(page, "ArrowRight", f"document.activeElement.id === 'tab-{name}'")
    assert page.locator(f"#panel-{name}").is_visible()
    press_until(page, "Tab", f"document.getElementById('panel-{name}').contains(document.activeElement)")


def runs_then_stops(page, name: str, stopped: str) -> None:
    """Ctrl+Entrée starts the panel's task, « Arrêter » shows while it runs, Échap stops it."""
    assert page.locator(f"#{name}-stop").is_hidden()
    page.keyboard.press("Control+Enter")
    wait_until(page, f"() => !document.getElementById('{name}-stop').hidden")
    page.keyboard.press("Escape")
    wait_until(page, f"() => document.getElementById('{name}-stop').hidden")
    assert stopped in page.inner_text(f"#{name}-status")


def test_keyboard_only_on_each_word_tab(plume, corpus, fake_llm, open_pane):
    # Long, slow answers: each is stopped long before its end, however loaded the machine is.
    fake_llm.reply = "Premier point. " * 400
    fake_llm.token_delay = 0.05
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 1]}})
    # From the top of the page: the « À propos » link, then the selected tab.
    press_until(page, "Tab", "document.activeElement.id === 'tab-search'")

    keyboard_to_panel(page, "search")
    assert focused(page) == "search-query"
    page.keyboard.type("licenciement pour faute grave")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#search-results .plume-card")
    # The first result's actions are reached with Tab.
    press_until(page, "Tab", "document.activeElement.dataset.action === 'cite'")

    keyboard_to_panel(page, "summarize")
    runs_then_stops(page, "summarize", "arrêtée")

    keyboard_to_panel(page, "draft")
    assert focused(page) == "draft-instructions"
    page.keyboard.type("Motiver le rejet du pourvoi.")
    runs_then_stops(page, "draft", "arrêtée")

    keyboard_to_panel(page, "rewrite")
    runs_then_stops(page, "rewrite", "arrêtée")

    keyboard_to_panel(page, "transcribe")
    page.keyboard.press("Control+Enter")  # no recording chosen yet: said, nothing sent
    wait_until(page, "() => document.getElementById('panel-transcribe').innerText.includes('Choisissez d')")

    keyboard_to_panel(page, "dossier")
    keyboard_to_panel(page, "pseudonymize")

    keyboard_to_panel(page, "translate")
    runs_then_stops(page, "translate", "arrêtée")
    # Nothing ran that the keyboard did not start, and no task is left running.
    assert page.locator("[data-shortcut=stop]:not([hidden])").count() == 0


def test_keyboard_only_on_each_outlook_tab(plume, fake_llm, outlook):
    fake_llm.reply = mail_model(summary="Le conseil demande le renvoi. " * 300, routing=ROUTING,
                                attachment=lambda name: "Pièce : conclusions. " * 300)
    fake_llm.token_delay = 0.05
    page = outlook(plume(), {**POSTPONEMENT_MAIL, "attachments": attachments_scenario()})
    press_until(page, "Tab", "document.activeElement.id === 'tab-summary'")

    keyboard_to_panel(page, "summary")
    runs_then_stops(page, "summary", "arrêté")
    # « Traduire en français », beside the summary, is on the Tab path too.
    press_until(page, "Tab", "document.activeElement.id === 'translate-mail-run'")

    keyboard_to_panel(page, "attachments")
    runs_then_stops(page, "attachments", "arrêté")

    fake_llm.token_delay = 0
    keyboard_to_panel(page, "routing")
    page.keyboard.press("Control+Enter")
    wait_until(page, "() => document.querySelector('.outlook-routing')")
    press_until(page, "Tab", "document.activeElement.dataset.action === 'category'")

    keyboard_to_panel(page, "dossier")
    assert page.locator("[data-shortcut=stop]:not([hidden])").count() == 0
