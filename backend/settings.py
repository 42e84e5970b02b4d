"""The settings table: every configuration variable Plume reads, in one place.

Each room declares its own settings in ``backend/<room>/settings.py`` as a list of
:class:`Setting`; :mod:`backend.config` gathers them, reads the environment once in the
factory, converts and validates values, and fails fast with a plain-words message.
The README's configuration table is checked against this list by a test, so a setting
that is not documented cannot land.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable


# Addresses that never leave the machine (dev sign-in, plain-http public URL, demo model).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable and what to do."""


def _to_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on", "oui"}:
        return True
    if value in {"0", "false", "no", "off", "non", ""}:
        return False
    raise ValueError("expected 1/0, true/false, yes/no or on/off")


def _to_json(raw: str) -> Any:
    return json.loads(raw)


def _to_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


PARSERS: dict[str, Callable[[str], Any]] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": _to_bool,
    "json": _to_json,
    "list": _to_list,
}


@dataclass(frozen=True)
class Setting:
    """One configuration variable.

    ``env`` is the environment name (``PLUME_LLM_MODEL``); ``key`` the name in
    ``app.config`` (the env name without the ``PLUME_`` prefix, unless given).
    ``secret`` settings are never printed or logged. ``at_least``, ``above`` and ``at_most``
    bound a number, so a room's ``validate`` keeps only the checks that join settings.
    """

    env: str
    kind: str
    default: Any
    doc: str
    key: str = ""
    secret: bool = False
    choices: tuple[str, ...] = field(default=())
    at_least: float | None = None
    above: float | None = None
    at_most: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in PARSERS:
            raise TypeError(f"unknown setting kind {self.kind!r} for {self.env}")
        if not self.key:
            key = self.env[len("PLUME_"):] if self.env.startswith("PLUME_") else self.env
            object.__setattr__(self, "key", key)

    def parse(self, raw: str) -> Any:
        """Convert an environment string, raising ConfigError in plain words."""
        try:
            value = PARSERS[self.kind](raw)
        except ValueError as exc:
            raise ConfigError(f"{self.env}={raw!r} is not a valid {self.kind}: {exc}") from None
        return self.check(value)

    def check(self, value: Any) -> Any:
        """Validate an already-typed value (from an override dict or a default)."""
        if self.choices and value is not None and value not in self.choices:
            raise ConfigError(
                f"{self.env}={value!r} is not allowed; choose one of: {', '.join(self.choices)}"
            )
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.at_least is not None and value < self.at_least:
                raise ConfigError(f"{self.env}={value!r} must be at least {self.at_least:g}")
            if self.above is not None and value <= self.above:
                raise ConfigError(f"{self.env}={value!r} must be more than {self.above:g}")
            if self.at_most is not None and value > self.at_most:
                raise ConfigError(f"{self.env}={value!r} must be at most {self.at_most:g}")
        return value


CORE_SETTINGS: list[Setting] = [
    Setting("PLUME_ENV", "str", "production",
            "`development` for a workstation (dev sign-in allowed, dev certificate), "
            "`production` otherwise.", choices=("development", "production")),
    Setting("DATABASE_URL", "str", None,
            "PostgreSQL (with pgvector) connection URL. Unset: Plume starts its own embedded "
            "PostgreSQL 18 + pgvector 0.8 under `PLUME_DATA_DIR`.", secret=True),
    Setting("PLUME_SEARCH_DATABASE_URL", "str", None,
            "A read-only copy of the database (a PostgreSQL streaming replica with pgvector) for "
            "case-law searches, the heaviest reads. Unset: searches use `DATABASE_URL`. Everything "
            "else, and every write (interaction records, quotas, feedback), uses `DATABASE_URL`.",
            secret=True),
    Setting("PLUME_DATA_DIR", "str", "./var",
            "Where the embedded database, development certificate and local model state live."),
    Setting("PLUME_DB_POOL_SIZE", "int", 10,
            "Largest number of database connections one worker process keeps."),
    Setting("PORT", "int", 3000, "Port of `serve` / `make run`."),
    Setting("PLUME_HOST", "str", "127.0.0.1",
            "Interface `serve` listens on. Dev sign-in is refused unless this is loopback."),
    Setting("PLUME_DEV_TLS", "bool", True,
            "`serve` uses HTTPS with a locally generated certificate; `0` serves plain HTTP "
            "(behind a TLS-terminating proxy)."),
    Setting("PLUME_PUBLIC_URL", "str", None,
            "The https base URL the add-in is served from (manifests, CORS). "
            "Default: `https://localhost:PORT`."),
    Setting("PLUME_LOG_LEVEL", "str", "INFO", "Log level of the JSON logs on stdout.",
            choices=("DEBUG", "INFO", "WARNING", "ERROR")),
    Setting("PLUME_MAX_BODY_BYTES", "int", 2 * 1024 * 1024,
            "Largest request body accepted by default (routes may set their own limit)."),
    Setting("PLUME_LOAD_SAMPLE_CORPUS", "bool", True,
            "`serve` loads the 307-decision sample corpus into an empty database."),
]
