"""The observatory and « À propos de Plume » opened in a plain browser (no Office), with Plume
in Entra mode: the page signs in by itself with MSAL.js's redirect flow (authorization code +
PKCE) against the fake identity provider, through the one registered redirect URI (MSAL's
redirect bridge, /addin/common/signin-redirect.html), then shows its figures, or the French
page a non-administrator gets.

Everything is real but the identity provider: the vendored MSAL.js in headless Chromium,
Plume's pages and API, and token validation against the fake's JWKS. The fake serves HTTPS
(MSAL.js refuses an http authority) with a local CA the backend trusts through SSL_CERT_FILE
and the browser through ``ignore_https_errors``.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import pytest

from tests.audit.helpers import GREFFIER, MAGISTRAT, record
from tests.auth.conftest import entra_settings
from tests.fakes.idp import CLIENT_ID

from .conftest import WAIT_MS, plain

OBSERVATORY = "/addin/observatory/"
ABOUT = "/addin/common/about.html"
BRIDGE = "/addin/common/signin-redirect.html"
ADMIN_ROLES = ["Plume.Admin"]
RESERVED = "L'Observatoire de l'IA est réservé aux administrateurs de Plume."


@pytest.fixture
def entra_plume(make_app, serve_app, tls_idp):
    """A served Plume in Entra mode whose sign-in authority is the fake identity provider."""

    def start(**overrides: Any) -> tuple[str, Any]:
        app = make_app(**entra_settings(tls_idp, AUTH_AUTHORITY=tls_idp.authority, **overrides))
        return serve_app(app), app

    return start


@pytest.fixture
def plain_browser(browser):
    """A browser tab with no Office around it (Office.js is not even loaded by these pages)."""
    contexts = []

    def open_(url: str, route: tuple[str, Callable[[Any], Any]] | None = None) -> Any:
        context = browser.new_context(ignore_https_errors=True, locale="fr-FR")
        contexts.append(context)
        context.set_default_timeout(WAIT_MS)
        if route is not None:
            context.route(*route)
        page = context.new_page()
        page.console_messages = []
        page.on("console", lambda msg: page.console_messages.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda err: page.console_messages.append(f"pageerror: {err}"))
        page.goto(url)
        return page

    yield open_
    for context in contexts:
        context.close()


def test_an_administrator_signs_in_by_redirect_and_sees_the_figures(entra_plume, tls_idp, plain_browser,
                                                                    screenshot):
    base, app = entra_plume()
    record(app, MAGISTRAT, task="draft")
    record(app, GREFFIER, task="mail-summary")
    tls_idp.spa_redirect_uris.add(f"{base}{BRIDGE}")
    tls_idp.browser_user = {"roles": ADMIN_ROLES, "oid": "admin-oid", "name": "Alice Admin"}

    page = plain_browser(f"{base}{OBSERVATORY}")
    page.wait_for_selector("body[data-ready='true']")
    assert page.locator("#figures").is_visible(), "\n".join(page.console_messages)
    assert "Interactions\n2" in plain(page.locator("#summary").inner_text())
    assert plain(page.locator("#problem").inner_text()) == ""
    assert page.url == f"{base}{OBSERVATORY}", "back on the page, the code gone from the address"
    screenshot(page, "observatory-signed-in-browser")

    [asked] = tls_idp.authorize_requests
    assert asked["redirect_uri"] == f"{base}{BRIDGE}"
    assert asked["code_challenge_method"] == "S256"
    assert CLIENT_ID in asked["client_id"] and "access_as_user" in asked["scope"]
    [redeemed] = tls_idp.code_redemptions
    assert redeemed["origin"] == base and redeemed["code_verifier"]
    # MSAL.js fetched the authority's metadata and tokens because the page's CSP names it.
    csp = app.test_client().get(OBSERVATORY).headers["Content-Security-Policy"]
    assert f"connect-src 'self' https://login.microsoftonline.com {tls_idp.url};" in csp

    # A reload is answered from MSAL's cache: no second trip to the sign-in page.
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    assert page.locator("#figures").is_visible()
    assert len(tls_idp.authorize_requests) == 1 and len(tls_idp.code_redemptions) == 1


def test_a_non_administrator_signs_in_and_gets_the_french_reserved_page(entra_plume, tls_idp, plain_browser,
                                                                       screenshot):
    base, app = entra_plume()
    record(app, MAGISTRAT)
    tls_idp.spa_redirect_uris.add(f"{base}{BRIDGE}")
    tls_idp.browser_user = {"roles": ["Plume.Magistrat"]}

    page = plain_browser(f"{base}{OBSERVATORY}")
    page.wait_for_selector("body[data-ready='true']")
    problem = plain(page.locator("#problem").inner_text())
    assert problem.startswith(RESERVED) and "demandez à l'administrateur de Plume" in problem
    assert not page.locator("#figures").is_visible() and not page.locator("#period").is_visible()
    screenshot(page, "observatory-browser-not-admin")
    assert len(tls_idp.code_redemptions) == 1, "signed in, then refused by Plume (403), not by sign-in"


def test_about_page_signs_in_through_the_same_redirect_uri(entra_plume, tls_idp, plain_browser):
    base, _ = entra_plume(LLM_BASE_URL="https://albert.api.etalab.gouv.fr/v1", LLM_MODEL="albert-large")
    tls_idp.spa_redirect_uris.add(f"{base}{BRIDGE}")
    tls_idp.browser_user = {"roles": ["Plume.Greffier"]}

    page = plain_browser(f"{base}{ABOUT}")
    page.locator("#about-model-name", has_text="albert-large").wait_for()
    assert plain(page.locator("#about-retention").inner_text()) == "6 mois (183 jours)"
    assert [asked["redirect_uri"] for asked in tls_idp.authorize_requests] == [f"{base}{BRIDGE}"]
    assert page.url == f"{base}{ABOUT}", "the bridge sent the browser back to the page it came from"


def test_a_refused_sign_in_is_said_in_french_and_not_retried_in_a_loop(entra_plume, tls_idp, plain_browser):
    base, _ = entra_plume()
    tls_idp.spa_redirect_uris.add(f"{base}{BRIDGE}")
    tls_idp.browser_refusal = "access_denied"

    page = plain_browser(f"{base}{OBSERVATORY}")
    page.wait_for_selector("body[data-ready='true']")
    assert plain(page.locator("#problem").inner_text()) == (
        "Connexion annulée ou refusée par votre organisation. Rechargez la page pour réessayer.")
    assert len(tls_idp.authorize_requests) == 1 and tls_idp.code_redemptions == []


def test_without_the_registered_redirect_uri_sign_in_stops_at_the_provider(entra_plume, tls_idp, plain_browser):
    """The app registration must list the bridge (docs/admin-guide.md); otherwise sign-in stops
    at the identity provider's error, as Entra's AADSTS50011 does, and no code reaches Plume."""
    base, _ = entra_plume()
    page = plain_browser(f"{base}{OBSERVATORY}")
    page.wait_for_url(f"{tls_idp.authority}/oauth2/v2.0/authorize**")
    # What the administrator must register: the bridge page, for every Plume page.
    assert tls_idp.authorize_requests[-1]["redirect_uri"] == f"{base}{BRIDGE}"
    assert "AADSTS50011" in page.content()
    assert tls_idp.code_redemptions == []


def test_the_page_says_it_is_leaving_for_the_sign_in_page(entra_plume, tls_idp, plain_browser):
    base, _ = entra_plume()
    # The sign-in page answers 204 No Content, so the browser stays on the observatory,
    # which says why it is waiting.
    page = plain_browser(f"{base}{OBSERVATORY}",
                         route=(f"{tls_idp.authority}/oauth2/v2.0/authorize**",
                                lambda route: route.fulfill(status=204)))
    page.locator("#status", has_text="Redirection vers la page de connexion de votre organisation…").wait_for()
    assert plain(page.locator("#problem").inner_text()) == ""


def test_an_expired_token_is_renewed_in_the_hidden_frame_without_leaving_the_page(
        entra_plume, tls_idp, plain_browser):
    base, app = entra_plume()
    record(app, MAGISTRAT)
    tls_idp.spa_redirect_uris.add(f"{base}{BRIDGE}")
    # Two minutes left: inside MSAL's and auth.js's renewal margin (five minutes) at once.
    tls_idp.browser_user = {"roles": ADMIN_ROLES, "exp": int(time.time()) + 120}

    page = plain_browser(f"{base}{OBSERVATORY}")
    page.wait_for_selector("body[data-ready='true']")
    assert page.locator("#figures").is_visible(), "\n".join(page.console_messages)
    first, *renewals = tls_idp.authorize_requests
    assert "prompt" not in first or first["prompt"] != "none"
    assert renewals and all(asked["prompt"] == "none" for asked in renewals), renewals
    assert len(tls_idp.code_redemptions) == 1 + len(renewals)
    assert page.url == f"{base}{OBSERVATORY}"
