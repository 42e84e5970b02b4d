"""Every failure the pane can meet is shown as a message bar — an icon, one French sentence
said once, one action (« Réessayer », « Se reconnecter », « Copier pour l'administrateur ») —
produced by the real server (auth, roles, quotas, configuration, the LLM host misbehaving, the
server gone). Setting names and API versions go only into the report copied for the administrator."""
from __future__ import annotations

import time

from tests.fakes.idp import CLIENT_ID, TENANT
from tests.fakes.upstream import Behaviour

from .conftest import fake_llm_settings, open_tab, plain, wait_until

SELECTION = {"__officeMockConfig": {"paragraphs": ["Attendu que le pourvoi est recevable."], "selection": [0, 0]}}


def error_box(page, panel: str) -> dict:
    """The message bar of ``panel``: its code, sentence, action, button, and everything shown."""
    page.wait_for_selector(f"#{panel}-error .plume-bar")
    box = page.evaluate("""(panel) => {
        const box = document.querySelector(`#${panel}-error .plume-bar`);
        const button = box.querySelector('button');
        return {
            code: box.dataset.errorCode,
            text: box.querySelector('.plume-bar__text').textContent,
            action: box.dataset.next,
            button: button ? button.textContent : null,
            icon: box.querySelector('.plume-bar__icon').textContent,
            shown: document.querySelector(`#${panel}-error`).innerText,
            status: document.querySelector(`#${panel}-status`).textContent,
        };
    }""", panel)
    return {key: plain(value) if isinstance(value, str) else value for key, value in box.items()}


def said_once(box: dict) -> None:
    """One sentence, said once: not repeated in the status line, no setting or API version."""
    assert box["icon"] and box["text"]
    assert box["status"] == ""
    for technical in ("PLUME_", "WordApi", "Mailbox 1.", "vecteurs"):
        assert technical not in box["shown"]
    sentences = [s for s in box["text"].split(". ") if s]
    assert len(sentences) == len(set(sentences)), box["text"]


def summarize(page) -> None:
    open_tab(page, "summarize")
    page.click("#summarize-run")


def test_not_signed_in(make_app, serve_app, idp, fake_llm, open_pane):
    base = serve_app(make_app(**fake_llm_settings(fake_llm), AUTH_MODE="entra", AUTH_TENANT_ID=TENANT,
                              AUTH_CLIENT_ID=CLIENT_ID, AUTH_OPENID_CONFIG_URL=idp.discovery_url))
    page = open_pane(base, globals=SELECTION)
    summarize(page)
    box = error_box(page, "summarize")
    said_once(box)
    assert box["action"] == "sign-in" and box["button"] == "Se reconnecter"
    assert fake_llm.chat_requests() == []


def test_role_not_allowed(plume, fake_llm, open_pane, screenshot):
    """The pane hides the tabs a role does not reach (test_tabs.py); when it could not read
    the user's roles (``/me`` failed), every tab shows and the server's 403 is explained."""
    clerk = {"id": "greffe-1", "name": "Greffier", "roles": ["Plume.Greffier"], "jurisdictions": []}
    base = plume(DEV_USER=clerk)
    page = open_pane(base, globals=SELECTION, wait_ready=False)
    page.route("**/api/v1/me", lambda route: route.fulfill(status=503, body="{}", content_type="application/json"))
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    summarize(page)
    box = error_box(page, "summarize")
    said_once(box)
    assert box["code"] == "acces_refuse" and "administrateur" in box["text"]
    assert box["button"] == "Copier pour l'administrateur"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("#summarize-error [data-action=copy-report]")
    page.wait_for_selector("#summarize-error .plume-bar__status:has-text('Rapport copié')")
    report = page.evaluate("navigator.clipboard.readText()")
    assert "Code : acces_refuse" in report and "Statut HTTP : 403" in report and "/addin/word/" in report
    assert fake_llm.chat_requests() == []
    screenshot(page, "word-error-role")


