"""Every failure the Outlook pane can meet, as a message bar (icon, one French sentence, one
action); the stop button; and sign-in with Office SSO against a fake Entra ID."""
from __future__ import annotations

import time

import pytest

from tests.fakes.idp import CLIENT_ID, TENANT
from tests.fakes.upstream import Behaviour

from .conftest import fake_llm_settings, plain, wait_until
from .outlook_fixtures import POSTPONEMENT_MAIL, mail_model, outlook_calls
from .test_outlook_compose import DRAFT, REPLY_MAIL, draft_reply


def summarize(page):
    page.get_by_role("button", name="Résumer le message").click()
    wait_until(page, "() => !document.getElementById('summary-error').hidden"
                     " || document.getElementById('summary-status').textContent.includes('terminé')")
    return page.locator("#summary-error .plume-bar")


def said_once(alert) -> str:
    """The bar's sentence; nothing technical on screen, and no sentence twice."""
    shown = plain(alert.inner_text())
    for technical in ("PLUME_", "Mailbox 1.", "WordApi", "vecteurs"):
        assert technical not in shown
    text = plain(alert.locator(".plume-bar__text").inner_text())
    parts = [p for p in text.split(". ") if p]
    assert len(parts) == len(set(parts)), text
    return text


def test_no_model_configured(plume, outlook, screenshot):
    page = outlook(plume(LLM_BASE_URL=None), POSTPONEMENT_MAIL)
    alert = summarize(page)
    assert alert.get_attribute("data-error-code") == "non_configure"
    assert "administrateur" in said_once(alert)
    assert plain(alert.get_by_role("button").inner_text()) == "Copier pour l'administrateur"
    banner = plain(page.locator("#banners").inner_text())
    assert "Aucun service d'IA n'est configuré" in banner and "PLUME_" not in banner
    screenshot(page, "outlook-erreur-non-configure")


def test_model_host_down(plume, fake_llm, outlook, screenshot):
    fake_llm.then(*[Behaviour(status=503)] * 6)
    page = outlook(plume(LLM_RETRIES=0), POSTPONEMENT_MAIL)
    alert = summarize(page)
    assert said_once(alert) == "Le service d'IA ne répond pas correctement."
    assert plain(alert.get_by_role("button").inner_text()) == "Réessayer"
    screenshot(page, "outlook-erreur-hote-indisponible")


def test_quota_reached(plume, fake_llm, outlook, screenshot):
    fake_llm.reply = mail_model()
    page = outlook(plume(QUOTA_REQUESTS_PER_MINUTE=1), POSTPONEMENT_MAIL)
    assert summarize(page).count() == 0
    alert = summarize(page)
    assert alert.get_attribute("data-error-code") == "quota_depasse"
    assert "Réessayez" not in said_once(alert)  # the button counts down instead
    assert plain(alert.get_by_role("button").inner_text()).startswith("Réessayer dans ")
    screenshot(page, "outlook-erreur-quota")


def test_role_without_mail_tasks(plume, outlook, screenshot):
    """With its roles unknown (``/me`` failed), the pane shows the tabs and explains the 403;
    with them known it shows none (test_tabs.py)."""
    page = outlook(plume(DEV_USER={"id": "mag", "name": "Magistrate", "roles": ["Plume.Magistrat"]}),
                   POSTPONEMENT_MAIL, wait_ready=False)
    page.route("**/api/v1/me", lambda route: route.fulfill(status=503, body="{}", content_type="application/json"))
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    alert = summarize(page)
    assert alert.get_attribute("data-error-code") == "acces_refuse"
    assert "administrateur Plume peut vous attribuer le rôle" in said_once(alert)
    assert plain(alert.get_by_role("button").inner_text()) == "Copier pour l'administrateur"
    screenshot(page, "outlook-erreur-role")


def test_stream_cut_midway_keeps_the_text_received(plume, fake_llm, outlook, screenshot):
    fake_llm.reply = mail_model(summary="Maître Martin demande le renvoi de l'audience du 12 mars 2026 "
                                        "pour raison de santé de son client.")
    # The summary and the fields are asked for at once: whichever comes first, both are cut.
    fake_llm.then(Behaviour(reset_after=4), Behaviour(reset_after=4))
    page = outlook(plume(LLM_RETRIES=0), POSTPONEMENT_MAIL)
    alert = summarize(page)
    assert "incomplet" in said_once(alert)
    assert plain(page.locator("#summary-output").inner_text()).startswith("Maître Martin")
    screenshot(page, "outlook-erreur-flux-coupe")


def test_server_unreachable(make_app, serve_app, fake_llm, outlook, screenshot):
    app = make_app(**fake_llm_settings(fake_llm))
    page = outlook(serve_app(app), POSTPONEMENT_MAIL)
    app.extensions["plume.live_server"].stop()
    alert = summarize(page)
    assert alert.get_attribute("data-error-code") == "reseau"
    assert "VPN" in said_once(alert)
    assert plain(alert.get_by_role("button").inner_text()) == "Réessayer"
    screenshot(page, "outlook-erreur-reseau")


