"""Settings of the identity and access room."""
from __future__ import annotations

from typing import Any

from ..settings import ConfigError, Setting

SETTINGS: list[Setting] = [
    Setting("PLUME_AUTH_MODE", "str", None,
            "`entra` (Entra ID bearer tokens; default outside development) or `dev` "
            "(a local user, loopback only; default when `PLUME_ENV=development`).",
            choices=("entra", "dev")),
    Setting("PLUME_AUTH_TENANT_ID", "str", None, "Entra tenant id (GUID) that issues tokens."),
    Setting("PLUME_AUTH_CLIENT_ID", "str", None, "Application (client) id of Plume's API registration."),
    Setting("PLUME_AUTH_OPENID_CONFIG_URL", "str", None,
            "Overrides the Entra OpenID discovery URL (sovereign identity providers, tests)."),
    Setting("PLUME_DEV_USER", "json",
            {"id": "dev-user", "name": "Utilisateur de développement",
             "roles": ["Plume.Magistrat", "Plume.Greffier", "Plume.Admin"],
             "jurisdictions": ["Cour d'appel de Paris"]},
            "JSON of the local user in dev mode: `id`, `name`, `roles`, `jurisdictions`."),
]


def validate(config: dict[str, Any]) -> None:
    """Fail fast on inconsistent auth settings."""
    if config["AUTH_MODE"] == "entra":
        missing = [name for name, key in (("PLUME_AUTH_TENANT_ID", "AUTH_TENANT_ID"),
                                          ("PLUME_AUTH_CLIENT_ID", "AUTH_CLIENT_ID"))
                   if not config.get(key)]
        if missing:
            raise ConfigError(
                f"PLUME_AUTH_MODE=entra needs {' and '.join(missing)} "
                "(or PLUME_AUTH_MODE=dev on a workstation)"
            )
