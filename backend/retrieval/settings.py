"""Settings of the retrieval room."""
from __future__ import annotations

from typing import Any

from ..settings import Setting

SETTINGS: list[Setting] = [
    Setting("PLUME_EMBEDDINGS_BASE_URL", "str", None,
            "OpenAI-compatible host for `/v1/embeddings`. Unset: the embedded multilingual-e5-small "
            "model runs in-process."),
    Setting("PLUME_EMBEDDINGS_MODEL", "str", None, "Embedding model name on that host."),
]


def validate(config: dict[str, Any]) -> None:
    """Fail fast on inconsistent retrieval settings."""
