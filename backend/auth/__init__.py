"""Identity and access: who is calling, what they may do.

Every ``/api/`` request is authenticated before its view runs and ``g.user`` holds a
:class:`User`. Views that need a role use :func:`require_roles`.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Callable, TypeVar

from flask import Flask, current_app, g, request

from ..errors import Forbidden, Unauthorized

log = logging.getLogger(__name__)

ROLE_MAGISTRAT = "Plume.Magistrat"
ROLE_GREFFIER = "Plume.Greffier"
ROLE_ADMIN = "Plume.Admin"

# Routes under /api/ that answer without a user (service description for tooling).
PUBLIC_API_PATHS = {"/api/v1/openapi.json"}

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
    key = (current_app.config.get("AUDIT_HASH_KEY") or "plume-dev-key").encode()
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
}
TASK_FAMILY: dict[str, str] = {
    "summarize": "generation", "rewrite": "generation", "draft": "generation",
    "mail-summary": "generation", "mail-reply": "generation", "attachment-summary": "generation",
    "transcribe": "transcription", "search": "search",
}


def authorize_task(task: str) -> User:
    """The current user, if their roles reach ``task`` (403 in French otherwise)."""
    user = current_user()
    allowed = TASK_ROLES.get(task, ())
    if not user.has_any(*allowed):
        raise Forbidden(detail=f"task {task!r} needs one of {allowed}; user has {sorted(user.roles)}")
    return user


def check_quota(task: str) -> None:
    """Raise RateLimited (429, Retry-After) when the user is over their rate or daily budget.

    Not enforced yet: the quotas come with the identity and access issue.
    """


def charge_tokens(task: str, tokens: int) -> None:
    """Add ``tokens`` to the user's daily budget for the task's family (not enforced yet)."""


def _dev_user(config: dict) -> User:
    raw = config["DEV_USER"]
    return User(
        id=str(raw.get("id", "dev-user")),
        name=str(raw.get("name", "")),
        roles=frozenset(raw.get("roles", [])),
        jurisdictions=frozenset(raw.get("jurisdictions", [])),
    )


def authenticate() -> User:
    """Authenticate the current request according to ``AUTH_MODE``."""
    config = current_app.config
    if config["AUTH_MODE"] == "dev":
        return _dev_user(config)
    raise Unauthorized(
        headers={"WWW-Authenticate": 'Bearer realm="plume"'},
        detail="entra token validation is not implemented yet",
    )


def init_app(app: Flask) -> None:
    """Authenticate every /api/ request before its view runs."""

    @app.before_request
    def _authenticate() -> None:
        if not request.path.startswith("/api/") or request.path in PUBLIC_API_PATHS:
            return
        if request.method == "OPTIONS":
            return
        user = authenticate()
        g.user = user
        g.user_hash = user_hash(user.id)