def test_quota_reached_says_when_to_retry(plume, open_pane, screenshot):
    page = open_pane(plume(QUOTA_REQUESTS_PER_MINUTE=1), globals=SELECTION)
    summarize(page)
    page.wait_for_selector("#summarize-after [data-action=insert]")
    page.click("#summarize-run")
    box = error_box(page, "summarize")
    said_once(box)
    # Said once: the server's « Réessayez dans N secondes » is not repeated, the button counts down.
    assert box["code"] == "quota_depasse" and "Réessayez" not in box["text"]
    assert box["action"] == "retry" and box["button"].startswith("Réessayer dans ") and box["button"].endswith(" s")
    first = int(box["button"].split()[2])
    button = page.locator("#summarize-error [data-action=retry]")
    assert button.get_attribute("aria-disabled") == "true"
    wait_until(page, "(n) => parseInt(document.querySelector('#summarize-error [data-action=retry]')"
                     ".textContent.split(' ')[2]) < n", first)
    screenshot(page, "word-error-quota")


def test_no_llm_host_configured(make_app, serve_app, open_pane, screenshot):
    page = open_pane(serve_app(make_app()), globals=SELECTION)
    banner = plain(page.inner_text("[data-banner=models]"))
    assert "Aucun service d'IA n'est configuré" in banner and "PLUME_" not in banner
    summarize(page)
    box = error_box(page, "summarize")
    said_once(box)
    assert box["code"] == "non_configure" and "administrateur" in box["text"]
    assert box["button"] == "Copier pour l'administrateur"
    # The setting to fill goes to the administrator, in the copied report.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("#summarize-error [data-action=copy-report]")
    page.wait_for_selector("#summarize-error .plume-bar__status:has-text('Rapport copié')")
    assert "PLUME_LLM_BASE_URL" in page.evaluate("navigator.clipboard.readText()")
    screenshot(page, "word-error-not-configured")


def test_llm_host_down(plume, fake_llm, open_pane):
    fake_llm.then(*[Behaviour(status=502) for _ in range(10)])
    page = open_pane(plume(), globals=SELECTION)
    summarize(page)
    box = error_box(page, "summarize")
    said_once(box)
    assert box["text"] == "Le service d'IA ne répond pas correctement."
    assert box["action"] == "retry" and box["button"] == "Réessayer"
    assert page.locator("#summarize-output").is_hidden()


def test_llm_host_saturated_counts_down_then_retries(plume, fake_llm, open_pane):
    fake_llm.then(Behaviour(status=429, retry_after="2"))
    fake_llm.reply = "Le pourvoi est recevable (§ 1)."
    page = open_pane(plume(LLM_RETRY_AFTER_MAX_SECONDS=2, LLM_RETRIES=0), globals=SELECTION)
    summarize(page)
    box = error_box(page, "summarize")
    said_once(box)
    assert box["action"] == "retry" and box["button"].startswith("Réessayer dans ")
    button = page.locator("#summarize-error [data-action=retry]")
    button.click(force=True)  # too early: nothing happens while it counts down
    page.wait_for_timeout(300)
    assert len(fake_llm.chat_requests()) == 1 and page.locator("#summarize-output").is_hidden()
    wait_until(page, "() => document.querySelector('#summarize-error [data-action=retry]')?.textContent === 'Réessayer'")
    assert button.get_attribute("aria-disabled") is None
    button.click()
    page.wait_for_selector("#summarize-after [data-action=insert]")
    assert page.locator("#summarize-error").is_hidden()
    assert len(fake_llm.chat_requests()) == 2


def test_server_unreachable(make_app, serve_app, fake_llm, open_pane):
    app = make_app(**fake_llm_settings(fake_llm))
    page = open_pane(serve_app(app), globals=SELECTION)
    app.extensions["plume.live_server"].stop()
    page.fill("#search-query", "faute grave")
    page.click("#search-run")
    box = error_box(page, "search")
    said_once(box)
    assert box["code"] == "reseau" and "VPN" in box["text"] and box["button"] == "Réessayer"


