"""The application factory: every room joined into one Flask app (``backend.create_app``)."""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask

from . import api, audit, auth, cli, db, errors, jobs, llm, logs, manifests, retrieval
from . import config as config_module


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application.

    ``config`` overrides settings by their ``app.config`` name (``LLM_BASE_URL``) or
    environment name (``PLUME_LLM_BASE_URL``); tests use it instead of the environment.
    Raises :class:`backend.settings.ConfigError` with a plain-words message on a bad setting.
    """
    app = Flask("backend", static_folder=None)
    app.config.update(config_module.load(config))
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    logs.configure(app.config["LOG_LEVEL"])

    errors.init_app(app)
    logs.init_app(app)
    db.init_app(app)
    auth.init_app(app)
    llm.init_app(app)
    retrieval.init_app(app)
    audit.init_app(app)
    jobs.init_app(app)
    api.init_app(app)
    manifests.init_app(app)
    cli.init_app(app)
    return app
