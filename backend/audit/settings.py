"""Settings of the audit (AI Act record-keeping) room."""
from __future__ import annotations

from typing import Any

from ..settings import Setting

SETTINGS: list[Setting] = [
    Setting("PLUME_AUDIT_HASH_KEY", "str", None,
            "Secret key of the keyed hash that pseudonymises user ids in logs and records. "
            "Required in production.", secret=True),
]


def validate(config: dict[str, Any]) -> None:
    """Fail fast on inconsistent audit settings."""
