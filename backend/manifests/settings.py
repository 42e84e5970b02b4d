"""Settings of the manifests room (what `python -m backend manifest` writes into the XML).

:func:`load` reads only what a manifest contains, so that an administrator renders the
manifests of a production deployment without its secrets, database or model settings.
"""
from __future__ import annotations

import re
import uuid
from typing import Any, Mapping
from urllib.parse import urlsplit

from ..auth.settings import SETTINGS as AUTH_SETTINGS
from ..settings import CORE_SETTINGS, ConfigError, Setting

# Office's manifest <Version>: one to four dot-separated numbers of at most five digits.
VERSION_PATTERN = re.compile(r"[0-9]{1,5}(\.[0-9]{1,5}){0,3}")
ENVIRONMENT_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,30}")

SETTINGS: list[Setting] = [
    Setting("PLUME_ENVIRONMENT_NAME", "str", None,
            "Name of this deployment (`production`, `recette`, `formation`…): it derives the "
            "add-in ids and, outside `production`, is shown after « Plume » in Office. "
            "Default: the value of `PLUME_ENV`."),
    Setting("PLUME_ADDIN_ID_WORD", "str", None,
            "Id (GUID) of the Word add-in. Default: derived from the environment name and the "
            "host of the base URL, so it is stable for one deployment and distinct between two."),
    Setting("PLUME_ADDIN_ID_OUTLOOK", "str", None,
            "Id (GUID) of the Outlook add-in; default derived like `PLUME_ADDIN_ID_WORD`."),
    Setting("PLUME_ADDIN_VERSION", "str", None,
            "Version written in the manifests (`1.2.0.0`); raise it to push a manifest change "
            "through the admin center. Default: the backend version."),
    Setting("PLUME_OUTLOOK_MANAGE_CATEGORIES", "bool", False,
            "Lets the Outlook pane add a category missing from the user's list before applying it "
            "(« Appliquer la catégorie » of Orientation): the Outlook manifest then asks for the "
            "ReadWriteMailbox permission instead of ReadWriteItem, which the tenant administrator "
            "consents to. Off, the user creates a missing category in Outlook."),
]


def validate(config: dict[str, Any]) -> None:
    """Fail fast on an id or version that Office would reject at upload time."""
    for env, key in (("PLUME_ADDIN_ID_WORD", "ADDIN_ID_WORD"),
                     ("PLUME_ADDIN_ID_OUTLOOK", "ADDIN_ID_OUTLOOK")):
        value = config.get(key)
        if value:
            try:
                uuid.UUID(value)
            except ValueError:
                raise ConfigError(f"{env}={value!r} must be a GUID "
                                  "(e.g. 0b6b1d3e-5c1a-4f5e-9a3e-2f1c4d5e6f70)") from None
    version = config.get("ADDIN_VERSION")
    if version and not VERSION_PATTERN.fullmatch(version):
        raise ConfigError(f"PLUME_ADDIN_VERSION={version!r} must be 1 to 4 numbers "
                          "separated by dots, each at most 5 digits (e.g. 1.2.0.0)")
    name = config.get("ENVIRONMENT_NAME")
    if name and not ENVIRONMENT_PATTERN.fullmatch(name):
        raise ConfigError(f"PLUME_ENVIRONMENT_NAME={name!r} must be lower-case letters, digits "
                          "and dashes (at most 31), e.g. recette")


# Settings of other rooms a manifest draws on: the base URL (and what its default is made
# of), the environment name's default, and the Entra application of Office SSO.
SHARED_SETTINGS = ("PLUME_ENV", "PORT", "PLUME_DEV_TLS", "PLUME_PUBLIC_URL",
                   "PLUME_AUTH_CLIENT_ID", "PLUME_AUTH_API_URI")


def manifest_settings() -> list[Setting]:
    """Every setting a manifest is rendered from, and no other."""
    shared = [s for s in (*CORE_SETTINGS, *AUTH_SETTINGS) if s.env in SHARED_SETTINGS]
    return [*shared, *SETTINGS]


def load(environ: Mapping[str, str]) -> dict[str, Any]:
    """The manifest settings from ``environ`` (typed, defaults from the settings tables),
    checked like the server checks them; other ``PLUME_*`` variables are not read."""
    settings = manifest_settings()
    config: dict[str, Any] = {s.key: s.default for s in settings}
    for setting in settings:
        if setting.env in environ:
            config[setting.key] = setting.parse(environ[setting.env])
    if not config.get("PUBLIC_URL"):
        # The server's own default (backend/config.py): the local instance.
        config["PUBLIC_URL"] = f"{'https' if config['DEV_TLS'] else 'http'}://localhost:{config['PORT']}"
    config["PUBLIC_URL"] = config["PUBLIC_URL"].rstrip("/")
    url = urlsplit(config["PUBLIC_URL"])
    if url.scheme not in {"http", "https"} or not url.hostname:
        raise ConfigError(f"PLUME_PUBLIC_URL={config['PUBLIC_URL']!r} must be an http(s) URL")
    validate(config)
    return config
