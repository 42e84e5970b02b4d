"""Sovereignty: during full assist calls the backend connects to the configured host only."""
from __future__ import annotations

import sys
import threading
from urllib.parse import urlsplit

import pytest

from tests.llm.conftest import events

_seen: list[tuple[str, object]] = []
_recording = threading.Event()


def _hook(event: str, args: tuple) -> None:
    # Audit hooks see every connection any thread of this process opens (and every DNS lookup).
    if _recording.is_set() and event in ("socket.connect", "socket.getaddrinfo"):
        _seen.append((event, args[1] if event == "socket.connect" else args[0]))


sys.addaudithook(_hook)


@pytest.fixture
def connections():
    _seen.clear()
    _recording.set()
    yield _seen
    _recording.clear()


def _database_address(address: object, database_url: str) -> bool:
    """The test database (a unix socket, or its TCP host and port)."""
    url = urlsplit(database_url)
    if isinstance(address, str):
        return ".s.PGSQL." in address
    return isinstance(address, tuple) and address[:2] == (url.hostname, url.port)


def test_a_full_assist_call_contacts_only_the_configured_host(llm_client, fake_llm, connections,
                                                              database_url):
    mail = "Bonjour, voir https://exemple.org/piece et le dossier n° RG 23/01234. Merci."
    for task, body in [("summarize", {"text": "Le jugement est confirmé. Voir www.legifrance.gouv.fr."}),
                       ("mail-summary", {"text": mail, "subject": "RG 23/01234"}),
                       ("mail-reply", {"text": mail, "instructions": "Accuser réception."}),
                       ("draft", {"instructions": "Motiver le rejet.", "text": "Le demandeur soutient…"})]:
        assert events(llm_client.post(f"/api/v1/assist/{task}", json=body))[-1][0] == "done", task

    upstream = ("127.0.0.1", fake_llm.port)
    contacted = [address for event, address in connections if event == "socket.connect"]
    assert upstream in contacted
    others = [a for a in contacted if a != upstream and not _database_address(a, database_url)]
    assert others == [], f"connections to unconfigured hosts: {others}"
    lookups = {host for event, host in connections if event == "socket.getaddrinfo"}
    assert lookups <= {"127.0.0.1", urlsplit(database_url).hostname, None}, lookups
