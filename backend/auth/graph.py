"""Microsoft Graph tokens on behalf of the signed-in user (msal's on-behalf-of flow).

Plume exchanges the user's access token (the "assertion") for a Graph token with its
confidential client. Tokens live only in this process's memory, keyed by a hash of the
assertion and the scopes, until shortly before they expire; they are never logged,
stored or returned to the browser.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import msal
import requests

from ..errors import Forbidden, NotConfigured, UpstreamError

log = logging.getLogger(__name__)

EXPIRY_MARGIN_SECONDS = 120
MAX_CACHED_TOKENS = 2048
GRAPH_TIMEOUT_SECONDS = 10


class GraphClient:
    """One confidential client per worker, created on first use (msal fetches metadata)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.client_id = config.get("AUTH_CLIENT_ID")
        self.secret = config.get("AUTH_CLIENT_SECRET")
        self.authority = config.get("AUTH_AUTHORITY")
        self.graph_url = config["GRAPH_URL"].rstrip("/")
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[str, float]] = {}

    def _client(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            host = urlsplit(self.authority or "").hostname or ""
            self._app = msal.ConfidentialClientApplication(
                self.client_id, client_credential=self.secret, authority=self.authority,
                # Sovereign or test authorities are not in Microsoft's instance list.
                instance_discovery=host in msal.authority.WELL_KNOWN_AUTHORITY_HOSTS,
                timeout=10,
            )
        return self._app

    def token(self, assertion: str, scopes: list[str]) -> str:
        """A Graph access token for ``scopes`` on behalf of the assertion's user."""
        if not (self.client_id and self.secret and self.authority):
            raise NotConfigured(
                "L'accès à Microsoft 365 n'est pas configuré sur ce serveur.",
                detail="Graph on-behalf-of needs PLUME_AUTH_CLIENT_SECRET, "
                       "PLUME_AUTH_CLIENT_ID and PLUME_AUTH_TENANT_ID (or PLUME_AUTH_AUTHORITY)")
        key = (hashlib.sha256(assertion.encode()).hexdigest(), tuple(sorted(scopes)))
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
            if cached and cached[1] > now:
                return cached[0]
            client = self._client()
        try:
            result = client.acquire_token_on_behalf_of(user_assertion=assertion, scopes=list(scopes))
        except ValueError as exc:  # msal: authority metadata unreachable or malformed
            raise UpstreamError(
                "Le service d'identité Microsoft ne répond pas. Réessayez dans quelques instants.",
                code="identite_indisponible", detail=f"on-behalf-of: {type(exc).__name__}") from None
        if "access_token" not in result:
            error = str(result.get("error", "unknown"))
            log.warning("Graph on-behalf-of refused", extra={
                "oauth_error": error, "correlation_id": result.get("correlation_id")})
            if error in {"invalid_grant", "interaction_required", "consent_required"}:
                raise Forbidden(
                    "Plume n'est pas autorisé à accéder à Microsoft 365 pour vous. "
                    "Demandez à votre administrateur d'accorder le consentement.",
                    code="consentement_requis", detail=f"on-behalf-of refused: {error}")
            raise UpstreamError(
                "Le service d'identité Microsoft a refusé la demande. Réessayez plus tard.",
                code="identite_indisponible", detail=f"on-behalf-of failed: {error}")
        lifetime = float(result.get("expires_in", 0)) - EXPIRY_MARGIN_SECONDS
        if lifetime > 0:
            with self._lock:
                self._remember(key, result["access_token"], now + lifetime)
        return result["access_token"]

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.secret and self.authority)

    def get(self, token: str, path: str, *, params: dict[str, str],
            headers: dict[str, str] | None = None) -> dict[str, Any]:
        """GET a Graph resource (JSON) with a token from :meth:`token`.

        UpstreamError (502, French) when Graph fails or answers something else than JSON;
        the token is never logged.
        """
        try:
            response = requests.get(f"{self.graph_url}{path}", params=params,
                                    headers={**(headers or {}), "Authorization": f"Bearer {token}"},
                                    timeout=GRAPH_TIMEOUT_SECONDS)
            if response.status_code == 403:
                raise Forbidden("Plume n'est pas autorisé à lire ce contenu Microsoft 365 pour vous.",
                                code="consentement_requis", detail=f"Graph {path}: 403")
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError) as exc:
            raise UpstreamError("Microsoft 365 ne répond pas. Réessayez dans quelques instants.",
                                code="graph_indisponible",
                                detail=f"Graph {path}: {type(exc).__name__}") from None

    def _remember(self, key: tuple[str, tuple[str, ...]], token: str, expires: float) -> None:
        now = time.monotonic()
        for stale in [k for k, (_, exp) in self._cache.items() if exp <= now]:
            del self._cache[stale]
        while len(self._cache) >= MAX_CACHED_TOKENS:
            del self._cache[next(iter(self._cache))]
        self._cache[key] = (token, expires)
