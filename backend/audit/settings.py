"""Settings of the audit (AI Act record-keeping) room."""
from __future__ import annotations

import ipaddress
from typing import Any

from ..settings import ConfigError, Setting

# AI Act Art. 19 and 26(6): automatically generated logs are kept at least six months.
MIN_RETENTION_DAYS = 183

# Pseudonyms on a workstation (never accepted in production, see validate()).
DEVELOPMENT_HASH_KEY = "plume-dev-key"

SETTINGS: list[Setting] = [
    Setting("PLUME_AUDIT_HASH_KEY", "str", None,
            "Secret key of the keyed hash that pseudonymises user ids in logs and records. "
            "Required in production (at least 16 characters); changing it starts new pseudonyms. "
            "Unset in development: a fixed development key.",
            secret=True),
    Setting("PLUME_AUDIT_RETENTION_DAYS", "int", MIN_RETENTION_DAYS,
            "Days an interaction record and its events are kept before `python -m backend audit "
            "prune` removes them (the AI Act asks for at least six months; shorter is refused in "
            "production)."),
    Setting("PLUME_AUDIT_CONTENT_LOGGING", "bool", False,
            "An administrator's explicit choice to also keep prompt, document and answer text, in a "
            "separate table (`audit_content`). Off by default: records hold metadata only."),
    Setting("PLUME_AUDIT_CONTENT_RETENTION_DAYS", "int", 30,
            "Days logged content is kept when `PLUME_AUDIT_CONTENT_LOGGING=1` (pruned by `audit prune`)."),
    Setting("PLUME_METRICS_ALLOWED_NETWORKS", "list", ["127.0.0.1/32", "::1/128"],
            "Comma-separated networks (CIDR) allowed to read `/metrics` without a token."),
    Setting("PLUME_METRICS_TOKEN", "str", None,
            "Bearer token that also opens `/metrics` (for a Prometheus outside those networks).",
            secret=True),
]


def validate(config: dict[str, Any]) -> None:
    """Fail fast on inconsistent audit settings."""
    production = config["ENV"] == "production"
    key = config.get("AUDIT_HASH_KEY")
    if production and not key:
        raise ConfigError(
            "PLUME_AUDIT_HASH_KEY is required in production: set a random secret of at least 16 "
            "characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    if not key:
        config["AUDIT_HASH_KEY"] = key = DEVELOPMENT_HASH_KEY
    if production and len(key) < 16:
        raise ConfigError("PLUME_AUDIT_HASH_KEY is too short: use at least 16 random characters")
    retention = config["AUDIT_RETENTION_DAYS"]
    if retention < 1:
        raise ConfigError(f"PLUME_AUDIT_RETENTION_DAYS={retention} must be a positive number of days")
    if production and retention < MIN_RETENTION_DAYS:
        raise ConfigError(
            f"PLUME_AUDIT_RETENTION_DAYS={retention} is shorter than the six months "
            f"({MIN_RETENTION_DAYS} days) the AI Act requires for automatic logs"
        )
    if config["AUDIT_CONTENT_RETENTION_DAYS"] < 1:
        raise ConfigError("PLUME_AUDIT_CONTENT_RETENTION_DAYS must be a positive number of days")
    for cidr in config["METRICS_ALLOWED_NETWORKS"] or []:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ConfigError(
                f"PLUME_METRICS_ALLOWED_NETWORKS: {cidr!r} is not a network (e.g. 10.0.0.0/8)"
            ) from None
