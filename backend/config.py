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

from .audit import settings as audit_settings
from .auth import settings as auth_settings
from .db import settings as db_settings
from .documents import settings as documents_settings
from .jobs import settings as jobs_settings
from .llm import settings as llm_settings
from .manifests import settings as manifests_settings
from .retrieval import settings as retrieval_settings
from .settings import CORE_SETTINGS, LOOPBACK_HOSTS, ConfigError, Setting
from .usecases import dossier_settings, mail_settings, transcription_settings

log = logging.getLogger(__name__)


def all_settings() -> list[Setting]:
    """Every setting of every room, core first."""
    return [*CORE_SETTINGS, *db_settings.SETTINGS, *llm_settings.SETTINGS,
            *retrieval_settings.SETTINGS, *auth_settings.SETTINGS, *audit_settings.SETTINGS,
            *mail_settings.SETTINGS, *manifests_settings.SETTINGS, *jobs_settings.SETTINGS,
            *documents_settings.SETTINGS, *dossier_settings.SETTINGS,
            *transcription_settings.SETTINGS]


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
    # Bounds on one number are the settings' own (Setting.at_least…); these join settings.
    for room in (llm_settings, retrieval_settings, auth_settings, audit_settings, mail_settings,
                 manifests_settings):
        room.validate(config)


def describe(config: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration with secrets masked, for start-up logs."""
    secret_keys = {s.key for s in all_settings() if s.secret}
    return {k: ("***" if k in secret_keys and config.get(k) else config.get(k))
            for k in sorted({s.key for s in all_settings()})}