def test_stream_broken_midway_keeps_the_text(plume, fake_llm, open_pane, screenshot):
    fake_llm.reply = "Premier point établi. Deuxième point établi. Troisième point jamais reçu."
    fake_llm.then(Behaviour(reset_after=6))
    page = open_pane(plume(), globals=SELECTION)
    summarize(page)
    box = error_box(page, "summarize")
    said_once(box)
    assert "conservé" in box["text"] and box["text"].count("incomplet") == 1
    assert box["button"] == "Réessayer"
    kept = wait_until(page, "() => document.querySelector('#summarize-output').textContent")
    assert kept.startswith("Premier point établi.") and "jamais reçu" not in kept
    # An incomplete answer can be copied, regenerated or discarded, never inserted.
    assert page.locator("#summarize-after [data-action=insert]").count() == 0
    assert page.locator("#summarize-after [data-action=regenerate]").count() == 1
    assert page.locator("#summarize-after .plume-oversight").count() == 1
    screenshot(page, "word-error-midstream")


def test_signed_in_through_office_sso_and_an_expired_token_is_renewed_once(
        make_app, serve_app, idp, fake_llm, open_pane):
    expired = idp.token(exp=int(time.time()) - 600, iat=int(time.time()) - 4000, nbf=int(time.time()) - 4000)
    base = serve_app(make_app(**fake_llm_settings(fake_llm), AUTH_MODE="entra", AUTH_TENANT_ID=TENANT,
                              AUTH_CLIENT_ID=CLIENT_ID, AUTH_OPENID_CONFIG_URL=idp.discovery_url))
    page = open_pane(base, globals={"__officeMockConfig": {**SELECTION["__officeMockConfig"],
                                                           "ssoTokens": [expired, idp.token()]}})
    page.fill("#search-query", "faute grave")
    page.click("#search-run")
    page.wait_for_selector("#search-status:has-text('Aucune décision')")
    assert page.locator("#search-error").is_hidden()
    sso = page.evaluate("window.__officeCalls.filter((c) => c.api === 'Office.auth.getAccessToken').length")
    assert sso == 2  # the expired token was refused once, then a fresh one was used from then on


def test_se_reconnecter_signs_in_again_and_reruns_the_task(make_app, serve_app, idp, fake_llm, open_pane, screenshot):
    fake_llm.reply = "Le pourvoi est recevable (§ 1)."
    expired = idp.token(exp=int(time.time()) - 600, iat=int(time.time()) - 4000, nbf=int(time.time()) - 4000)
    base = serve_app(make_app(**fake_llm_settings(fake_llm), AUTH_MODE="entra", AUTH_TENANT_ID=TENANT,
                              AUTH_CLIENT_ID=CLIENT_ID, AUTH_OPENID_CONFIG_URL=idp.discovery_url))
    page = open_pane(base, globals={"__officeMockConfig": {**SELECTION["__officeMockConfig"], "ssoTokens": [expired]}})
    summarize(page)
    box = error_box(page, "summarize")
    said_once(box)
    assert box["action"] == "sign-in" and box["button"] == "Se reconnecter"
    assert fake_llm.chat_requests() == []
    screenshot(page, "word-error-session")

    # The user signs in again: from now on Office gives a valid token.
    fresh = idp.token()
    page.evaluate("""(token) => {
        Office.auth.getAccessToken = (options) => {
            window.__officeCalls.push({api: 'Office.auth.getAccessToken', args: [options || {}], fresh: true});
            return Promise.resolve(token);
        };
    }""", fresh)
    sent = []
    page.on("request", lambda r: sent.append(r.headers.get("authorization")) if "/api/v1/assist/" in r.url else None)
    page.click("#summarize-error [data-action=sign-in]")
    page.wait_for_selector("#summarize-after [data-action=insert]")
    assert page.locator("#summarize-error").is_hidden()
    assert "Le pourvoi est recevable" in plain(page.inner_text("#summarize-output"))
    assert sent == [f"Bearer {fresh}"]  # the cached expired token was forgotten, the task ran once
    assert len(fake_llm.chat_requests()) == 1
