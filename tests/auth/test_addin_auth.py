"""The add-in's sign-in module (addin/common/auth.js) in headless Chromium, against a served
Plume in Entra mode: each way of getting a token (NAA, Office SSO, dialog) is picked in the
documented order, its token opens the real API, and failures end in French messages.

The host (Office.js, and MSAL's NAA bridge, which only exists inside Office) is replaced by
small stand-ins defined in the page; the server side is real.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, TypeVar

import pytest

from .conftest import entra_settings

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TEST_PAGE = "/addin/auth-test.html"
T = TypeVar("T")

# Stand-ins for the Office host. `__host` tells which abilities the host has and records calls.
HOST_SETUP = """
(options) => {
  window.__calls = [];
  const record = (name, value) => window.__calls.push(name + (value ? ':' + value : ''));
  const Office = {
    EventType: { DialogMessageReceived: 'dialogMessageReceived', DialogEventReceived: 'dialogEventReceived' },
    context: {
      host: 'Word',  // inside Office; without a host, auth.js signs in as a plain web page
      requirements: { isSetSupported: (name, version) => {
        record('isSetSupported', name + ' ' + version);
        return options.naa && name === 'NestedAppAuth';
      } },
      ui: options.dialog ? { displayDialogAsync: (url, opts, callback) => {
        record('displayDialogAsync', new URL(url).pathname);
        const handlers = {};
        callback({ status: 'succeeded', value: {
          addEventHandler: (type, handler) => { handlers[type] = handler; },
          close: () => record('dialog.close'),
        } });
        setTimeout(() => {
          if (options.dialog === 'closed') handlers.dialogEventReceived({ error: 12006 });
          else handlers.dialogMessageReceived({ origin: location.origin,
            message: JSON.stringify({ status: 'ok', token: options.token }) });
        }, 10);
      } } : {},
    },
  };
  if (options.sso) {
    Office.auth = { getAccessToken: async (opts) => {
      record('Office.auth.getAccessToken');
      if (options.sso === 'unsupported') { const e = new Error('no SSO'); e.code = 13012; throw e; }
      if (options.sso === 'aborted') { const e = new Error('aborted'); e.code = 13002; throw e; }
      return options.token;
    } };
  }
  if (options.naa) {
    window.msal = { createNestablePublicClientApplication: async (configuration) => {
      record('createNestablePublicClientApplication', configuration.auth.clientId);
      return {
        acquireTokenSilent: async (request) => {
          record('acquireTokenSilent', request.scopes.join(' '));
          if (options.naa === 'interactive') throw new Error('InteractionRequiredAuthError');
          return { accessToken: options.token, expiresOn: new Date(Date.now() + 3600e3) };
        },
        acquireTokenPopup: async (request) => {
          record('acquireTokenPopup', request.scopes.join(' '));
          return { accessToken: options.token, expiresOn: new Date(Date.now() + 3600e3) };
        },
      };
    } };
  }
  window.Office = Office;
}
"""

# Signs in with auth.js, then calls the API with the token (as api.js does).
SIGN_IN = """
async () => {
  const auth = await import('/addin/common/auth.js');
  const config = await (await fetch('/api/v1/client-config')).json();
  await auth.initAuth(config);
  const result = { methods: auth.signInMethods() };
  try {
    const token = await auth.getAccessToken();
    const again = await auth.getAccessToken();
    result.sameToken = token === again;
    const headers = token ? { Authorization: 'Bearer ' + token } : {};
    const me = await fetch('/api/v1/me', { headers });
    result.status = me.status;
    result.me = await me.json();
    result.tokenIsNull = token === null;
  } catch (err) {
    result.error = err.userMessage || String(err);
  }
  result.calls = window.__calls || [];
  return result;
}
"""


def in_browser(work: Callable[[Any], T]) -> T:
    """``work(browser)`` with a headless Chromium of its own, on a thread of its own.

    Playwright's sync API refuses to start where another suite's Playwright (a session-wide
    browser fixture) already runs an event loop, so each use gets a fresh thread.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                     headless=True, args=CHROMIUM_ARGS)
                try:
                    outcome["value"] = work(browser)
                finally:
                    browser.close()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="auth-browser")
    thread.start()
    thread.join(timeout=300)
    assert not thread.is_alive(), "the browser did not finish in 300 s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.fixture
def sign_in(serve_app, make_app, idp):
    """``sign_in(mode="entra", **host) -> result`` from the page, against a served Plume."""

    def run(mode: str = "entra", **host: Any) -> dict[str, Any]:
        settings = entra_settings(idp) if mode == "entra" else {}
        base = serve_app(make_app(**settings))
        options = {"token": idp.token(roles=["Plume.Greffier"]), **host}

        def work(browser: Any) -> dict[str, Any]:
            context = browser.new_context()
            page = context.new_page()
            page.route(f"{base}{TEST_PAGE}", lambda route: route.fulfill(
                status=200, content_type="text/html", body="<!doctype html><title>auth</title>"))
            page.goto(f"{base}{TEST_PAGE}")
            page.evaluate(HOST_SETUP, options)
            return page.evaluate(SIGN_IN)

        return in_browser(work)

    return run


API_SCOPE = "api://localhost:3000/5e1b1c8e-1111-4222-8333-444455556666/access_as_user"


