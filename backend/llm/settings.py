"""Settings of the LLM gateway room."""
from __future__ import annotations

from typing import Any

from ..settings import Setting

SETTINGS: list[Setting] = [
    Setting("PLUME_LLM_BASE_URL", "str", None,
            "Base URL of the sovereign OpenAI-compatible host (e.g. `https://albert.api.etalab.gouv.fr/v1`). "
            "Unset: generation answers 503 (and `make run` starts the local demonstration model)."),
    Setting("PLUME_LLM_API_KEY", "str", None, "API key for `PLUME_LLM_BASE_URL`.", secret=True),
    Setting("PLUME_LLM_MODEL", "str", None, "Default model for every task."),
]


def validate(config: dict[str, Any]) -> None:
    """Fail fast on inconsistent gateway settings."""
