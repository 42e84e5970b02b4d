"""Add-in manifests: the XML a tenant admin uploads to the Microsoft 365 admin center.

One template set in ``manifest/templates/`` (French texts in ``manifest/texts.toml``)
renders the Word (TaskPaneApp) and Outlook (MailApp) add-in-only manifests for one
deployment of Plume. Everything a manifest points to — panes, icons, the landing page —
is served by Plume itself under the base URL, so one base URL decides the whole file.

Functions for other rooms and the CLI:

- :func:`render_all` -> ``{"word": xml, "outlook": xml}``
- :func:`check_base_url` -> the normalised base URL, or :class:`ManifestError`
- :func:`addin_id` -> the stable add-in id of one host for one deployment

``python -m backend manifest`` runs :data:`standalone_command`, which reads only the
manifest settings (:func:`settings.load`); under ``flask --app backend`` the command reads
the application's configuration.
"""
from __future__ import annotations

import os
import tomllib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import click
import jinja2
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..settings import LOOPBACK_HOSTS, ConfigError
from ..version import __version__
from . import settings

MANIFEST_DIR = Path(__file__).resolve().parents[2] / "manifest"
TEMPLATE_DIR = MANIFEST_DIR / "templates"
TEXTS_FILE = MANIFEST_DIR / "texts.toml"
SCHEMA_FILE = MANIFEST_DIR / "schemas" / "OfficeAppManifestV1_1.xsd"
ICON_PATH = "/addin/assets/icons/icon-{size}.png"

# Fixed namespace of Plume's derived add-in ids: changing it would change every id and
# make Office treat each deployment as a new add-in.
ID_NAMESPACE = uuid.UUID("6c1f7a52-3b8e-5d0a-9f4e-0d5a2b8c7e31")


class ManifestError(ValueError):
    """The manifests cannot be rendered as asked; the message says why, in French."""


@dataclass(frozen=True)
class Surface:
    """One place in Outlook where Plume's button appears."""

    name: str
    extension_point: str


@dataclass(frozen=True)
class AddinKind:
    """What differs between the Word and the Outlook manifest."""

    name: str
    template: str
    pane_path: str
    icon_size: int
    high_resolution_icon_size: int
    ribbon_icon_sizes: tuple[int, ...] = (16, 32, 80)
    options: dict[str, Any] = field(default_factory=dict)


KINDS: dict[str, AddinKind] = {
    "word": AddinKind("word", "word.xml", "/addin/word/", 32, 64,
                      # WordApi 1.3 is the floor to open; the pane feature-detects above it.
                      options={"word_api": "1.3"}),
    "outlook": AddinKind("outlook", "outlook.xml", "/addin/outlook/", 64, 128, options={
        # The pane opens from Mailbox 1.1; buttons need 1.3 (VersionOverrides 1.0); the
        # full pane — attachments via getAttachmentContentAsync — needs 1.8 (1.1 overrides).
        "mailbox_activation": "1.1", "mailbox_commands": "1.3", "mailbox_full": "1.8",
        "surfaces": [Surface("read", "MessageReadCommandSurface"),
                     Surface("compose", "MessageComposeCommandSurface")],
    }),
}
ICON_SIZES = sorted({size for kind in KINDS.values()
                     for size in (kind.icon_size, kind.high_resolution_icon_size,
                                  *kind.ribbon_icon_sizes)})


def check_base_url(base_url: str) -> str:
    """The base URL without its trailing slash; https is required except for localhost."""
    url = urlsplit(base_url.strip())
    if url.scheme not in {"http", "https"} or not url.hostname:
        raise ManifestError(
            f"L'adresse de base {base_url!r} n'est pas une URL http(s) complète "
            "(exemple : https://plume.justice.fr).")
    if url.scheme != "https" and url.hostname not in LOOPBACK_HOSTS:
        raise ManifestError(
            f"L'adresse de base {base_url!r} doit être en https : Office ne charge un complément "
            "qu'en https. Le http n'est accepté que pour localhost (essais sur un poste).")
    if url.query or url.fragment:
        raise ManifestError(f"L'adresse de base {base_url!r} ne doit contenir ni « ? » ni « # ».")
    return f"{url.scheme}://{url.netloc}{url.path}".rstrip("/")


def environment_name(config: Mapping[str, Any]) -> str:
    return config.get("ENVIRONMENT_NAME") or config["ENV"]


def addin_id(kind: str, environment: str, base_url: str) -> str:
    """A stable id: the same deployment always renders the same id, two deployments never do.

    Office identifies an add-in by this id; keeping it stable is what lets the admin
    center treat a new manifest as an update instead of a second add-in.
    """
    host = urlsplit(base_url).netloc.lower()
    return str(uuid.uuid5(ID_NAMESPACE, f"{kind}|{environment}|{host}"))


def manifest_version(config: Mapping[str, Any]) -> str:
    """PLUME_ADDIN_VERSION, else the backend version padded to Office's four numbers."""
    if config.get("ADDIN_VERSION"):
        return config["ADDIN_VERSION"]
    parts = [part for part in __version__.split(".") if part.isdigit()][:4]
    return ".".join(parts + ["0"] * (4 - len(parts)))


def sso_resource(base_url: str, client_id: str) -> str:
    """The Entra application id URI Office asks a token for: ``api://<host>/<client id>``."""
    return f"api://{urlsplit(base_url).netloc}/{client_id}"


