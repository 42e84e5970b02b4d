"""Identity and access: who is calling, what they may do, how much they may spend.

Every ``/api/`` request is authenticated before its view runs and ``g.user`` holds a
:class:`User`:

- ``PLUME_AUTH_MODE=entra``: an ``Authorization: Bearer`` access token issued by Entra ID
  for Plume's API (see :mod:`.tokens` for the checks). Every refusal is a 401 with a
  ``WWW-Authenticate`` header and a French message; the reason is logged, never the token.
- ``PLUME_AUTH_MODE=dev``: the configured local user, only on a loopback server (checked
  at start-up by the settings and again for each request's peer address).

Roles come from the token's ``roles`` claim and decide which tasks (:data:`TASK_ROLES`,
:func:`authorize_task`) and pages (:func:`require_roles`) a user reaches. Jurisdictions
come from a claim or the admin-managed mapping (:mod:`.jurisdictions`) and are what
retrieval filters private decisions by. Quotas (:func:`check_quota`, :func:`charge_tokens`)
live in PostgreSQL (:mod:`.quotas`). :func:`graph_get` reads Microsoft Graph on behalf of
the signed-in user (:func:`graph_configured` says whether the server may).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Callable, TypeVar

from flask import Flask, current_app, g, request

from ..errors import Forbidden, NotConfigured, ServiceUnavailable, Unauthorized
from . import jurisdictions, quotas
from .cli import users_group
from .graph import GraphClient
from ..settings import LOOPBACK_HOSTS
from .tokens import KeySet, KeysUnavailable, Policy, TokenRefused, bearer_from_header, string_list
from .tokens import validate as validate_token

log = logging.getLogger(__name__)

ROLE_MAGISTRAT = "Plume.Magistrat"
ROLE_GREFFIER = "Plume.Greffier"
ROLE_ADMIN = "Plume.Admin"
ROLES = (ROLE_MAGISTRAT, ROLE_GREFFIER, ROLE_ADMIN)

# Routes under /api/ that answer without a user (service description, sign-in settings).
PUBLIC_API_PATHS = {"/api/v1/openapi.json", "/api/v1/client-config"}
# Where a bearer token must never travel: URLs end up in proxy logs and browser history.
TOKEN_PARAMETERS = ("access_token", "id_token", "token")
REALM = "plume"
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class User:
    """The authenticated caller. ``id`` is the stable identifier (Entra ``oid``)."""

    id: str
    name: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)
    jurisdictions: frozenset[str] = field(default_factory=frozenset)
    tenant: str | None = None

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def user_hash(user_id: str) -> str:
    """Keyed hash of a user id: stable pseudonym for logs and records, not reversible."""
    key = current_app.config["AUDIT_HASH_KEY"].encode()
    return hmac.new(key, user_id.encode(), hashlib.sha256).hexdigest()[:32]


def current_user() -> User:
    user = g.get("user")
    if user is None:
        raise Unauthorized(detail="no authenticated user on this request")
    return user


def require_roles(*roles: str) -> Callable[[F], F]:
    """Refuse (403, French message) callers that hold none of ``roles``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if not user.has_any(*roles):
                raise Forbidden(detail=f"user lacks roles {roles}; has {sorted(user.roles)}")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


# Which roles reach which task (403 otherwise). Task families share a quota.
TASK_ROLES: dict[str, tuple[str, ...]] = {
    "summarize": (ROLE_MAGISTRAT,),
    "rewrite": (ROLE_MAGISTRAT,),
    "draft": (ROLE_MAGISTRAT,),
    "mail-summary": (ROLE_GREFFIER,),
    "mail-reply": (ROLE_GREFFIER,),
    "attachment-summary": (ROLE_GREFFIER,),
    "transcribe": (ROLE_MAGISTRAT, ROLE_GREFFIER),
    "search": (ROLE_MAGISTRAT, ROLE_GREFFIER),
    "translate": (ROLE_MAGISTRAT, ROLE_GREFFIER),
}
# Tasks a pane reaches from a page of its own rather than offers as a task (not in /me's list).
PAGE_TASK_ROLES: dict[str, tuple[str, ...]] = {
    "routing": (ROLE_GREFFIER, ROLE_ADMIN),
    "pseudonymize": (ROLE_MAGISTRAT, ROLE_GREFFIER),
    "dossier": (ROLE_MAGISTRAT, ROLE_GREFFIER),
}
TASK_FAMILY: dict[str, str] = {
    "summarize": "generation", "rewrite": "generation", "draft": "generation",
    "mail-summary": "generation", "mail-reply": "generation", "attachment-summary": "generation",
    "routing": "generation", "transcribe": "transcription", "search": "search",
    "pseudonymize": "pseudonymisation", "dossier": "generation", "translate": "generation",
}


