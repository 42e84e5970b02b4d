"""Settings of the retrieval room."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..settings import ConfigError, Setting

SETTINGS: list[Setting] = [
    Setting("PLUME_EMBEDDINGS_BASE_URL", "str", None,
            "OpenAI-compatible host for `/v1/embeddings`. Unset: the embedded multilingual-e5-small "
            "model runs in-process."),
    Setting("PLUME_EMBEDDINGS_MODEL", "str", None, "Embedding model name on that host."),
    Setting("PLUME_EMBEDDINGS_API_KEY", "str", None, "API key for `PLUME_EMBEDDINGS_BASE_URL`.",
            secret=True),
    Setting("PLUME_EMBEDDINGS_PREFIXES", "bool", True,
            "Send e5-style `query: ` / `passage: ` prefixes to the embeddings host (`0` for models "
            "without them)."),
    Setting("PLUME_EMBEDDINGS_BATCH_SIZE", "int", 64,
            "Passages per `/v1/embeddings` request."),
    Setting("PLUME_EMBED_IN_BACKGROUND", "bool", True,
            "The serving process fills missing passage vectors in a background thread "
            "(also: `python -m backend embed`). The index must hold 384-dimension vectors; "
            "changing the model clears them and they are computed again."),
]


def validate(config: dict[str, Any]) -> None:
    """Fail fast on inconsistent retrieval settings."""
    url = config.get("EMBEDDINGS_BASE_URL")
    if url:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ConfigError(f"PLUME_EMBEDDINGS_BASE_URL={url!r} must be an http(s) URL "
                              "(e.g. https://embeddings.example.fr/v1)")
        if not config.get("EMBEDDINGS_MODEL"):
            raise ConfigError("PLUME_EMBEDDINGS_MODEL must name the model when "
                              "PLUME_EMBEDDINGS_BASE_URL is set")
    if config.get("EMBEDDINGS_BATCH_SIZE", 1) < 1:
        raise ConfigError("PLUME_EMBEDDINGS_BATCH_SIZE must be at least 1")
