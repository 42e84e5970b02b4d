"""Settings of the identity and access room."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..settings import LOOPBACK_HOSTS, ConfigError, Setting
ENTRA_AUTHORITY = "https://login.microsoftonline.com"

SETTINGS: list[Setting] = [
    Setting("PLUME_AUTH_MODE", "str", None,
            "`entra` (Entra ID bearer tokens; default outside development) or `dev` "
            "(a local user, loopback only; default when `PLUME_ENV=development`).",
            choices=("entra", "dev")),
    Setting("PLUME_AUTH_TENANT_ID", "str", None, "Entra tenant id (GUID) that issues tokens."),
    Setting("PLUME_AUTH_CLIENT_ID", "str", None, "Application (client) id of Plume's API registration."),
    Setting("PLUME_AUTH_API_URI", "str", None,
            "Application ID URI of Plume's API, also accepted as token audience. "
            "Default: `api://<host of PLUME_PUBLIC_URL>/<client id>` (the form Office SSO needs)."),
    Setting("PLUME_AUTH_ALLOWED_TENANTS", "list", None,
            "Comma-separated tenant ids whose tokens are accepted. Default: `PLUME_AUTH_TENANT_ID` only."),
    Setting("PLUME_AUTH_AUTHORITY", "str", None,
            "Sign-in authority given to the add-in and used for Microsoft Graph on-behalf-of. "
            "Default: `https://login.microsoftonline.com/<tenant id>`."),
    Setting("PLUME_AUTH_OPENID_CONFIG_URL", "str", None,
            "Overrides the Entra OpenID discovery URL (sovereign identity providers, tests). "
            "Default: `<authority>/v2.0/.well-known/openid-configuration`."),
    Setting("PLUME_AUTH_SCOPE", "str", "access_as_user",
            "Delegated scope every access token must carry (`scp` claim)."),
    Setting("PLUME_AUTH_JURISDICTIONS_CLAIM", "str", None,
            "Token claim listing the user's jurisdictions (e.g. an Entra directory extension). "
            "Unset or absent from a token: the admin-managed mapping "
            "(`python -m backend users set-jurisdictions`) applies."),
    Setting("PLUME_AUTH_CLIENT_SECRET", "str", None,
            "Client secret of Plume's API registration, for Microsoft Graph calls on behalf of "
            "the user: the Outlook summary then reads the whole conversation (`Mail.Read`, "
            "delegated). Unset: it summarises the mail and the thread quoted in it.", secret=True),
    Setting("PLUME_GRAPH_URL", "str", "https://graph.microsoft.com",
            "Root of Microsoft Graph (a national cloud's Graph, or a test server)."),
    Setting("PLUME_DEV_USER", "json",
            {"id": "dev-user", "name": "Utilisateur de développement",
             "roles": ["Plume.Magistrat", "Plume.Greffier", "Plume.Admin"],
             "jurisdictions": ["Cour d'appel de Paris"]},
            "JSON of the local user in dev mode: `id`, `name`, `roles`, `jurisdictions`."),
    Setting("PLUME_QUOTA_REQUESTS_PER_MINUTE", "int", 60,
            "Largest number of assistance, search and transcription requests one user may make "
            "per minute (shared by every worker and instance); `0` disables the limit."),
    Setting("PLUME_QUOTA_DAILY_TOKENS", "json", {"generation": 200000, "transcription": 200000},
            "Daily budget per user and task family (`generation`, `transcription`, `search`), in "
            "model tokens; a family left out has no budget. Resets at midnight, Paris time."),
    Setting("PLUME_CORS_EXTRA_ORIGINS", "list", [],
            "Comma-separated origins allowed by CORS besides the origin of `PLUME_PUBLIC_URL`."),
]


def _is_loopback_url(url: str) -> bool:
    return urlsplit(url).hostname in LOOPBACK_HOSTS


def validate(config: dict[str, Any]) -> None:
    """Fail fast on inconsistent auth settings; fill the derived ones."""
    if config["AUTH_MODE"] == "dev":
        if config["ENV"] != "development":
            raise ConfigError(
                "PLUME_AUTH_MODE=dev is for a workstation only: it needs PLUME_ENV=development "
                "(production must use PLUME_AUTH_MODE=entra)"
            )
        if config["HOST"] not in LOOPBACK_HOSTS:
            raise ConfigError(
                f"PLUME_AUTH_MODE=dev is only allowed on loopback, not on PLUME_HOST={config['HOST']!r}: "
                "set PLUME_AUTH_MODE=entra or listen on 127.0.0.1"
            )
    if config["AUTH_MODE"] == "entra":
        missing = [name for name, key in (("PLUME_AUTH_TENANT_ID", "AUTH_TENANT_ID"),
                                          ("PLUME_AUTH_CLIENT_ID", "AUTH_CLIENT_ID"))
                   if not config.get(key)]
        if missing:
            raise ConfigError(
                f"PLUME_AUTH_MODE=entra needs {' and '.join(missing)} "
                "(or PLUME_AUTH_MODE=dev on a workstation)"
            )
    tenant, client = config.get("AUTH_TENANT_ID"), config.get("AUTH_CLIENT_ID")
    if not config.get("AUTH_ALLOWED_TENANTS"):
        config["AUTH_ALLOWED_TENANTS"] = [tenant] if tenant else []
    if not config.get("AUTH_AUTHORITY") and tenant:
        config["AUTH_AUTHORITY"] = f"{ENTRA_AUTHORITY}/{tenant}"
    if config.get("AUTH_AUTHORITY"):
        config["AUTH_AUTHORITY"] = config["AUTH_AUTHORITY"].rstrip("/")
    if not config.get("AUTH_OPENID_CONFIG_URL") and config.get("AUTH_AUTHORITY"):
        config["AUTH_OPENID_CONFIG_URL"] = (
            f"{config['AUTH_AUTHORITY']}/v2.0/.well-known/openid-configuration")
    if not config.get("AUTH_API_URI") and client:
        config["AUTH_API_URI"] = f"api://{urlsplit(config['PUBLIC_URL']).netloc}/{client}"

    for key, env in (("AUTH_OPENID_CONFIG_URL", "PLUME_AUTH_OPENID_CONFIG_URL"),
                     ("AUTH_AUTHORITY", "PLUME_AUTH_AUTHORITY")):
        url = config.get(key)
        if url and urlsplit(url).scheme != "https" and not _is_loopback_url(url):
            raise ConfigError(f"{env}={url!r} must use https (plain http only on localhost)")
    if config["QUOTA_REQUESTS_PER_MINUTE"] < 0:
        raise ConfigError("PLUME_QUOTA_REQUESTS_PER_MINUTE must be 0 (no limit) or more")
    budgets = config["QUOTA_DAILY_TOKENS"]
    if not isinstance(budgets, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in budgets.values()):
        raise ConfigError(
            'PLUME_QUOTA_DAILY_TOKENS must be a JSON object of whole numbers, '
            'e.g. {"generation": 200000}')
    for origin in config["CORS_EXTRA_ORIGINS"]:
        parts = urlsplit(origin)
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path not in {"", "/"}:
            raise ConfigError(
                f"PLUME_CORS_EXTRA_ORIGINS: {origin!r} is not an origin (scheme://host[:port])")
