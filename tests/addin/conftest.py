"""Browser fixtures for the task-pane tests (Word and Outlook).

- ``browser``: one headless Debian Chromium for the session, driven by Python playwright
  (``executable_path=/usr/bin/chromium``; never ``playwright install``).
- ``serve_app(app)`` (tests/conftest.py): serves a real Plume application on a free port.
- ``plume``: a served Plume in development mode whose LLM host is the ``fake_llm`` upstream.
- ``open_pane(base_url, path, ...)``: a 320-px-wide page of a pane with Microsoft's Office.js
  replaced by a mock from this folder (``page.route``), configured before the page loads.
- ``screenshot(page, name)``: saves ``tests/output/screenshots/<name>.png`` (git-ignored) so a
  person can look at each pane.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parent / "output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
OFFICE_JS = "https://appsforoffice.microsoft.com/**/office.js"
PANE_WIDTH = 320
PANE_HEIGHT = 900
# Playwright waits (ms): generous, the machine is small and runs other suites at once.
WAIT_MS = 15_000
POLL_SECONDS = 0.02


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def fake_llm_settings(fake_llm: Any) -> dict[str, Any]:
    """Settings that point generation, transcription and embeddings at the fake upstream,
    with short deadlines so that faults show quickly."""
    return {
        "LLM_BASE_URL": fake_llm.url,
        "LLM_MODEL": "fake-chat",
        "LLM_TRANSCRIPTION_MODEL": "fake-whisper",
        "LLM_BACKOFF_SECONDS": 0.01,
        "LLM_TIMEOUT_CONNECT": 2.0,
        "LLM_TIMEOUT_FIRST_TOKEN": 5.0,
        "LLM_TIMEOUT_CHUNK": 5.0,
        "LLM_TIMEOUT_TOTAL": 30.0,
        "EMBEDDINGS_BASE_URL": fake_llm.url,
        "EMBEDDINGS_MODEL": "fake-embeddings",
        "EMBED_IN_BACKGROUND": False,
    }


@pytest.fixture
def plume(make_app, serve_app, fake_llm):
    """A served Plume (dev mode, all roles) whose LLM host is the fake upstream.

    Returns a factory: ``plume(**overrides) -> base_url``.
    """

    def start(**overrides: Any) -> str:
        return serve_app(make_app(**{**fake_llm_settings(fake_llm), **overrides}))

    return start


CORPUS = HERE.parents[1] / "backend" / "data" / "corpus" / "decisions.jsonl"
# Sample-corpus decisions the search and draft tests use: six Cour de cassation social
# chamber decisions about « faute grave » (Rejet, Cassation…) and one commercial one.
CORPUS_IDS = ("jurinet-2004811", "jurinet-2004812", "jurinet-2004817", "jurinet-2004819",
              "jurinet-2004820", "jurinet-2004825", "judilibre-5fca277de35a255d41ca73ab")


@pytest.fixture
def corpus(make_app, fake_llm, tmp_path) -> list[dict[str, Any]]:
    """A few real decisions of the sample corpus, ingested (lexical search works at once)."""
    from backend import retrieval

    decisions = [json.loads(line) for line in CORPUS.open(encoding="utf-8")]
    chosen = [d for d in decisions if d["id"] in CORPUS_IDS]
    path = tmp_path / "decisions.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in chosen), encoding="utf-8")
    app = make_app(**fake_llm_settings(fake_llm))
    with app.app_context():
        report = retrieval.ingest_paths([str(path)], progress=False)
        assert not report.failed_files, report.summary()
        assert retrieval.count_decisions() == len(CORPUS_IDS)
    return chosen


@pytest.fixture
def open_pane(browser) -> Iterator[Callable[..., Any]]:
    """Opens a pane page with an Office.js mock.

    ``open_pane(base_url, path="/addin/word/", mock="office_mock.js", globals={...},
    wait_ready=True, fake_clock=False)``: ``globals`` are set on ``window`` before any script
    runs (e.g. ``{"__officeMockConfig": {...}}``); with ``wait_ready`` the call returns once
    the pane marked ``body[data-ready]``; with ``fake_clock`` the page's timers run on
    Playwright's clock (time flows, and ``page.clock.fast_forward(ms)`` jumps ahead).
    """
    contexts = []

    def open_(base_url: str, path: str = "/addin/word/", *, mock: str = "office_mock.js",
              globals: dict[str, Any] | None = None, wait_ready: bool = True,
              width: int = PANE_WIDTH, height: int = PANE_HEIGHT, color_scheme: str = "light",
              fake_clock: bool = False) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR",
                                      color_scheme=color_scheme)
        contexts.append(context)
        context.set_default_timeout(WAIT_MS)
        script = (HERE / mock).read_text(encoding="utf-8")
        context.route(OFFICE_JS, lambda route: route.fulfill(
            status=200, content_type="application/javascript", body=script))
        for name, value in (globals or {}).items():
            context.add_init_script(f"window[{json.dumps(name)}] = {json.dumps(value)};")
        if fake_clock:
            context.clock.install()
        page = context.new_page()
        page.console_messages = []
        page.on("console", lambda msg: page.console_messages.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda err: page.console_messages.append(f"pageerror: {err}"))
        page.goto(f"{base_url}{path}")
        if wait_ready:
            page.wait_for_selector("body[data-ready='true']")
        return page

    yield open_
    for context in contexts:
        context.close()



@pytest.fixture
def outlook(open_pane):
    """``outlook(base_url, scenario, wait_ready=True)``: the Outlook pane on that mail
    (``scenario``: the mock mailbox's item, see outlook_fixtures.py)."""
    from .outlook_fixtures import MOCK, PANE

    def open_(base_url: str, scenario: dict[str, Any], **kwargs: Any) -> Any:
        return open_pane(base_url, PANE, mock=MOCK, globals={"__outlookScenario": scenario}, **kwargs)

    return open_

@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    def take(page: Any, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def word_calls(page: Any) -> list[dict[str, Any]]:
    """The Word API calls the pane made (``context.sync`` left out), in order."""
    return page.evaluate("window.__officeCalls.filter((call) => call.api !== 'context.sync')")


def word_state(page: Any) -> dict[str, Any]:
    """The mock document: paragraphs, tracking mode, footnotes, comments, content controls."""
    return page.evaluate("""() => {
        const s = window.__officeState;
        return {paragraphs: s.paragraphs, trackingMode: s.trackingMode, footnotes: s.footnotes,
                comments: s.comments, contentControls: s.contentControls, selected: s.selected};
    }""")


class FeedbackLog:
    """Records the pane's POST /api/v1/feedback calls and the server's status for each."""

    def __init__(self, page: Any):
        self.page = page
        self.sent: list[tuple[dict[str, Any], int]] = []
        page.on("response", self._seen)

    def wait(self, count: int) -> None:
        """Waits until ``count`` answers were seen (events reach Python while it waits)."""
        deadline = time.monotonic() + WAIT_MS / 1000
        while len(self.sent) < count and time.monotonic() < deadline:
            self.page.wait_for_timeout(20)
        self.page.wait_for_timeout(200)  # and no extra call right after

    def _seen(self, response: Any) -> None:
        if response.url.endswith("/api/v1/feedback") and response.request.method == "POST":
            self.sent.append((json.loads(response.request.post_data or "{}"), response.status))


def wait_until(page: Any, script: str, arg: Any = None, timeout_ms: int = WAIT_MS) -> Any:
    """Polls ``page.evaluate(script, arg)`` until it is truthy and returns it.

    Playwright's own ``wait_for_function`` evaluates strings with ``eval``, which the panes'
    Content-Security-Policy rightly forbids; the tests keep the real CSP and poll instead.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        value = page.evaluate(script, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_ms} ms: {script}")
        time.sleep(POLL_SECONDS)


AXE = "/addin/vendor/axe.min.js"


def serious_violations(page: Any, screen: str) -> list[dict[str, Any]]:
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


# French typography faults in text shown (the renderer must have fixed each): a straight
# apostrophe between letters, an ordinary (breakable) space before « : ; ? ! », inside « »,
# after « n° », « M. », « Mme », and an ordinary hyphen inside a pourvoi number.
TYPOGRAPHY_FAULTS = r"""[
  ["apostrophe droite", "\\p{L}'\\p{L}"],
  ["espace sécable avant une ponctuation haute", " [:;?!](?=\\s|$)"],
  ["espace sécable dans des guillemets", "« | »"],
  ["espace sécable après une abréviation", "(?:\\bn°|\\bM\\.|\\bMme) (?=[\\p{L}\\p{N}])"],
  ["numéro de pourvoi sécable", "\\b\\d{2}-\\d{2}\\.\\d{3}\\b"]
]"""


def typography_faults(page: Any, screen: str) -> list[dict[str, Any]]:
    """The text shown on the page (not what the user types) that breaks French typography."""
    found = page.evaluate("""(rules) => {
        const checks = JSON.parse(rules).map(([name, source]) => [name, new RegExp(source, 'u')]);
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        const faults = [];
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const parent = node.parentElement;
            if (!parent || parent.closest('script, style, textarea, code, pre, [hidden]')) continue;
            if (!parent.getClientRects().length) continue;
            for (const [name, pattern] of checks) {
                const hit = pattern.exec(node.nodeValue);
                if (hit) faults.push({id: name, text: node.nodeValue.slice(Math.max(0, hit.index - 30), hit.index + 30)});
            }
        }
        return faults;
    }""", TYPOGRAPHY_FAULTS)
    return [{"screen": screen, **fault} for fault in found]


def answer_faults(page: Any, screen: str, running: bool = False) -> list[dict[str, Any]]:
    """What #22 says every screen must not show: « Arrêter » when nothing runs, two AI notices
    on one answer, a message bar with more than one action, a setting name or an API version."""
    found = page.evaluate("""(running) => {
        const shown = (el) => el.getClientRects().length > 0 && !el.closest('[hidden]');
        const faults = [];
        const stops = [...document.querySelectorAll('[data-shortcut=stop]')].filter(shown);
        if (!running && stops.length) faults.push({id: 'Arrêter sans tâche en cours', text: stops.map((b) => b.id).join(', ')});
        for (const answer of document.querySelectorAll('[id$="-after"]')) {
            const notices = [...answer.querySelectorAll('.plume-oversight')].filter(shown);
            if (notices.length > 1) faults.push({id: 'deux avis IA sur une réponse', text: answer.id});
        }
        for (const bar of [...document.querySelectorAll('.plume-bar')].filter(shown)) {
            const actions = [...bar.querySelectorAll('button')].filter(shown);
            if (actions.length > 1) faults.push({id: 'plus d’une action dans une barre de message', text: bar.innerText});
        }
        const internals = /\\bPLUME_[A-Z0-9_]+|\\b(?:WordApi|Mailbox)\\s*\\d|\\bvecteurs?\\b|\\bembeddings?\\b/i;
        const hit = internals.exec(document.body.innerText);
        if (hit) faults.push({id: 'réglage ou version d’API montré', text: hit[0]});
        return faults;
    }""", running)
    return [{"screen": screen, **fault} for fault in found]


def open_tab(page: Any, name: str) -> None:
    """Opens the pane's tab ``#tab-<name>`` as a user would: directly when it is on the tab
    bar, through the « Plus » menu when it did not fit (at 320 px, some do not)."""
    tab = page.locator(f"#tab-{name}")
    if tab.is_visible():
        tab.click()
        return
    page.get_by_role("button", name="Plus de fonctions").click()
    page.locator(f".plume-tabs__menu button[data-panel='panel-{name}']").click()


def plain(text: str) -> str:
    """Displayed text without the renderer's French typography (no-break spaces and hyphens,
    typographic apostrophes), to compare it with what the model wrote."""
    return (text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2011", "-").replace("’", "'"))
