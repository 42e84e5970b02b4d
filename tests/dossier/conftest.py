"""Fixtures of the dossier tests: an app on the real PostgreSQL answering with the fake
OpenAI-compatible host, in-process workers, ``python -m backend worker`` processes, and a
fake model that answers each part of a dossier the way the map prompt asks (JSON citing the
pages it was given)."""
from __future__ import annotations

import json
import re
import subprocess
from io import BytesIO
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from backend import jobs
from tests.jobs.processes import WorkerProcesses, WorkerThreads, wait_until

FAST = {"JOB_LEASE_SECONDS": 1.5, "JOB_POLL_SECONDS": 0.2, "JOB_RETRY_DELAY": 0.0,
        "JOB_STOP_GRACE": 5.0, "LLM_MODEL": "fake-chat", "LLM_RETRIES": 0,
        "LLM_BACKOFF_SECONDS": 0.01, "QUOTA_REQUESTS_PER_MINUTE": 0}
MARKER = re.compile(r"\[([^\[\],]+), p\. (\d+)\]\n(.*?)(?=\n\n\[[^\[\],]+, p\. \d+\]\n|\n\nDONNEES|\Z)",
                    re.S)


def pages_in(body: dict) -> list[tuple[str, int, str]]:
    """The (file, page, text) the dossier sent in one map call."""
    prompt = body["messages"][-1]["content"]
    return [(m.group(1), int(m.group(2)), " ".join(m.group(3).split()))
            for m in MARKER.finditer(prompt)]


def model_reply(body: dict) -> str:
    """What a good model answers: one fact per page, with its reference and a quotation
    taken word for word from the page; the claims of each party; the pièces."""
    pages = pages_in(body)
    faits, pretentions, pieces = [], [], []
    for file, page, text in pages:
        words = text.split()
        faits.append({"date": f"2023-04-{page:02d}", "texte": f"Constat de la page {page} de {file}",
                      "ref": f"{file}, p. {page}", "citation": " ".join(words[:6]) or None})
        if "demande" in text.lower():
            pretentions.append({"partie": "M. Jean Dupont", "texte": "Demande de dommages et intérêts",
                                "ref": f"{file}, p. {page}", "citation": None})
        pieces.append({"fichier": file, "type": "Conclusions" if "conclusions" in file else "Pièce",
                       "date": "2024-01-15", "auteur": "Maître Claire Martin"})
    return json.dumps({"juridiction": None, "rg": None, "faits": faits, "procedure": [],
                       "pretentions": pretentions,
                       "points": [{"texte": "La responsabilité du bailleur est-elle engagée ?",
                                   "ref": f"{pages[0][0]}, p. {pages[0][1]}", "citation": None}]
                       if pages else [],
                       "pieces": pieces}, ensure_ascii=False)


@pytest.fixture
def dossier_app(make_app, fake_llm) -> Iterator[Any]:
    fake_llm.reply = model_reply
    app = make_app(LLM_BASE_URL=fake_llm.url, **FAST)
    with app.app_context():
        yield app


@pytest.fixture
def client(dossier_app):
    return dossier_app.test_client()


@pytest.fixture
def start_worker(dossier_app) -> Iterator[Callable[..., jobs.Worker]]:
    threads = WorkerThreads(dossier_app, 2)
    yield threads.start
    threads.stop_all()


@pytest.fixture
def spawn_worker(dossier_app, database_url: str, fake_llm, tmp_path: Path
                 ) -> Iterator[Callable[..., subprocess.Popen]]:
    """``python -m backend worker`` processes on the test database and the fake host."""
    processes = WorkerProcesses(database_url, tmp_path, {
        "PLUME_AUDIT_HASH_KEY": "test-hash-key", "PLUME_LLM_BASE_URL": fake_llm.url,
        "PLUME_LLM_MODEL": "fake-chat", "PLUME_LLM_RETRIES": "0"})
    yield processes.spawn
    processes.kill_all()


def upload(client, files: dict[str, bytes], **form: str):
    """POST /api/v1/dossiers with ``files`` (name → bytes) as the pane sends them."""
    data: dict[str, Any] = {"files": [(BytesIO(content), name) for name, content in files.items()],
                            **form}
    return client.post("/api/v1/dossiers", data=data, content_type="multipart/form-data")


def finished(client, dossier_id: str, timeout: float = 60.0) -> dict:
    return wait_until(lambda: (d := client.get(f"/api/v1/dossiers/{dossier_id}").get_json())
                      ["state"] in ("done", "failed", "cancelled") and d, timeout=timeout)


FENCED = re.compile(r"<<<DONNEES \w+ · synthese\n(.*)\nDONNEES \w+>>>", re.S)


def revise_reply(body: dict) -> str:
    """What a good model answers to « Retravaille … selon cette demande : … »: each item kept
    with its references and quotation, its text shortened; one invented reference."""
    prompt = body["messages"][-1]["content"]
    asked = re.search(r"selon cette demande : (.*)\n", prompt).group(1).strip("« »")
    out: dict[str, list] = {"faits": [], "procedure": [], "pretentions": [], "points": []}
    for line in FENCED.search(prompt).group(1).splitlines():
        item = json.loads(line)
        out[item["rubrique"]].append({"date": item["date"], "partie": item["partie"],
                                      "texte": f"[{asked[:12]}] {item['texte'][:30]}",
                                      "ref": item["ref"], "citation": item["citation"]})
    out["points"].append({"texte": "Point inventé", "ref": ["absent.pdf, p. 9"], "citation": None})
    return json.dumps(out, ensure_ascii=False)


def reply(body: dict) -> str:
    """The map prompt's answer, or the revision prompt's."""
    return revise_reply(body) if "Retravaille la partie" in body["messages"][-1]["content"] \
        else model_reply(body)
