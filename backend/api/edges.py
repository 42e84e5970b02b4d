"""What every response carries: security headers and CORS for the add-in's own origins."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request
from flask_cors import CORS

API_CSP = "default-src 'none'; frame-ancestors 'none'"


def allowed_origins(config: dict) -> list[str]:
    """The origins the add-in is served from (CORS allows only these)."""
    url = urlsplit(config["PUBLIC_URL"])
    return [f"{url.scheme}://{url.netloc}"]


def init_app(app: Flask) -> None:
    CORS(app, resources={r"/api/*": {"origins": allowed_origins(app.config)}},
         expose_headers=["X-Request-Id", "Retry-After"], max_age=600)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cross-Origin-Resource-Policy", "same-site")
        if request.is_secure or app.config["PUBLIC_URL"].startswith("https://"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if not request.path.startswith("/addin/"):
            headers.setdefault("Content-Security-Policy", API_CSP)
            headers.setdefault("Cache-Control", "no-store")
        return response