def test_outlook_refuses_the_insertion(plume, fake_llm, outlook, screenshot):
    fake_llm.reply = mail_model(reply=DRAFT)
    page = outlook(plume(), {**REPLY_MAIL, "insertError": "The operation is not supported."})
    draft_reply(page)
    page.get_by_role("button", name="Insérer à l’emplacement du curseur").click()
    alert = page.locator("#reply-error .plume-bar")
    alert.wait_for()
    assert alert.get_attribute("data-error-code") == "insertion_refusee"
    assert "Outlook n'a pas pu insérer le texte dans le message" in plain(alert.inner_text())
    # The draft stays, and the button is offered again.
    assert "Nous accusons réception" in plain(page.locator("#reply-output").inner_text())
    assert page.get_by_role("button", name="Insérer à l’emplacement du curseur").is_enabled()
    screenshot(page, "outlook-erreur-insertion")


def test_stop_closes_the_stream(plume, fake_llm, outlook, screenshot):
    fake_llm.reply = mail_model(reply=" ".join(["Projet de réponse en cours de rédaction."] * 40))
    fake_llm.then(Behaviour(token_delay=0.15))
    page = outlook(plume(), REPLY_MAIL)
    assert page.locator("#reply-stop").is_hidden()  # nothing runs yet: no « Arrêter »
    page.get_by_role("button", name="Rédiger", exact=True).click()
    wait_until(page, "() => document.getElementById('reply-output').textContent.length > 20")
    page.get_by_role("button", name="Arrêter").click()
    wait_until(page, "() => document.getElementById('reply-status').textContent.includes('arrêtée')")
    assert plain(page.locator("#reply-status").inner_text()) == "Rédaction arrêtée à votre demande."
    assert page.locator("#reply-stop").is_hidden()  # « Arrêter » only while something runs
    # The upstream request was closed, not left generating.
    request = next(r for r in fake_llm.requests if r.path.endswith("/chat/completions"))
    assert request.ended.wait(10) and request.disconnected
    # A stopped draft says it is incomplete and offers no insertion; nothing was inserted.
    assert "Projet incomplet" in plain(page.locator("#reply-after [data-incomplete]").inner_text())
    assert page.locator("#reply-after [data-action=insert]").count() == 0
    assert page.evaluate("window.__composeBody") == REPLY_MAIL["body"]
    screenshot(page, "outlook-arret")


@pytest.fixture
def entra_plume(plume, idp):
    def start(**overrides):
        return plume(AUTH_MODE="entra", AUTH_TENANT_ID=TENANT, AUTH_CLIENT_ID=CLIENT_ID,
                     AUTH_OPENID_CONFIG_URL=idp.discovery_url, **overrides)
    return start


def test_signed_in_with_office_sso(entra_plume, idp, fake_llm, outlook):
    fake_llm.reply = mail_model()
    token = idp.token(roles=["Plume.Greffier"])
    page = outlook(entra_plume(), {**POSTPONEMENT_MAIL, "ssoToken": token})
    sent = []
    page.on("request", lambda r: sent.append(r.headers.get("authorization"))
            if "/api/v1/assist/" in r.url else None)
    assert summarize(page).count() == 0
    assert sent == [f"Bearer {token}"]
    assert page.locator("[data-banner='dev']").count() == 0
    assert outlook_calls(page, "auth.getAccessToken")


def test_expired_session_asks_to_sign_in_again(entra_plume, idp, fake_llm, outlook, screenshot):
    fake_llm.reply = mail_model()
    token = idp.token(roles=["Plume.Greffier"], iat=int(time.time()) - 7200, nbf=int(time.time()) - 7200,
                      exp=int(time.time()) - 3600)
    page = outlook(entra_plume(), {**POSTPONEMENT_MAIL, "ssoToken": token})
    alert = summarize(page)
    assert "Votre session a expiré" in said_once(alert)
    assert plain(alert.get_by_role("button").inner_text()) == "Se reconnecter"
    screenshot(page, "outlook-erreur-connexion")

    # She signs in again (Office now gives a valid token) and clicks: the summary runs.
    fresh = idp.token(roles=["Plume.Greffier"])
    page.evaluate("(token) => { Office.auth.getAccessToken = () => Promise.resolve(token); }", fresh)
    sent = []
    page.on("request", lambda r: sent.append(r.headers.get("authorization")) if "/api/v1/assist/" in r.url else None)
    alert.get_by_role("button", name="Se reconnecter").click()
    wait_until(page, "() => document.getElementById('summary-status').textContent.includes('terminé')")
    assert page.locator("#summary-error .plume-bar").count() == 0
    assert sent == [f"Bearer {fresh}"]
