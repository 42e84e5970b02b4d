"""Entry point of ``python -m backend``: a Flask CLI group over :func:`backend.create_app`."""
from __future__ import annotations

import sys
from typing import Any, Mapping

import click
from flask import Flask
from flask.cli import FlaskGroup

from . import create_app
from .llm import whisper_local
from .manifests import standalone_command
from .settings import ConfigError


def main() -> None:
    """Build the application once from the environment, then run the command.

    A bad setting stops here with its plain-words message instead of a traceback. The
    group's factory returns that application; with settings (``serve`` passes the
    demonstration model's), it builds a new one from the environment and those settings.
    """
    if sys.argv[1:2] == ["manifest"]:  # needs only what a manifest contains, not a whole server
        standalone_command.main(args=sys.argv[2:], prog_name="python -m backend manifest")
        return
    try:
        app = create_app()
    except ConfigError as exc:
        click.echo(f"Configuration invalide : {exc}", err=True)
        sys.exit(2)
    if sys.argv[1:2] == ["worker"]:
        app = worker_app(app)

    def factory(overrides: Mapping[str, Any] | None = None) -> Flask:
        return create_app(overrides) if overrides else app

    group = FlaskGroup(create_app=factory, add_default_commands=False,
                       add_version_option=False, load_dotenv=False,
                       help="Plume: sovereign AI assistant for French justice.")
    group.main(prog_name="python -m backend")


def worker_app(app: Flask) -> Flask:
    """What ``worker`` runs jobs with: like ``serve``, the embedded Whisper started first when
    no transcription host is configured (so a separate worker transcribes offline)."""
    speech = whisper_local.start_for_serve(app.config)
    if speech:
        return create_app(whisper_local.settings_for(speech))
    return app


if __name__ == "__main__":
    main()