def authorize(user: User, task: str) -> User:
    """``user``, if their roles reach ``task`` (403 in French otherwise)."""
    allowed = TASK_ROLES.get(task) or PAGE_TASK_ROLES.get(task, ())
    if not user.has_any(*allowed):
        raise Forbidden(detail=f"task {task!r} needs one of {allowed}; user has {sorted(user.roles)}")
    return user


def authorize_task(task: str) -> User:
    """The current user, if their roles reach ``task`` (403 in French otherwise)."""
    return authorize(current_user(), task)


def allowed_tasks(user: User) -> list[str]:
    """The tasks ``user`` may run (panes hide the others)."""
    return [task for task, roles in TASK_ROLES.items() if user.has_any(*roles)]


def check_quota(task: str, user: User | None = None) -> None:
    """Raise RateLimited (429, Retry-After, French message) when the user is over a limit.

    Counts one request against the per-minute rate and checks the daily token budget of the
    task's family. Call it once per assistance, search or transcription request, before the
    model is called.
    """
    user = user or current_user()
    per_minute, budget = quota_limits(task)
    quotas.check(user_hash(user.id), TASK_FAMILY.get(task, task), per_minute=per_minute,
                 daily_budget=budget)


def quota_limits(task: str) -> tuple[int, int | None]:
    """``(requests per minute, daily token budget or None)`` for ``task``'s family."""
    config = current_app.config
    return (config["QUOTA_REQUESTS_PER_MINUTE"],
            config["QUOTA_DAILY_TOKENS"].get(TASK_FAMILY.get(task, task)))


def charge_tokens(task: str, tokens: int, user: User | None = None) -> None:
    """Add ``tokens`` (prompt + completion) to the user's daily budget for the task's family."""
    user = user or current_user()
    quotas.charge(user_hash(user.id), TASK_FAMILY.get(task, task), tokens)


def graph_token_on_behalf_of(scopes: list[str]) -> str:
    """A Microsoft Graph access token for ``scopes`` on behalf of the current request's user.

    Uses msal's on-behalf-of flow with Plume's confidential client
    (``PLUME_AUTH_CLIENT_SECRET``). 503 when not configured or in dev mode; 403 when the
    tenant has not consented. Never log or return the token.
    """
    assertion = g.get("_plume_assertion")
    if not assertion:
        raise NotConfigured(
            "L'accès à Microsoft 365 n'est pas disponible sans connexion Entra ID.",
            detail="no user assertion on this request (dev mode or public route)")
    return _state()["graph"].token(assertion, scopes)


def graph_configured() -> bool:
    """Whether this server may call Microsoft Graph on behalf of its users
    (``PLUME_AUTH_CLIENT_SECRET`` set with the client id and authority)."""
    return bool(_state()["graph"].configured)


def graph_get(path: str, *, scopes: list[str], params: dict[str, str],
              headers: dict[str, str] | None = None) -> dict[str, Any]:
    """GET ``path`` of Microsoft Graph (JSON) on behalf of the current request's user.

    503 without Entra sign-in or a client secret, 403 without consent, 502 when Graph or
    the identity provider fails (French messages).
    """
    token = graph_token_on_behalf_of(scopes)
    return _state()["graph"].get(token, path, params=params, headers=headers)


def _state(app: Flask | None = None) -> dict[str, Any]:
    return (app or current_app).extensions["plume.auth"]


def _refuse(refusal: TokenRefused) -> Unauthorized:
    challenge = f'Bearer realm="{REALM}"'
    if refusal.error:
        challenge += f', error="{refusal.error}"'
    log.info("access token refused", extra={"reason": refusal.reason, "path": request.path,
                                            "request_id": g.get("request_id")})
    return Unauthorized(refusal.message, headers={"WWW-Authenticate": challenge},
                        detail=f"token refused: {refusal.reason}")


