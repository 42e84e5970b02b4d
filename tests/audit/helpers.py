"""Shared helpers for the audit tests: open interactions as a given user, read the tables."""
from __future__ import annotations

from typing import Any

import psycopg
from flask import Flask, g
from psycopg.rows import dict_row

from backend import audit
from backend.auth import User, user_hash

MAGISTRAT = {"id": "magistrate-1", "name": "Mme Juge", "roles": ["Plume.Magistrat"],
             "jurisdictions": ["Cour d'appel de Paris"]}
GREFFIER = {"id": "clerk-1", "name": "M. Greffier", "roles": ["Plume.Greffier"],
            "jurisdictions": ["Tribunal judiciaire de Lyon"]}


def as_user(app: Flask, user: dict[str, Any]):
    """A request context in which ``user`` is authenticated (as the auth room would do)."""
    ctx = app.test_request_context("/api/v1/test")
    ctx.push()
    g.user = User(id=user["id"], name=user.get("name", ""), roles=frozenset(user["roles"]),
                  jurisdictions=frozenset(user.get("jurisdictions", [])))
    g.user_hash = user_hash(user["id"])
    return ctx


def record(app: Flask, user: dict[str, Any], task: str = "summarize", kind: str = "assist",
           outcome: str = "ok", error_code: str | None = None, ttft: bool = True,
           **fields: Any) -> str:
    """Open and finish one interaction as ``user``; returns its id."""
    ctx = as_user(app, user)
    try:
        interaction = audit.start(kind, task, model="albert-large", host="https://albert.example/v1",
                                  prompt_version=f"{task}@1", **fields)
        if ttft:
            interaction.first_token()
        interaction.finish(outcome, error_code=error_code,
                           usage={"prompt_tokens": 120, "completion_tokens": 30})
        return interaction.id
    finally:
        ctx.pop()


def rows(database_url: str, sql: str, params: Any = None) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def execute(database_url: str, sql: str, params: Any = None) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql, params)
