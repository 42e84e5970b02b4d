"""Entra ID access tokens: signing keys from the OpenID discovery document, and validation.

All cryptography is PyJWT's. The order of checks matters: the header's algorithm must be
in the allowlist before any key is looked up (no ``alg: none``, no HMAC signed with a
public key), the signature is verified before any claim is trusted, and only then are the
issuer, audience, tenant, lifetime and delegated scope checked.

Keys are cached per worker. A token signed with a key the cache does not know (Entra
rotates its keys) triggers one re-fetch of the key set, at most once per
``min_refresh_interval`` so that forged ``kid`` values cannot make Plume hammer the
identity provider.
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any, Iterable

import jwt

log = logging.getLogger(__name__)

ALGORITHMS = ["RS256"]
CLOCK_SKEW_SECONDS = 60
REQUIRED_CLAIMS = ["exp", "nbf", "iss", "aud", "tid", "oid"]
FETCH_TIMEOUT_SECONDS = 5
FAILED_FETCH_BACKOFF_SECONDS = 5
MAX_DOCUMENT_BYTES = 1024 * 1024
# RFC 6750 b64token: what a bearer token may look like on the wire.
BEARER_TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")

EXPIRED_MESSAGE = "Votre session a expiré. Reconnectez-vous."
INVALID_MESSAGE = "Votre jeton de connexion n'est pas valide pour Plume. Reconnectez-vous."
TENANT_MESSAGE = "Votre organisation n'est pas autorisée à utiliser Plume."


class TokenRefused(Exception):
    """A bearer token (or its absence) that Plume does not accept.

    ``reason`` is English, for the logs (never the token itself); ``message`` is French,
    for the user; ``error`` is the RFC 6750 error code (None when no token was sent).
    """

    def __init__(self, reason: str, message: str = INVALID_MESSAGE,
                 error: str | None = "invalid_token"):
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.error = error


class KeysUnavailable(Exception):
    """The identity provider's discovery document or key set could not be fetched."""