def _texts() -> dict[str, Any]:
    with TEXTS_FILE.open("rb") as handle:
        return tomllib.load(handle)


def render_all(base_url: str, config: Mapping[str, Any],
               client_id: str | None = None) -> dict[str, str]:
    """Render every manifest for ``base_url``; keys are ``word`` and ``outlook``.

    ``client_id`` (default ``PLUME_AUTH_CLIENT_ID``) fills the Word manifest's
    ``WebApplicationInfo``; without one (dev sign-in) that element is left out.
    """
    base = check_base_url(base_url)
    environment = environment_name(config)
    texts = _texts()
    client_id = client_id or config.get("AUTH_CLIENT_ID")
    if client_id:
        try:
            client_id = str(uuid.UUID(client_id))
        except ValueError:
            raise ManifestError(f"L'identifiant d'application Entra {client_id!r} "
                                "doit être un GUID.") from None
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base))
    ids = {"word": config.get("ADDIN_ID_WORD"), "outlook": config.get("ADDIN_ID_OUTLOOK")}
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True)
    suffix = "" if environment == "production" else f" ({environment})"
    # Only the user's list of categories needs more than the message on screen.
    outlook_permission = "ReadWriteMailbox" if config.get("OUTLOOK_MANAGE_CATEGORIES") else "ReadWriteItem"
    rendered = {}
    for kind in KINDS.values():
        app = {**kind.options, "permission": outlook_permission, "id": ids[kind.name] or addin_id(kind.name, environment, base),
               "display_name": texts[kind.name]["display_name"] + suffix,
               "texts": texts[kind.name], "pane_path": kind.pane_path,
               "icon_size": kind.icon_size,
               "high_resolution_icon_size": kind.high_resolution_icon_size,
               "ribbon_icon_sizes": kind.ribbon_icon_sizes}
        rendered[kind.name] = env.get_template(kind.template).render(
            app=app, texts=texts, version=manifest_version(config), environment=environment,
            origin=origin, url=lambda path: base + path,
            icon=lambda size: base + ICON_PATH.format(size=size),
            sso={"client_id": client_id, "resource": sso_resource(base, client_id)}
            if client_id else None)
    return rendered


def write_manifests(config: Mapping[str, Any], base_url: str | None, out_dir: str,
                    client_id: str | None) -> None:
    """Render both manifests into ``out_dir`` and tell the administrator what went in."""
    try:
        rendered = render_all(base_url or config["PUBLIC_URL"], config, client_id)
    except ManifestError as exc:
        raise click.ClickException(str(exc)) from None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, xml in rendered.items():
        path = out / f"plume-{name}.xml"
        path.write_text(xml, encoding="utf-8")
        click.echo(f"{path}")
    base = check_base_url(base_url or config["PUBLIC_URL"])
    click.echo(f"Manifestes version {manifest_version(config)} pour {base} "
               f"(environnement « {environment_name(config)} »).")
    client_id = client_id or config.get("AUTH_CLIENT_ID")
    if not client_id:
        click.echo("Sans PLUME_AUTH_CLIENT_ID (ou --client-id), le manifeste Word ne contient pas "
                   "de WebApplicationInfo : à réserver aux essais en mode dev.")
    elif config.get("AUTH_API_URI") and config["AUTH_API_URI"] != sso_resource(base, client_id):
        click.echo(f"Attention : PLUME_AUTH_API_URI ({config['AUTH_API_URI']}) diffère de la "
                   f"ressource du manifeste ({sso_resource(base, client_id)}) ; l'URI "
                   "d'application Entra doit être celle du manifeste.")
    if base != config["PUBLIC_URL"]:
        click.echo(f"Attention : l'adresse de base diffère de PLUME_PUBLIC_URL "
                   f"({config['PUBLIC_URL']}) ; réglez PLUME_PUBLIC_URL={base} sur le serveur.")


def _options(command: Callable[..., None]) -> Callable[..., None]:
    for option in reversed((
        click.option("--base-url", default=None,
                     help="https URL Plume is served from (default PLUME_PUBLIC_URL)."),
        click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
                     help="Directory to write plume-word.xml and plume-outlook.xml into."),
        click.option("--client-id", default=None,
                     help="Entra application (client) id for SSO (default PLUME_AUTH_CLIENT_ID)."),
    )):
        command = option(command)
    return command


@click.command("manifest")
@_options
@with_appcontext
def manifest_command(base_url: str | None, out_dir: str, client_id: str | None) -> None:
    """Render the Word and Outlook add-in manifests for this deployment."""
    write_manifests(current_app.config, base_url, out_dir, client_id)


@click.command("manifest")
@_options
def standalone_command(base_url: str | None, out_dir: str, client_id: str | None) -> None:
    """Render the Word and Outlook add-in manifests for this deployment.

    Reads only the settings a manifest contains (PLUME_PUBLIC_URL, PLUME_ENV,
    PLUME_ENVIRONMENT_NAME, PLUME_ADDIN_*, PLUME_AUTH_CLIENT_ID): no secret, database or
    model setting is needed.
    """
    try:
        config = settings.load(os.environ)
    except ConfigError as exc:
        raise click.ClickException(f"Configuration invalide : {exc}") from None
    write_manifests(config, base_url, out_dir, client_id)


def init_app(app: Flask) -> None:
    app.cli.add_command(manifest_command)
