"""Every failure the pane can meet is shown in French with what to do, produced by the real
server (auth, roles, quotas, configuration, the LLM host misbehaving, the server gone)."""
from __future__ import annotations

import time

from tests.fakes.idp import CLIENT_ID, TENANT
from tests.fakes.upstream import Behaviour

from .conftest import fake_llm_settings, wait_until

SELECTION = {"__officeMockConfig": {"paragraphs": ["Attendu que le pourvoi est recevable."], "selection": [0, 0]}}


def error_box(page, panel: str) -> dict:
    page.wait_for_selector(f"#{panel}-error [role=alert]")
    return page.evaluate("""(panel) => {
        const box = document.querySelector(`#${panel}-error [role=alert]`);
        return {
            code: box.dataset.errorCode,
            title: box.querySelector('.plume-message__title').textContent,
            text: box.querySelector('.plume-message__text')?.textContent || '',
            action: box.querySelector('.plume-message__action')?.textContent || '',
        };
    }""", panel)


def summarize(page) -> None:
    page.click("#tab-summarize")
    page.click("#summarize-run")


def test_not_signed_in(make_app, serve_app, idp, fake_llm, open_pane):
    base = serve_app(make_app(**fake_llm_settings(fake_llm), AUTH_MODE="entra", AUTH_TENANT_ID=TENANT,
                              AUTH_CLIENT_ID=CLIENT_ID, AUTH_OPENID_CONFIG_URL=idp.discovery_url))
    page = open_pane(base, globals=SELECTION)
    summarize(page)
    box = error_box(page, "summarize")
    assert box["title"] == "Connexion requise"
    assert "Reconnectez-vous" in box["action"]
    assert fake_llm.chat_requests() == []


def test_role_not_allowed(plume, fake_llm, open_pane, screenshot):
    clerk = {"id": "greffe-1", "name": "Greffier", "roles": ["Plume.Greffier"], "jurisdictions": []}
    page = open_pane(plume(DEV_USER=clerk), globals=SELECTION)
    summarize(page)
    box = error_box(page, "summarize")
    assert box["code"] == "acces_refuse" and box["title"] == "Accès refusé"
    assert "administrateur" in box["action"]
    assert fake_llm.chat_requests() == []
    screenshot(page, "word-error-role")


def test_quota_reached_says_when_to_retry(plume, open_pane, screenshot):
    page = open_pane(plume(QUOTA_REQUESTS_PER_MINUTE=1), globals=SELECTION)
    summarize(page)
    page.wait_for_selector("#summarize-after [data-action=insert]")
    page.click("#summarize-run")
    box = error_box(page, "summarize")
    assert box["code"] == "quota_depasse" and box["title"] == "Quota atteint"
    assert box["action"].startswith("Réessayez dans ") and box["action"].endswith(("secondes.", "seconde.", "minute."))
    screenshot(page, "word-error-quota")


def test_no_llm_host_configured(make_app, serve_app, open_pane, screenshot):
    page = open_pane(serve_app(make_app()), globals=SELECTION)
    assert "PLUME_LLM_BASE_URL" in page.inner_text("[data-banner=models]")
    summarize(page)
    box = error_box(page, "summarize")
    assert box["code"] == "non_configure" and box["title"] == "Fonction non configurée"
    assert "PLUME_LLM_BASE_URL" in box["text"] and "administrateur" in box["action"]
    screenshot(page, "word-error-not-configured")


def test_llm_host_down(plume, fake_llm, open_pane):
    fake_llm.then(*[Behaviour(status=502) for _ in range(10)])
    page = open_pane(plume(), globals=SELECTION)
    summarize(page)
    box = error_box(page, "summarize")
    assert box["title"] == "Service d'IA indisponible"
    assert "Réessayez dans quelques instants" in box["action"]
    assert page.locator("#summarize-output").is_hidden()


def test_llm_host_saturated_says_when_to_retry(plume, fake_llm, open_pane):
    fake_llm.then(*[Behaviour(status=429, retry_after="1") for _ in range(10)])
    page = open_pane(plume(LLM_RETRY_AFTER_MAX_SECONDS=1), globals=SELECTION)
    summarize(page)
    box = error_box(page, "summarize")
    assert box["title"] == "Service momentanément indisponible"
    assert box["action"].startswith("Réessayez dans ")


def test_server_unreachable(make_app, serve_app, fake_llm, open_pane):
    app = make_app(**fake_llm_settings(fake_llm))
    page = open_pane(serve_app(app), globals=SELECTION)
    app.extensions["plume.live_server"].stop()
    page.fill("#search-query", "faute grave")
    page.click("#search-run")
    box = error_box(page, "search")
    assert box["code"] == "reseau" and box["title"] == "Serveur injoignable"
    assert "connexion" in box["action"]


def test_stream_broken_midway_keeps_the_text(plume, fake_llm, open_pane, screenshot):
    fake_llm.reply = "Premier point établi. Deuxième point établi. Troisième point jamais reçu."
    fake_llm.then(Behaviour(reset_after=6))
    page = open_pane(plume(), globals=SELECTION)
    summarize(page)
    box = error_box(page, "summarize")
    assert box["title"] == "La génération a été interrompue"
    assert box["text"]  # the server's own French sentence
    assert box["action"] == "Relancez la demande pour obtenir une réponse complète."
    kept = wait_until(page, "() => document.querySelector('#summarize-output').textContent")
    assert kept.startswith("Premier point établi.") and "jamais reçu" not in kept
    assert page.locator("#summarize-after [data-action=insert]").count() == 0
    assert page.inner_text("#summarize-status") == "Réponse incomplète : le texte reçu est conservé ci-dessous."
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
