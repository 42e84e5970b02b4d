"""Read configuration once, in the factory: typed defaults, then the environment, then overrides.

Nothing here is a module-level singleton: :func:`load` returns a plain dict that
``create_app`` puts into ``app.config``. Tests pass an override dict keyed by
``app.config`` names (``{"LLM_BASE_URL": ...}``) or by environment names.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

from .settings import CORE_SETTINGS, ConfigError, Setting

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}


def all_settings() -> list[Setting]:
    """Every setting of every room, core first."""
    from .audit.settings import SETTINGS as audit
    from .auth.settings import SETTINGS as auth
    from .db.settings import SETTINGS as db
    from .jobs.settings import SETTINGS as jobs
    from .llm.settings import SETTINGS as llm
    from .llm.mail_settings import SETTINGS as mail
    from .manifests.settings import SETTINGS as manifests
    from .retrieval.settings import SETTINGS as retrieval

    return [*CORE_SETTINGS, *db, *llm, *retrieval, *auth, *audit, *mail, *manifests, *jobs]


def load(overrides: Mapping[str, Any] | None = None,
         environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the configuration dict, raising :class:`ConfigError` on a bad setting."""
    environ = os.environ if environ is None else environ
    settings = all_settings()
    by_env = {s.env: s for s in settings}
    by_key = {s.key: s for s in settings}
    config: dict[str, Any] = {s.key: s.default for s in settings}

    for name, raw in environ.items():
        setting = by_env.get(name)
        if setting is not None:
            config[setting.key] = setting.parse(raw)
        elif name.startswith("PLUME_"):
            log.warning("unknown setting %s ignored (check its spelling)", name)

    for name, value in (overrides or {}).items():
        setting = by_key.get(name) or by_env.get(name)
        if setting is None:
            config[name] = value  # Flask's own keys (TESTING, ...) pass through
            continue
        if isinstance(value, str) and setting.kind != "str":
            value = setting.parse(value)
        config[setting.key] = setting.check(value)

    _derive(config)
    _validate(config, settings)
    return config


def _derive(config: dict[str, Any]) -> None:
    """Fill settings whose default depends on others."""
    if not config.get("PUBLIC_URL"):
        scheme = "https" if config["DEV_TLS"] else "http"
        config["PUBLIC_URL"] = f"{scheme}://localhost:{config['PORT']}"
    config["PUBLIC_URL"] = config["PUBLIC_URL"].rstrip("/")
    if not config.get("AUTH_MODE"):
        config["AUTH_MODE"] = "dev" if config["ENV"] == "development" else "entra"
    config["DATA_DIR"] = os.path.abspath(config["DATA_DIR"])


def _validate(config: dict[str, Any], settings: Iterable[Setting]) -> None:
    if not 0 < config["PORT"] < 65536:
        raise ConfigError(f"PORT={config['PORT']} must be between 1 and 65535")
    url = urlsplit(config["PUBLIC_URL"])
    if url.scheme not in {"http", "https"} or not url.hostname:
        raise ConfigError(f"PLUME_PUBLIC_URL={config['PUBLIC_URL']!r} must be an http(s) URL")
    if url.scheme != "https" and url.hostname not in LOOPBACK_HOSTS:
        raise ConfigError(
            f"PLUME_PUBLIC_URL={config['PUBLIC_URL']!r} must use https "
            "(Office only loads add-ins over https; plain http is allowed for localhost only)"
        )
    from .audit.settings import validate as audit_validate
    from .auth.settings import validate as auth_validate
    from .jobs.settings import validate as jobs_validate
    from .llm.settings import validate as llm_validate
    from .llm.mail_settings import validate as mail_validate
    from .manifests.settings import validate as manifests_validate
    from .retrieval.settings import validate as retrieval_validate

    for validate_room in (llm_validate, retrieval_validate, auth_validate, audit_validate,
                          mail_validate, manifests_validate, jobs_validate):
        validate_room(config)


def describe(config: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration with secrets masked, for start-up logs."""
    secret_keys = {s.key for s in all_settings() if s.secret}
    return {k: ("***" if k in secret_keys and config.get(k) else config.get(k))
            for k in sorted({s.key for s in all_settings()})}
