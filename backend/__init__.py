"""Plume's backend: one application factory, one room per capability.

Rooms (each a package with ``init_app`` and a few documented functions):

- ``db``: connection pool, migrations, embedded PostgreSQL
- ``auth``: who is calling (Entra ID or the dev user), roles, quotas
- ``llm``: the sovereign LLM gateway (streaming assistance, transcription)
- ``retrieval``: case-law ingestion and hybrid search
- ``documents``: reading .docx and .pdf files
- ``audit``: AI Act interaction records and the observatory
- ``jobs``: long work (dossiers, hearings) as resumable background jobs
- ``api``: the HTTP surface (one blueprint per use case), edges and the add-in files
- ``manifests``: the Word and Outlook add-in manifests (``python -m backend manifest``)
"""
from __future__ import annotations

from typing import Any

from .version import __version__

__all__ = ["create_app", "__version__"]


def __getattr__(name: str) -> Any:
    """``backend.create_app``, imported on first use: the package itself stays light.

    gunicorn's master imports ``backend.serving`` to find its worker class before any worker
    exists. Whatever the package imported then, each forked worker would inherit before gevent
    patches it: module-level locks made as real OS locks, which freeze the worker's one event
    loop when a greenlet waits on one held by another.
    """
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'backend' has no attribute {name!r}")