def _dev_user(config: dict) -> User:
    raw = config["DEV_USER"]
    return User(
        id=str(raw.get("id", "dev-user")),
        name=str(raw.get("name", "")),
        roles=frozenset(raw.get("roles", [])),
        jurisdictions=frozenset(raw.get("jurisdictions", [])),
    )


def _token_from_request() -> str:
    for name in TOKEN_PARAMETERS:
        if name in request.args or (request.mimetype == "application/x-www-form-urlencoded"
                                    and name in request.form):
            raise TokenRefused(f"token sent as the {name!r} parameter",
                               "Le jeton de connexion doit être envoyé dans l'en-tête Authorization, "
                               "jamais dans l'adresse ou le formulaire.", error="invalid_request")
    return bearer_from_header(request.headers.get("Authorization"))


def _user_from_claims(claims: dict[str, Any]) -> User:
    config = current_app.config
    roles = frozenset(role for role in string_list(claims.get("roles")) if role in ROLES)
    if not roles:
        raise Forbidden(
            "Votre compte n'a pas de rôle Plume (magistrat, greffier ou administrateur). "
            "Demandez l'accès à votre administrateur.",
            code="aucun_role", detail="token carries no Plume app role")
    claim = config.get("AUTH_JURISDICTIONS_CLAIM")
    if claim and claim in claims:
        places = string_list(claims[claim])
    else:
        # A sign-in name is only trusted for the tenant's own members: a guest's (``idp``
        # claim present) is an e-mail address their home organisation chose.
        name = None if "idp" in claims else (claims.get("upn") or claims.get("preferred_username"))
        places = jurisdictions.lookup(claims["oid"], name)
    return User(id=claims["oid"], name=str(claims.get("name") or ""), roles=roles,
                jurisdictions=frozenset(places), tenant=claims["tid"])


def authenticate() -> User:
    """Authenticate the current request according to ``AUTH_MODE``."""
    config = current_app.config
    if config["AUTH_MODE"] == "dev":
        # A proxy in front (forwarding headers) would turn remote users into local peers.
        forwarded = any(name in request.headers for name in FORWARDING_HEADERS)
        if request.remote_addr not in LOOPBACK_HOSTS or forwarded:
            raise Unauthorized(
                "Le mode développement n'accepte que des connexions locales.",
                headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'},
                detail=f"dev mode request from peer {request.remote_addr} (forwarded: {forwarded})")
        return _dev_user(config)
    state = _state()
    try:
        token = _token_from_request()
        claims = validate_token(token, state["keys"], state["policy"])
    except TokenRefused as refusal:
        raise _refuse(refusal) from None
    except KeysUnavailable as exc:
        raise ServiceUnavailable(
            "Le service d'identité est injoignable : impossible de vérifier votre connexion. "
            "Réessayez dans quelques instants.",
            code="identite_indisponible", detail=str(exc)) from None
    g._plume_assertion = token
    return _user_from_claims(claims)


def init_app(app: Flask) -> None:
    """Authenticate every /api/ request before its view runs; add the ``users`` commands."""
    config = app.config
    audiences = tuple(a for a in (config.get("AUTH_CLIENT_ID"), config.get("AUTH_API_URI")) if a)
    app.extensions["plume.auth"] = {
        "keys": KeySet(config["AUTH_OPENID_CONFIG_URL"]) if config.get("AUTH_OPENID_CONFIG_URL") else None,
        "policy": Policy(audiences=audiences, tenants=frozenset(config["AUTH_ALLOWED_TENANTS"]),
                         scope=config["AUTH_SCOPE"], configured_tenant=config.get("AUTH_TENANT_ID")),
        "graph": GraphClient(config),
    }
    app.cli.add_command(users_group)

    @app.before_request
    def _authenticate() -> None:
        if not request.path.startswith("/api/") or request.path in PUBLIC_API_PATHS:
            return
        if request.method == "OPTIONS":
            return
        user = authenticate()
        g.user = user
        g.user_hash = user_hash(user.id)
