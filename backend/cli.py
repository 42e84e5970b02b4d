"""Command line: ``python -m backend COMMAND`` or ``flask --app backend COMMAND``.

Commands are registered on ``app.cli`` by the factory, so both entry points see the
same set. Rooms add their own groups (``manifest``, ``audit``…) in their ``init_app``.
The entry point itself (``main``) is in ``__main__.py``, beside the factory it calls.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo, with_appcontext
from werkzeug.serving import run_simple

from . import db, devcert, retrieval
from .config import all_settings
from .llm import demo, whisper_local
from .settings import LOOPBACK_HOSTS

SAMPLE_CORPUS = Path(__file__).with_name("data") / "corpus" / "decisions.jsonl"


@click.command("migrate")
@with_appcontext
def migrate_command() -> None:
    """Apply pending database migrations."""
    applied = db.apply_migrations(db.database_url())
    click.echo(f"Migrations appliquées : {', '.join(applied)}" if applied
               else "Base de données à jour.")


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--quiet", is_flag=True, help="No progress bar.")
@with_appcontext
def ingest_command(paths: tuple[str, ...], quiet: bool) -> None:
    """Load decisions (JSON lines, .docx, .pdf) into the case-law index."""
    report = retrieval.ingest_paths(list(paths), progress=not quiet)
    click.echo(report.summary())
    if report.failed_files:
        sys.exit(1)


def prepare_database(app: Flask) -> None:
    """Migrate, then load the sample corpus into an empty database (first run)."""
    applied = db.apply_migrations(db.database_url(app))
    if applied:
        click.echo(f"Migrations appliquées : {', '.join(applied)}")
    if app.config["LOAD_SAMPLE_CORPUS"] and retrieval.count_decisions() == 0:
        click.echo("Premier démarrage : chargement du corpus d'exemple (307 décisions)…")
        report = retrieval.ingest_paths([str(SAMPLE_CORPUS)], progress=True)
        click.echo(report.summary())


@click.command("serve")
@click.option("--host", default=None, help="Interface to listen on (default PLUME_HOST).")
@click.option("--port", default=None, type=int, help="Port (default PORT, 3000).")
@with_appcontext
def serve_command(host: str | None, port: int | None) -> None:
    """Development server: migrate, load the sample corpus, serve API and add-in."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    db.stop_on_sigterm()  # so the embedded server (and the demo model) stop with us
    host = host or app.config["HOST"]
    port = port or app.config["PORT"]
    if app.config["AUTH_MODE"] == "dev" and host not in LOOPBACK_HOSTS:
        raise click.ClickException(
            f"PLUME_AUTH_MODE=dev is only allowed on loopback, not on {host!r}: "
            "set PLUME_AUTH_MODE=entra or listen on 127.0.0.1"
        )
    app = _with_demo_model(app)
    prepare_database(app)
    for hook in app.extensions.get("plume.serve_hooks", []):
        hook(app)

    ssl_context = None
    scheme = "http"
    if app.config["DEV_TLS"]:
        cert, key, ca = devcert.ensure_certificate(app.config["DATA_DIR"])
        ssl_context = (cert, key)
        scheme = "https"
        click.echo(devcert.TRUST_HELP.format(ca=ca))
    base = f"{scheme}://localhost:{port}"
    click.echo(
        f"Plume écoute sur {base}\n"
        f"  Complément : {base}/addin/   API : {base}/api/v1/openapi.json\n"
        "  Manifestes : make manifests (dans var/manifests/)\n"
        "  puis chargez-les dans Word/Outlook (docs/admin-guide.md, « Chargement de test »).\n"
    )
    # Werkzeug directly: Flask's app.run() refuses to run inside a `flask` CLI command.
    run_simple(host, port, app, ssl_context=ssl_context, threaded=True,
               use_reloader=False, use_debugger=False)


def _with_demo_model(app: Flask) -> Flask:
    """The application to serve: ``app``, or, when no host is configured and the
    demonstration model is wanted, a new application built with the settings of the
    demonstration model started first (settings are fixed once an application is built).

    The factory comes from the command line's ``ScriptInfo`` (``python -m backend``
    passes it); under ``flask --app`` there is none, and the demo model is not started.
    """
    if not app.config.get("LLM_DEMO_START") and not whisper_local.wanted(app.config):
        return app
    factory = click.get_current_context().ensure_object(ScriptInfo).create_app
    if factory is None:
        click.echo("Modèle de démonstration non démarré : lancez `python -m backend serve`.", err=True)
        return app
    overrides: dict[str, object] = {}
    server = demo.start_for_serve(app.config)
    if server:
        overrides.update(demo.settings_for(server, app.config))
    speech = whisper_local.start_for_serve(app.config)  # transcription without a host
    if speech:
        overrides.update(whisper_local.settings_for(speech))
    return factory(overrides) if overrides else app


def settings_table() -> str:
    """The README's configuration table, generated from the settings every room declares."""

    def show(value: object) -> str:
        if value is None:
            return "—"
        if isinstance(value, bool):
            return "`1`" if value else "`0`"
        if isinstance(value, (dict, list)):
            return "`" + json.dumps(value, ensure_ascii=False) + "`"
        return f"`{value}`"

    rows = ["| Variable | Default | What it does |", "| --- | --- | --- |"]
    for setting in all_settings():
        doc = setting.doc.replace("|", "\\|")
        if setting.choices:
            doc += " Values: " + ", ".join(f"`{c}`" for c in setting.choices) + "."
        rows.append(f"| `{setting.env}` | {show(setting.default)} | {doc} |")
    return "\n".join(rows)


@click.command("settings")
def settings_command() -> None:
    """Print the configuration table (Markdown) that the README carries."""
    click.echo(settings_table())


COMMANDS = [migrate_command, ingest_command, serve_command, settings_command]


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
