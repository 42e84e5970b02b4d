"""``GET /api/v1/client-config``: what the panes need to sign in, before anyone is signed in.

Public (no token): it holds only identifiers that are already public in the manifests
and the sign-in pages (client id, tenant id, authority), never a secret.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

bp = Blueprint("client_config", __name__)


def dev_banner(config: dict) -> str | None:
    """The banner the panes show in development mode (None with Entra ID)."""
    if config["AUTH_MODE"] != "dev":
        return None
    name = config["DEV_USER"].get("name") or config["DEV_USER"].get("id", "dev-user")
    return (f"Mode développement : vous utilisez Plume sans connexion Entra ID, en tant que "
            f"« {name} ». N'y mettez aucune donnée réelle.")


@bp.get("/api/v1/client-config")
def client_config():
    """Sign-in settings for the add-in (MSAL / Office SSO) and the development banner."""
    config = current_app.config
    api_uri, scope = config.get("AUTH_API_URI"), config["AUTH_SCOPE"]
    return jsonify(
        auth_mode=config["AUTH_MODE"],
        client_id=config.get("AUTH_CLIENT_ID"),
        tenant_id=config.get("AUTH_TENANT_ID"),
        api_scope=f"{api_uri}/{scope}" if api_uri else None,
        authority=config.get("AUTH_AUTHORITY"),
        dev_banner=dev_banner(config),
    )


OPENAPI = {
    "/api/v1/client-config": {"get": {
        "summary": "Sign-in settings for the add-in (public, no token)",
        "tags": ["auth"],
        "security": [],
        "responses": {"200": {
            "description": "Sign-in settings",
            "content": {"application/json": {"schema": {
                "type": "object",
                "required": ["auth_mode", "client_id", "tenant_id", "api_scope", "authority",
                             "dev_banner"],
                "properties": {
                    "auth_mode": {"type": "string", "enum": ["entra", "dev"]},
                    "client_id": {"type": ["string", "null"]},
                    "tenant_id": {"type": ["string", "null"]},
                    "api_scope": {"type": ["string", "null"],
                                  "description": "Scope to request, e.g. api://host/<id>/access_as_user"},
                    "authority": {"type": ["string", "null"]},
                    "dev_banner": {"type": ["string", "null"],
                                   "description": "French banner to show in development mode"},
                }}}}}},
    }},
}
