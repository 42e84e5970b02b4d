"""Entra access tokens: every forged or wrong token is refused, valid ones (even after a
key rotation) are accepted, and refusals are explained in French without leaking the token."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from backend.logs import JsonFormatter
from tests.fakes.idp import CLIENT_ID, TENANT, USER_OID

from .conftest import bearer

OTHER_TENANT = "11111111-2222-4333-8444-555555555555"
WHOAMI = "/api/v1/probe/whoami"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256_with_public_key(idp) -> str:
    """The classic key-confusion forgery: HMAC keyed with the RSA public key."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": idp.kid}).encode())
    payload = _b64(json.dumps(idp.claims(roles=["Plume.Admin"])).encode())
    signature = hmac.new(idp.public_pem(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def _tampered(idp) -> str:
    """A genuine greffier token whose payload was edited to claim the admin role."""
    header, _, signature = idp.token(roles=["Plume.Greffier"]).split(".")
    payload = _b64(json.dumps(idp.claims(roles=["Plume.Admin"])).encode())
    return f"{header}.{payload}.{signature}"


def _signed_by_stranger(idp, kid: str) -> str:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(idp.claims(), stranger, algorithm="RS256", headers={"kid": kid})


# name -> (builder(idp) -> headers dict, query string, expected status, expected error code)
FORGED = {
    "alg none": lambda idp: bearer(jwt.encode(idp.claims(), None, algorithm="none")),
    "alg none with kid": lambda idp: bearer(
        jwt.encode(idp.claims(), None, algorithm="none", headers={"kid": idp.kid})),
    "HS256 signed with the public key": lambda idp: bearer(_hs256_with_public_key(idp)),
    "RS512 (not in the allowlist)": lambda idp: bearer(
        jwt.encode(idp.claims(), idp.private_key(), algorithm="RS512", headers={"kid": idp.kid})),
    "wrong audience": lambda idp: bearer(idp.token(aud="api://someone-else")),
    "Microsoft Graph audience": lambda idp: bearer(idp.token(aud="00000003-0000-0000-c000-000000000000")),
    "wrong issuer": lambda idp: bearer(idp.token(iss="https://evil.example/v2.0")),
    "tenant not allowed (its own issuer)": lambda idp: bearer(
        idp.token(tid=OTHER_TENANT, iss=idp.issuer.replace(TENANT, OTHER_TENANT))),
    "tenant not allowed (tid only)": lambda idp: bearer(idp.token(tid=OTHER_TENANT)),
    "expired": lambda idp: bearer(idp.token(iat=int(time.time()) - 7200, nbf=int(time.time()) - 7200,
                                            exp=int(time.time()) - 600)),
    "nbf in the future": lambda idp: bearer(idp.token(nbf=int(time.time()) + 600)),
    "unknown kid": lambda idp: bearer(_signed_by_stranger(idp, "forged-kid")),
    "known kid, other key": lambda idp: bearer(_signed_by_stranger(idp, idp.kid)),
    "no kid": lambda idp: bearer(jwt.encode(idp.claims(), idp.private_key(), algorithm="RS256")),
    "tampered payload": lambda idp: bearer(_tampered(idp)),
    "missing scope": lambda idp: bearer(idp.token(scp=None)),
    "wrong scope": lambda idp: bearer(idp.token(scp="User.Read Mail.Read")),
    "application token (roles, no scp)": lambda idp: bearer(idp.token(scp=None, roles=["Plume.Admin"])),
    "missing exp": lambda idp: bearer(idp.token(exp=None)),
    "missing oid": lambda idp: bearer(idp.token(oid=None)),
    "missing tid": lambda idp: bearer(idp.token(tid=None)),
    "not a JWT": lambda idp: bearer("not-a-jwt"),
    "truncated JWT": lambda idp: bearer(".".join(idp.token().split(".")[:2])),
    "garbage segments": lambda idp: bearer("eyJhbGciOiJSUzI1NiJ9.bm9wZQ.c2ln"),
}

MALFORMED_HEADERS = {
    "Bearer without token": {"Authorization": "Bearer"},
    "Basic credentials": {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="},
    "token without scheme": {"Authorization": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"},
    "two tokens": {"Authorization": "Bearer abc def"},
    "illegal characters": {"Authorization": "Bearer <script>"},
}


def _challenge(response) -> str:
    return response.headers.get("WWW-Authenticate", "")


@pytest.mark.parametrize("case", sorted(FORGED))
def test_forged_or_wrong_tokens_are_refused(case, entra_client, idp, caplog):
    headers = FORGED[case](idp)
    with caplog.at_level(logging.INFO):
        response = entra_client.get(WHOAMI, headers=headers)
    assert response.status_code == 401, response.json
    assert _challenge(response) == 'Bearer realm="plume", error="invalid_token"'
    assert response.json["error"] == "non_authentifie"
    assert "connexion" in response.json["message"] or "session" in response.json["message"] \
        or "organisation" in response.json["message"]
    token = headers["Authorization"].split(" ", 1)[1]
    logged = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert "token refused" in logged and '"reason"' in logged
    assert token not in logged


@pytest.mark.parametrize("case", sorted(MALFORMED_HEADERS))
def test_malformed_authorization_headers_are_refused(case, entra_client):
    response = entra_client.get(WHOAMI, headers=MALFORMED_HEADERS[case])
    assert response.status_code == 401
    assert _challenge(response) == 'Bearer realm="plume", error="invalid_request"'
    assert response.json["message"].startswith("Votre jeton de connexion")


def test_missing_token_gets_a_bare_challenge(entra_client):
    """RFC 6750 §3.1: no error code when the request carried no credentials at all."""
    response = entra_client.get(WHOAMI)
    assert response.status_code == 401
    assert _challenge(response) == 'Bearer realm="plume"'
    assert response.json["message"] == "Vous devez être connecté pour utiliser Plume. Reconnectez-vous."


@pytest.mark.parametrize("name", ["access_token", "token", "id_token"])
def test_token_in_the_query_string_is_refused_even_with_a_valid_header(name, entra_client, idp):
    token = idp.token()
    for headers in ({}, bearer(token)):
        response = entra_client.get(f"{WHOAMI}?{name}={token}", headers=headers)
        assert response.status_code == 401
        assert 'error="invalid_request"' in _challenge(response)
        assert "en-tête Authorization" in response.json["message"]


def test_token_in_a_form_body_is_refused(entra_client, idp):
    response = entra_client.post("/api/v1/probe/task/search", data={"access_token": idp.token()},
                                 headers=bearer(idp.token(roles=["Plume.Greffier"])))
    assert response.status_code == 401
    assert 'error="invalid_request"' in _challenge(response)


def test_expired_token_says_the_session_expired(entra_client, idp):
    response = entra_client.get(WHOAMI, headers=bearer(idp.token(exp=int(time.time()) - 600)))
    assert response.json["message"] == "Votre session a expiré. Reconnectez-vous."


def test_other_tenant_is_told_its_organisation_is_not_allowed(entra_client, idp):
    response = entra_client.get(WHOAMI, headers=bearer(idp.token(tid=OTHER_TENANT)))
    assert response.json["message"] == "Votre organisation n'est pas autorisée à utiliser Plume."


def test_token_without_plume_role_is_forbidden(entra_client, idp):
    for roles in (None, [], ["Some.Other.Role"]):
        response = entra_client.get(WHOAMI, headers=bearer(idp.token(roles=roles)))
        assert response.status_code == 403
        assert response.json["error"] == "aucun_role"
        assert "rôle Plume" in response.json["message"]


def test_valid_token_is_accepted_and_describes_the_user(entra_client, idp):
    response = entra_client.get(WHOAMI, headers=bearer(idp.token(roles=["Plume.Greffier", "Unknown"])))
    assert response.status_code == 200
    assert response.json == {"id": USER_OID, "name": "Jeanne Martin", "roles": ["Plume.Greffier"],
                             "jurisdictions": [], "tenant": TENANT}


def test_application_id_uri_audience_and_small_clock_skew_are_accepted(entra_client, idp):
    now = int(time.time())
    api_uri = f"api://localhost:3000/{CLIENT_ID}"
    for token in (idp.token(aud=api_uri), idp.token(exp=now - 20), idp.token(nbf=now + 20)):
        assert entra_client.get(WHOAMI, headers=bearer(token)).status_code == 200


def test_second_allowed_tenant_is_accepted(entra_app, idp):
    client = entra_app(AUTH_ALLOWED_TENANTS=f"{TENANT},{OTHER_TENANT}").test_client()
    token = idp.token(tid=OTHER_TENANT, iss=idp.issuer.replace(TENANT, OTHER_TENANT))
    assert client.get(WHOAMI, headers=bearer(token)).json["tenant"] == OTHER_TENANT


def test_rotated_key_is_accepted_and_forged_kids_cannot_hammer_the_idp(entra_client, idp):
    jwks_path = f"/{TENANT}/discovery/v2.0/keys"
    assert entra_client.get(WHOAMI, headers=bearer(idp.token())).status_code == 200
    assert entra_client.get(WHOAMI, headers=bearer(idp.token())).status_code == 200
    assert idp.hits[jwks_path] == 1, "keys are cached between requests"

    old_token = idp.token()
    idp.rotate()  # Entra publishes a new key and withdraws the old one
    assert entra_client.get(WHOAMI, headers=bearer(idp.token())).status_code == 200
    assert idp.hits[jwks_path] == 2, "an unknown kid refreshes the key set once"

    for attempt in range(5):
        forged = _signed_by_stranger(idp, f"forged-{attempt}")
        assert entra_client.get(WHOAMI, headers=bearer(forged)).status_code == 401
    assert idp.hits[jwks_path] == 2, "refreshes on unknown kids are rate-limited"
    assert entra_client.get(WHOAMI, headers=bearer(old_token)).status_code == 401, \
        "a withdrawn key is forgotten"
    assert entra_client.get(WHOAMI, headers=bearer(idp.token())).status_code == 200


def test_unreachable_identity_provider_is_a_503_in_french(entra_app, idp):
    client = entra_app().test_client()
    idp.stop()
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200, "public routes do not need the identity provider"
    response = client.get(WHOAMI, headers=bearer(idp.token()))
    assert response.status_code == 503
    assert response.json["error"] == "identite_indisponible"
    assert "service d'identité" in response.json["message"]
    again = client.get(WHOAMI, headers=bearer(idp.token()))
    assert again.status_code == 503, "still refused while the provider is down"
