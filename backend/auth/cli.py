"""``python -m backend users …``: the admin-managed user → jurisdictions mapping."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from ..errors import ValidationError
from . import jurisdictions


@click.group("users")
def users_group() -> None:
    """Which jurisdictions' private decisions each user may search."""


@users_group.command("set-jurisdictions")
@click.argument("user")
@click.argument("names", nargs=-1)
@with_appcontext
def set_jurisdictions(user: str, names: tuple[str, ...]) -> None:
    """Give USER (Entra object id or sign-in name) exactly the jurisdictions NAMES.

    Example: set-jurisdictions jeanne.martin@justice.fr "Cour d'appel de Paris"
    """
    try:
        saved = jurisdictions.set_for(user, list(names), updated_by="cli")
    except ValidationError as exc:
        click.echo(exc.message, err=True)
        sys.exit(2)
    shown = ", ".join(saved) if saved else "aucune"
    click.echo(f"{jurisdictions.normalize_key(user)} : {shown}")


@users_group.command("show")
@click.argument("user")
@with_appcontext
def show(user: str) -> None:
    """Print USER's jurisdictions."""
    names = jurisdictions.lookup(user)
    click.echo(f"{jurisdictions.normalize_key(user)} : {', '.join(names) if names else 'aucune'}")


@users_group.command("list")
@with_appcontext
def list_mappings() -> None:
    """Print every user with their jurisdictions."""
    mappings = jurisdictions.all_mappings()
    if not mappings:
        click.echo("Aucune correspondance utilisateur → juridictions.")
    for mapping in mappings:
        click.echo(f"{mapping['user']} : {', '.join(mapping['jurisdictions']) or 'aucune'}")


@users_group.command("remove")
@click.argument("user")
@with_appcontext
def remove(user: str) -> None:
    """Forget USER's mapping (they then see no private decisions unless a claim says so)."""
    if jurisdictions.remove(user):
        click.echo(f"Correspondance supprimée pour {jurisdictions.normalize_key(user)}.")
    else:
        click.echo(f"Aucune correspondance pour {jurisdictions.normalize_key(user)}.", err=True)
        sys.exit(1)
