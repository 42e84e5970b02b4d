"""What every request meets first and every response carries: CORS for the add-in's own
origins, security headers, and request size limits per route.

Size limits: a view may declare its own with :func:`body_limit`; otherwise
:data:`BODY_LIMITS` gives small JSON routes a tight one and bodiless methods almost none;
everything else has ``PLUME_MAX_BODY_BYTES``, which a view may still raise for itself
(``request.max_content_length``) before it reads the body. A body over the limit is a 413
with a French message, refused from its ``Content-Length`` before anything is read.
"""
from __future__ import annotations

from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from flask_cors import CORS

from ..errors import PayloadTooLarge

API_CSP = "default-src 'none'; frame-ancestors 'none'"
KIB = 1024

# Path prefix -> largest body, for routes whose bodies are small by nature.
BODY_LIMITS: dict[str, int] = {
    "/api/v1/feedback": 64 * KIB,
    "/api/v1/admin/": 64 * KIB,
}
BODILESS_METHODS = {"GET", "HEAD", "OPTIONS", "DELETE"}
BODILESS_LIMIT = 16 * KIB

F = TypeVar("F", bound=Callable[..., Any])


def body_limit(max_bytes: int) -> Callable[[F], F]:
    """Give a view its own request size limit (413 in French above it)."""

    def decorator(view: F) -> F:
        view._plume_body_limit = max_bytes  # type: ignore[attr-defined]
        return view

    return decorator


def allowed_origins(config: dict) -> list[str]:
    """The origins the add-in is served from (CORS allows only these)."""
    url = urlsplit(config["PUBLIC_URL"])
    origins = [f"{url.scheme}://{url.netloc}"]
    for extra in config.get("CORS_EXTRA_ORIGINS") or []:
        parts = urlsplit(extra)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in origins:
            origins.append(origin)
    return origins


def _limit_for_request() -> int | None:
    view = current_app.view_functions.get(request.endpoint or "")
    declared = getattr(view, "_plume_body_limit", None)
    if declared is not None:
        return declared
    for prefix, limit in BODY_LIMITS.items():
        if request.path.startswith(prefix):
            return limit
    if request.method in BODILESS_METHODS:
        return BODILESS_LIMIT
    return None


def _human(size: int) -> str:
    if size >= 1024 * KIB:
        return f"{size / (1024 * KIB):.0f} Mo"
    return f"{max(1, size // KIB)} Ko"


def init_app(app: Flask) -> None:
    CORS(app, resources={r"/api/*": {"origins": allowed_origins(app.config)}},
         allow_headers=["Authorization", "Content-Type", "X-Request-Id", "Last-Event-ID"],
         methods=["GET", "POST", "PUT", "DELETE"],
         expose_headers=["X-Request-Id", "Retry-After", "WWW-Authenticate"],
         supports_credentials=False, max_age=600)

    @app.before_request
    def _body_limit() -> None:
        limit = _limit_for_request()
        if limit is None:
            return
        request.max_content_length = limit
        if request.content_length is not None and request.content_length > limit:
            raise PayloadTooLarge(
                f"Le contenu envoyé est trop volumineux (au plus {_human(limit)} pour cette fonction).",
                detail=f"body of {request.content_length} bytes over the {limit}-byte limit "
                       f"of {request.path}")

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cross-Origin-Resource-Policy", "same-site")
        if request.is_secure or app.config["PUBLIC_URL"].startswith("https://"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if not request.path.startswith("/addin/"):
            # Office frames the panes, so only non-pane responses refuse framing.
            headers.setdefault("Content-Security-Policy", API_CSP)
            headers.setdefault("X-Frame-Options", "DENY")
            headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
            headers.setdefault("Cache-Control", "no-store")
        return response
