"""A fake OpenID provider shaped like Entra ID, as a real HTTP server in a thread.

It serves a tenant's discovery document and JWKS, mints RS256 access tokens with the
claims a test chooses, rotates its signing keys on request, and answers msal's
on-behalf-of token requests (served over TLS with a local CA, since msal only talks
https). It counts the requests it receives per path so tests can see caching at work.

For browser sign-in (MSAL.js in a page) it also runs the OAuth 2.0 authorization-code flow
with PKCE the way Entra does for a single-page application: ``/authorize`` checks the client
and the registered redirect URI, "signs in" the user the test chose (no login form; with
``prompt=none``, MSAL's silent renewal in a hidden frame, as an existing session) and
redirects back with a one-time code in the URL fragment; the token endpoint redeems it only
with the matching ``code_verifier`` and redirect URI, from a cross-origin request (CORS, as
Entra requires for SPA codes), and returns an access token, an ID token carrying the nonce,
and ``client_info``, living as long as the user's ``exp`` claim says. Refresh tokens are not
issued: MSAL renews through the hidden frame instead.

    idp = FakeIdP().start()
    token = idp.token(roles=["Plume.Greffier"])
    idp.rotate()            # new signing key; the old one is withdrawn
    idp.spa_redirect_uris.add("http://127.0.0.1:5000/addin/common/signin-redirect.html")
    idp.browser_user = {"roles": ["Plume.Admin"]}   # who signs in at /authorize
    idp.stop()
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shutil
import ssl
import tempfile
import threading
import time
import uuid
from collections import Counter
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from .http import JSONHandler

TENANT = "72f988bf-0000-4000-8000-00000000a1b2"
CLIENT_ID = "5e1b1c8e-1111-4222-8333-444455556666"
USER_OID = "0d5e6f70-aaaa-4bbb-8ccc-ddddeeeeffff"


class FakeIdP:
    """An identity provider for one tenant (others can be impersonated through claims)."""

    def __init__(self, tenant: str = TENANT, client_id: str = CLIENT_ID, *, tls: bool = False) -> None:
        self.tenant = tenant
        self.client_id = client_id
        self.tls = tls
        self.hits: Counter[str] = Counter()
        self.obo_requests: list[dict[str, list[str]]] = []
        self.obo_error: str | None = None
        # Browser sign-in: the app registration's SPA redirect URIs, the claims of whoever
        # signs in at /authorize, and what happened (authorize queries, redeemed codes).
        self.spa_redirect_uris: set[str] = set()
        self.browser_user: dict[str, Any] = {}
        self.browser_refusal: str | None = None  # e.g. "access_denied": the user declined
        self.authorize_requests: list[dict[str, str]] = []
        self.code_redemptions: list[dict[str, str]] = []
        self._codes: dict[str, dict[str, str]] = {}
        self.ca_file: str | None = None
        self._keys: dict[str, rsa.RSAPrivateKey] = {}
        self._published: list[str] = []
        self.kid = ""
        self.rotate(keep_old=False)
        self._server: ThreadingHTTPServer | None = None
        self._stopped = False
        self._tls_folder: str | None = None

    # -- keys -------------------------------------------------------------------------
    def rotate(self, *, keep_old: bool = False) -> str:
        """Sign with a new key from now on; withdraw the old one unless ``keep_old``."""
        kid = uuid.uuid4().hex[:16]
        self._keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._published = [*self._published, kid] if keep_old else [kid]
        self.kid = kid
        return kid

    def private_key(self, kid: str | None = None) -> rsa.RSAPrivateKey:
        return self._keys[kid or self.kid]

    def public_pem(self, kid: str | None = None) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.private_key(kid).public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid in self._published:
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._keys[kid].public_key()))
            keys.append({**jwk, "kid": kid, "use": "sig", "kty": "RSA"})
        return {"keys": keys}

    # -- tokens -----------------------------------------------------------------------
    @property
    def issuer(self) -> str:
        return f"{self.url}/{self.tenant}/v2.0"

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """Entra v2 access-token claims for a magistrate of this tenant, with ``overrides``.

        An override whose value is ``None`` removes the claim.
        """
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": self.client_id, "iss": self.issuer, "tid": self.tenant, "oid": USER_OID,
            "sub": "pairwise-subject", "iat": now, "nbf": now, "exp": now + 3600,
            "name": "Jeanne Martin", "preferred_username": "jeanne.martin@justice.fr",
            "scp": "access_as_user", "roles": ["Plume.Magistrat"], "ver": "2.0",
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, *, kid: str | None = None, headers: dict[str, Any] | None = None,
              **overrides: Any) -> str:
        """An RS256 access token signed with the current key (or ``kid``)."""
        kid = kid or self.kid
        return jwt.encode(self.claims(**overrides), self._keys[kid], algorithm="RS256",
                          headers={"kid": kid, **(headers or {})})

    # -- server -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake identity provider first"
        host, port = self._server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{'localhost' if self.tls else host}:{port}"

    @property
    def authority(self) -> str:
        return f"{self.url}/{self.tenant}"

    @property
    def discovery_url(self) -> str:
        return f"{self.authority}/v2.0/.well-known/openid-configuration"

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.url}/{self.tenant}/discovery/v2.0/keys",
            "authorization_endpoint": f"{self.authority}/oauth2/v2.0/authorize",
            "token_endpoint": f"{self.authority}/oauth2/v2.0/token",
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "token id_token"],
            "subject_types_supported": ["pairwise"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
        }

    # -- browser sign-in (authorization code + PKCE) ---------------------------------------
    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        """``GET /authorize``: (status, headers, JSON body when it is an error page).

        Errors the user could not be sent back from (unknown client, unregistered redirect URI)
        are answered here, like Entra's AADSTS pages; the others go back to the redirect URI.
        """
        self.authorize_requests.append(query)
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id:
            return 400, {}, {"error": "unauthorized_client", "error_description": "AADSTS700016 unknown client"}
        if redirect_uri not in self.spa_redirect_uris:
            return 400, {}, {"error": "invalid_request", "error_description":
                             f"AADSTS50011 redirect URI {redirect_uri!r} is not registered"}
        fragment = query.get("response_mode", "fragment") == "fragment"
        answer: dict[str, str] = {"state": query.get("state", "")}
        if self.browser_refusal:
            answer.update(error=self.browser_refusal, error_description="AADSTS65004 refused by the user")
        elif query.get("response_type") != "code":
            answer.update(error="unsupported_response_type", error_description="only code")
        elif query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            answer.update(error="invalid_request", error_description="AADSTS9002325 PKCE S256 required")
        else:
            code = secrets.token_urlsafe(24)
            self._codes[code] = {key: query.get(key, "") for key in
                                 ("redirect_uri", "code_challenge", "nonce", "scope")}
            answer.update(code=code, client_info=self._client_info(self.claims(**self.browser_user)),
                          session_state=uuid.uuid4().hex)
        return 302, {"Location": f"{redirect_uri}{'#' if fragment else '?'}{urlencode(answer)}"}, {}

    def _client_info(self, claims: dict[str, Any]) -> str:
        raw = json.dumps({"uid": claims["oid"], "utid": claims["tid"]}).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def redeem_code(self, form: dict[str, str], origin: str | None) -> tuple[int, dict[str, Any]]:
        """``POST /token`` with ``grant_type=authorization_code``: tokens, or an OAuth error."""
        self.code_redemptions.append({**form, "origin": origin or ""})

        def refuse(error: str, description: str) -> tuple[int, dict[str, Any]]:
            return 400, {"error": error, "error_description": description}

        if not origin:
            return refuse("invalid_request", "AADSTS9002327 SPA codes are redeemed cross-origin only")
        grant = self._codes.pop(form.get("code", ""), None)  # one use, even when it fails
        if grant is None:
            return refuse("invalid_grant", "AADSTS70008 unknown or used code")
        if form.get("client_id") != self.client_id:
            return refuse("invalid_client", "AADSTS700016 wrong client")
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return refuse("invalid_grant", "AADSTS50148 redirect URI differs from the authorize request")
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        if challenge != grant["code_challenge"]:
            return refuse("invalid_grant", "AADSTS501481 code_verifier does not match the challenge")
        claims = self.claims(**self.browser_user)   # once: both tokens carry the same times
        access = self.token(**claims)
        # The ID token: the same user for the client itself, without the API's scope and roles.
        id_token = self.token(**{**claims, "aud": self.client_id, "nonce": grant["nonce"],
                                 "scp": None, "roles": None})
        scopes = [s for s in grant["scope"].split() if s not in {"openid", "profile", "offline_access"}]
        lifetime = max(0, claims["exp"] - int(time.time()))
        return 200, {"token_type": "Bearer", "scope": " ".join(scopes), "expires_in": lifetime,
                     "ext_expires_in": lifetime, "access_token": access, "id_token": id_token,
                     "client_info": self._client_info(claims)}

    def start(self) -> "FakeIdP":
        idp = self

        class Handler(JSONHandler):
            def _cors(self) -> dict[str, str]:
                """Like Entra: metadata and the token endpoint answer any origin's fetch."""
                origin = self.headers.get("Origin")
                return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin else {}

            def do_OPTIONS(self) -> None:  # noqa: N802 - CORS preflight
                self.send_response(204)
                for name, value in self._cors().items():
                    self.send_header(name, value)
                self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
                self.send_header("Access-Control-Allow-Headers",
                                 self.headers.get("Access-Control-Request-Headers") or "content-type")
                self.send_header("Access-Control-Max-Age", "600")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:  # noqa: N802
                path, _, query = self.path.partition("?")
                idp.hits[path] += 1
                if path == f"/{idp.tenant}/v2.0/.well-known/openid-configuration":
                    self.send_json(200, idp.discovery(), self._cors())
                elif path == f"/{idp.tenant}/discovery/v2.0/keys":
                    self.send_json(200, idp.jwks(), self._cors())
                elif path == f"/{idp.tenant}/oauth2/v2.0/authorize":
                    status, headers, body = idp.authorize(
                        {key: values[0] for key, values in parse_qs(query).items()})
                    if status == 302:
                        self.send_response(302)
                        self.send_header("Location", headers["Location"])
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    else:
                        self.send_json(status, body)
                else:
                    self.send_json(404, {"error": "not_found"})

            def do_POST(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                idp.hits[path] += 1
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                if path != f"/{idp.tenant}/oauth2/v2.0/token":
                    self.send_json(404, {"error": "not_found"})
                    return
                if form.get("grant_type") == ["authorization_code"]:
                    status, body = idp.redeem_code({key: values[0] for key, values in form.items()},
                                                   self.headers.get("Origin"))
                    self.send_json(status, body, self._cors())
                    return
                idp.obo_requests.append(form)
                if idp.obo_error:
                    self.send_json(400, {"error": idp.obo_error, "error_description": "refused by the fake",
                                     "correlation_id": "fake-correlation"})
                    return
                self.send_json(200, {"token_type": "Bearer", "expires_in": 3600,
                                 "scope": " ".join(form.get("scope", [""])),
                                 "access_token": f"graph-token-{len(idp.obo_requests)}"})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls:
            from backend import devcert

            folder = self._tls_folder = tempfile.mkdtemp(prefix="plume-idp-")
            cert, key, ca = devcert.ensure_certificate(folder)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.ca_file = ca
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving (idempotent); the URLs keep their value so tests can hit a dead port."""
        if self._server is not None and not self._stopped:
            self._stopped = True
            self._server.shutdown()
            self._server.server_close()
            if self._tls_folder:
                shutil.rmtree(self._tls_folder, ignore_errors=True)