def _fetch_json(url: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Accept": "application/json",
                                                   "User-Agent": "Plume"})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
            body = response.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise KeysUnavailable(f"cannot fetch {url}: {exc}") from exc
    if len(body) > MAX_DOCUMENT_BYTES:
        raise KeysUnavailable(f"{url} answered more than {MAX_DOCUMENT_BYTES} bytes")
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise KeysUnavailable(f"{url} did not answer JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise KeysUnavailable(f"{url} did not answer a JSON object")
    return document


class KeySet:
    """The identity provider's signing keys, fetched through its discovery document."""

    def __init__(self, discovery_url: str, *, max_age: float = 24 * 3600,
                 min_refresh_interval: float = 60.0) -> None:
        self.discovery_url = discovery_url
        self.max_age = max_age
        self.min_refresh_interval = min_refresh_interval
        self._lock = threading.Lock()
        self._issuer: str | None = None
        self._jwks_uri: str | None = None
        self._keys: dict[str, jwt.PyJWK] | None = None
        self._fetched_at = 0.0
        self._last_attempt = float("-inf")
        self._last_unknown_kid_refresh = float("-inf")

    def issuer(self) -> str:
        """The ``issuer`` of the discovery document (may hold a ``{tenantid}`` placeholder)."""
        with self._lock:
            self._ensure_loaded()
            assert self._issuer is not None
            return self._issuer

    def key(self, kid: str) -> jwt.PyJWK | None:
        """The signing key ``kid``, re-fetching the key set once if it is unknown."""
        with self._lock:
            self._ensure_loaded()
            assert self._keys is not None
            found = self._keys.get(kid)
            now = time.monotonic()
            if found is None and now - self._last_unknown_kid_refresh >= self.min_refresh_interval:
                self._last_unknown_kid_refresh = now
                log.info("unknown signing key, refreshing the key set", extra={"kid": kid[:64]})
                try:
                    self._refresh(discovery=False)
                except KeysUnavailable as exc:
                    log.warning("key set refresh failed: %s", exc)
                found = self._keys.get(kid)
            return found

    def _ensure_loaded(self) -> None:
        now = time.monotonic()
        if self._keys is None:
            # Nothing cached: the failure propagates (503). While the provider is down, each
            # request does not wait for its own time-out: one attempt per back-off period.
            if now - self._last_attempt < FAILED_FETCH_BACKOFF_SECONDS:
                raise KeysUnavailable("identity provider unreachable at the last attempt")
            self._refresh(discovery=True)
        elif now - self._fetched_at > self.max_age and now - self._last_attempt >= self.min_refresh_interval:
            try:
                self._refresh(discovery=True)
            except KeysUnavailable as exc:
                log.warning("periodic key refresh failed, keeping cached keys: %s", exc)

    def _refresh(self, *, discovery: bool) -> None:
        self._last_attempt = time.monotonic()
        if discovery or self._jwks_uri is None:
            document = _fetch_json(self.discovery_url)
            issuer, jwks_uri = document.get("issuer"), document.get("jwks_uri")
            if not isinstance(issuer, str) or not isinstance(jwks_uri, str):
                raise KeysUnavailable(f"{self.discovery_url} lacks issuer or jwks_uri")
            self._issuer, self._jwks_uri = issuer, jwks_uri
        jwks = _fetch_json(self._jwks_uri)
        keys: dict[str, jwt.PyJWK] = {}
        for entry in jwks.get("keys", []):
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" or not entry.get("kid"):
                continue
            try:
                keys[str(entry["kid"])] = jwt.PyJWK(entry)
            except jwt.PyJWKError as exc:
                log.info("skipping unusable key %s: %s", str(entry.get("kid"))[:64], exc)
        if not keys:
            raise KeysUnavailable(f"{self._jwks_uri} holds no usable signing key")
        self._keys = keys
        self._fetched_at = time.monotonic()
        log.info("signing keys loaded", extra={"keys": len(keys)})


@dataclass(frozen=True)
class Policy:
    """What a token must say to be accepted."""

    audiences: tuple[str, ...]
    tenants: frozenset[str]
    scope: str
    configured_tenant: str | None = None

    def issuers(self, discovery_issuer: str) -> set[str]:
        """Accepted ``iss`` values: the discovery issuer, for each allowed tenant."""
        accepted = set()
        for tenant in self.tenants:
            issuer = discovery_issuer.replace("{tenantid}", tenant)
            if self.configured_tenant and self.configured_tenant in discovery_issuer:
                issuer = discovery_issuer.replace(self.configured_tenant, tenant)
            accepted.add(issuer)
        return accepted


def bearer_from_header(value: str | None) -> str:
    """The token of an ``Authorization: Bearer …`` header, or TokenRefused."""
    if not value:
        raise TokenRefused("no Authorization header",
                           "Vous devez être connecté pour utiliser Plume. Reconnectez-vous.", error=None)
    parts = value.split(" ")
    if len(parts) != 2 or parts[0].lower() != "bearer" or not BEARER_TOKEN.match(parts[1]):
        raise TokenRefused("malformed Authorization header (expected 'Bearer <token>')",
                           error="invalid_request")
    return parts[1]


def validate(token: str, keys: KeySet, policy: Policy) -> dict[str, Any]:
    """The token's claims if every check passes; TokenRefused (reason, French message) if not.

    KeysUnavailable propagates when no key set could ever be fetched.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenRefused(f"malformed token: {exc}") from None
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise TokenRefused(f"algorithm {str(algorithm)[:16]!r} not allowed")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenRefused("no key id (kid) in the token header")
    key = keys.key(kid)
    if key is None:
        raise TokenRefused(f"unknown signing key {kid[:64]!r}")

    try:
        claims = jwt.decode(
            token, key.key, algorithms=ALGORITHMS, audience=list(policy.audiences),
            issuer=policy.issuers(keys.issuer()), leeway=CLOCK_SKEW_SECONDS,
            options={"require": REQUIRED_CLAIMS, "verify_signature": True},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRefused("token expired", EXPIRED_MESSAGE) from None
    except jwt.ImmatureSignatureError:
        raise TokenRefused("token not yet valid (nbf in the future)") from None
    except jwt.InvalidSignatureError:
        raise TokenRefused("signature does not verify") from None
    except jwt.InvalidAudienceError:
        raise TokenRefused("wrong audience (aud)") from None
    except jwt.InvalidIssuerError:
        raise TokenRefused("wrong issuer (iss)") from None
    except jwt.MissingRequiredClaimError as exc:
        raise TokenRefused(f"missing claim {exc.claim!r}") from None
    except jwt.PyJWTError as exc:
        raise TokenRefused(f"invalid token: {type(exc).__name__}") from None

    if claims["tid"] not in policy.tenants:
        raise TokenRefused("tenant not allowed", TENANT_MESSAGE)
    if not isinstance(claims["oid"], str) or not claims["oid"]:
        raise TokenRefused("oid claim is not a string")
    scopes = claims.get("scp")
    if not isinstance(scopes, str) or policy.scope not in scopes.split(" "):
        raise TokenRefused(f"delegated scope {policy.scope!r} missing (scp)")
    return claims


def string_list(value: Any) -> list[str]:
    """A claim that should list strings: a JSON list, or one comma-separated string."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, Iterable) and not isinstance(value, (bytes, dict)):
        return [item.strip() for item in value if isinstance(item, str) and item.strip()]
    return []
