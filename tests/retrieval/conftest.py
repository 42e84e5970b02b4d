"""Fixtures of the retrieval tests: a fake embeddings host and small corpora on disk."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from backend import retrieval
from backend.auth import User
from tests.fakes.embeddings import FakeEmbeddings

SAMPLE = Path(__file__).resolve().parents[2] / "backend" / "data" / "corpus" / "decisions.jsonl"


@pytest.fixture
def fake_embeddings() -> Iterator[FakeEmbeddings]:
    with FakeEmbeddings() as fake:
        yield fake


@pytest.fixture
def search_app(make_app, fake_embeddings):
    """An app whose embeddings come from the fake host; no background thread."""
    return make_app(EMBEDDINGS_BASE_URL=fake_embeddings.url, EMBEDDINGS_MODEL="fake-e5",
                    EMBED_IN_BACKGROUND=False)


def decision(source_id: str, text: str, **fields: Any) -> dict[str, Any]:
    """A decision in the corpus format."""
    return {"id": source_id, "jurisdiction": "Cour de cassation", "chamber": "Chambre sociale",
            "number": "21-12.345", "date": "2022-03-09", "solution": "Rejet", "text": text,
            "source": "test", **fields}


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[..., Path]:
    def write(records: list[Any], name: str = "decisions.jsonl") -> Path:
        path = tmp_path / name
        lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


@pytest.fixture
def sample_records() -> list[dict[str, Any]]:
    """The sample corpus, as dicts."""
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]


def ingest(app, paths: list[Path]) -> retrieval.IngestReport:
    with app.app_context():
        return retrieval.ingest_paths([str(p) for p in paths], progress=False)


def embed_all(app) -> int:
    with app.app_context():
        return retrieval.embed_pending()


def user(*jurisdictions: str, roles: tuple[str, ...] = ("Plume.Magistrat",)) -> User:
    return User(id="u-test", name="Test", roles=frozenset(roles), jurisdictions=frozenset(jurisdictions))
