"""Serves the add-in files (``addin/``) at ``/addin/`` with cache headers and a strict CSP.

Panes are loaded by Office inside its own frame, so the CSP restricts what the page may
load (itself and Microsoft's Office.js host) but not who may frame it. MSAL.js fetches the
sign-in authority's metadata and tokens from the page (sign-in dialog, and pages opened in a
plain browser) and renews an expired token in a hidden frame of the authority, so
``connect-src`` and ``frame-src`` name Entra and, when it is another, the configured authority.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, redirect, send_from_directory

from ..errors import NotFound

ADDIN_DIR = Path(__file__).resolve().parents[2] / "addin"
OFFICE_JS_HOST = "https://appsforoffice.microsoft.com"
# MSAL.js (sign-in dialog) exchanges the authorization code with Entra ID by fetch.
ENTRA_LOGIN_HOST = "https://login.microsoftonline.com"

# HTML and code revalidate on every load (a rollout is visible at once, ETag keeps it
# cheap); images and vendored libraries change rarely.
REVALIDATE = "no-cache"
LONG_CACHE = "public, max-age=86400"
LONG_CACHE_SUFFIXES = {".png", ".svg", ".ico", ".woff2", ".woff"}


# Built once per authority, not on every file served.
@lru_cache(maxsize=8)
def addin_csp(authority: str | None = None) -> str:
    """The add-in pages' CSP; a sign-in ``authority`` other than Entra's is allowed to be fetched."""
    sign_in = ["'self'", ENTRA_LOGIN_HOST]
    if authority:
        parts = urlsplit(authority)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin != ENTRA_LOGIN_HOST:
            sign_in.append(origin)
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' {OFFICE_JS_HOST}",
        "style-src 'self' 'unsafe-inline'",  # Office.js injects inline styles into its dialogs
        "img-src 'self' data:",
        "media-src 'self' blob:",  # Transcrire plays the user's own recording from the pane
        "font-src 'self'",
        f"connect-src {' '.join(sign_in)}",
        f"frame-src {' '.join(sign_in)}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ])


# With Entra's own authority (the default), and what deploy/nginx/plume.conf sends.
ADDIN_CSP = addin_csp()

bp = Blueprint("addin", __name__)


@bp.get("/")
def index():
    return redirect("/addin/")


@bp.get("/addin/")
@bp.get("/addin/<path:filename>")
def addin_file(filename: str = "index.html") -> Response:
    """A file of the add-in; directories serve their index.html."""
    if filename.endswith("/"):
        filename += "index.html"
    target = (ADDIN_DIR / filename).resolve()
    if ADDIN_DIR not in target.parents or not target.is_file():
        raise NotFound("Ce fichier du complément n'existe pas.", detail=f"addin file {filename!r}")
    response = send_from_directory(ADDIN_DIR, os.path.relpath(target, ADDIN_DIR),
                                   max_age=None, conditional=True, etag=True)
    suffix = target.suffix.lower()
    cache = LONG_CACHE if suffix in LONG_CACHE_SUFFIXES or "/vendor/" in f"/{filename}" else REVALIDATE
    response.headers["Cache-Control"] = cache
    response.headers["Content-Security-Policy"] = addin_csp(current_app.config.get("AUTH_AUTHORITY"))
    return response


OPENAPI = {
    "/": {"get": {"summary": "Redirects to the add-in index", "tags": ["addin"], "security": [],
                  "responses": {"302": {"description": "Redirect"}}}},
    "/addin/": {"get": {"summary": "Add-in index", "tags": ["addin"], "security": [],
                        "responses": {"200": {"description": "HTML"}}}},
    "/addin/{filename}": {"get": {"summary": "Add-in file (HTML, JS, CSS, icons)", "tags": ["addin"],
                                  "security": [],
                                  "parameters": [{"name": "filename", "in": "path", "required": True,
                                                  "schema": {"type": "string"}}],
                                  "responses": {"200": {"description": "The file"},
                                                "404": {"description": "No such file"}}}},
}