def test_dev_mode_needs_no_token(sign_in):
    result = sign_in(mode="dev", naa=True, sso=True, dialog=True)
    assert result["tokenIsNull"] is True and result["status"] == 200
    assert result["calls"] == [], "no sign-in is attempted in development mode"


def test_nested_app_authentication_comes_first(sign_in):
    result = sign_in(naa=True, sso=True, dialog=True)
    assert result["methods"] == ["naa", "sso", "dialog"]
    assert result["status"] == 200 and result["me"]["roles"] == ["Plume.Greffier"]
    assert result["sameToken"] is True
    assert result["calls"] == ["isSetSupported:NestedAppAuth 1.1",
                               "createNestablePublicClientApplication:5e1b1c8e-1111-4222-8333-444455556666",
                               f"acquireTokenSilent:{API_SCOPE}"], "the second call used the cached token"


def test_naa_asks_interactively_when_silent_fails(sign_in):
    result = sign_in(naa="interactive")
    assert result["status"] == 200
    assert result["calls"][-2:] == [f"acquireTokenSilent:{API_SCOPE}", f"acquireTokenPopup:{API_SCOPE}"]


def test_office_sso_without_naa(sign_in):
    result = sign_in(sso=True, dialog=True)
    assert result["methods"] == ["sso", "dialog"]
    assert result["status"] == 200
    assert "Office.auth.getAccessToken" in result["calls"]
    assert not any(call.startswith("displayDialogAsync") for call in result["calls"])


def test_dialog_when_office_sso_is_unavailable(sign_in):
    result = sign_in(sso="unsupported", dialog=True)
    assert result["status"] == 200
    assert "displayDialogAsync:/addin/common/signin-dialog.html" in result["calls"]
    assert "dialog.close" in result["calls"]


def test_user_who_cancels_sso_gets_no_second_prompt(sign_in):
    result = sign_in(sso="aborted", dialog=True)
    assert result["error"] == "Connexion annulée. Plume a besoin de votre compte pour fonctionner."
    assert not any(call.startswith("displayDialogAsync") for call in result["calls"])


def test_closed_dialog_is_explained_in_french(sign_in):
    result = sign_in(dialog="closed")
    assert result["error"] == "Connexion annulée : la fenêtre de connexion a été fermée."


def test_host_without_any_sign_in_is_explained(sign_in):
    result = sign_in()
    assert result["methods"] == []
    assert result["error"] == "Cette version d'Office ne permet pas de se connecter à Plume."


def test_signin_dialog_page_is_served_with_msal_from_plume(serve_app, make_app):
    import urllib.request

    base = serve_app(make_app())
    with urllib.request.urlopen(f"{base}/addin/common/signin-dialog.html") as response:
        html = response.read().decode()
        csp = response.headers["Content-Security-Policy"]
    assert '<script src="/addin/vendor/msal-browser.min.js">' in html
    assert "connect-src 'self' https://login.microsoftonline.com" in csp


OFFICE_STUB = """
window.__sent = [];
window.Office = { onReady: () => Promise.resolve({}),
                  context: { ui: { messageParent: (m) => window.__sent.push(JSON.parse(m)) } } };
"""


def _discovery(tenant: str) -> dict[str, Any]:
    base = f"https://login.microsoftonline.com/{tenant}"
    return {"issuer": f"{base}/v2.0", "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token", "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "jwks_uri": f"https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"]}


def test_signin_dialog_starts_an_authorization_code_flow_with_pkce(serve_app, make_app, idp):
    """The real vendored MSAL.js, under the pane's CSP, redirects to Entra with PKCE."""
    import json
    from urllib.parse import parse_qs, urlsplit

    base = serve_app(make_app(**entra_settings(idp)))
    seen: list[str] = []

    def entra(route):
        url = route.request.url
        seen.append(url)
        if ".well-known/openid-configuration" in url:
            route.fulfill(status=200, content_type="application/json",
                          headers={"Access-Control-Allow-Origin": "*"},
                          body=json.dumps(_discovery(idp.tenant)))
        elif "discovery/instance" in url:
            route.fulfill(status=200, content_type="application/json",
                          headers={"Access-Control-Allow-Origin": "*"},
                          body=json.dumps({"tenant_discovery_endpoint": url, "metadata": []}))
        else:
            route.fulfill(status=200, content_type="text/html", body="<title>Entra</title>")

    def work(browser: Any) -> None:
        context = browser.new_context()
        context.route("https://appsforoffice.microsoft.com/**", lambda route: route.fulfill(
            status=200, content_type="application/javascript", body=OFFICE_STUB))
        context.route("https://login.microsoftonline.com/**", entra)
        page = context.new_page()
        page.goto(f"{base}/addin/common/signin-dialog.html")
        page.wait_for_url("https://login.microsoftonline.com/**/authorize**", timeout=15000)
        context.close()

    in_browser(work)

    authorize = next(url for url in seen if "/oauth2/v2.0/authorize" in url)
    query = parse_qs(urlsplit(authorize).query)
    assert query["client_id"] == [idp.client_id]
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["redirect_uri"] == [f"{base}/addin/common/signin-dialog.html"]
    assert API_SCOPE in query["scope"][0]
