"""Orientation's services and categories: their defaults live in the settings table only."""
from __future__ import annotations

import pytest

from backend.cli import settings_table
from backend.config import load
from backend.settings import ConfigError

DEV = {"PLUME_ENV": "development"}


def test_the_default_services_and_categories_are_the_settings_defaults(make_app):
    # What the clerk's pane lists without any setting is what the settings table documents.
    listed = make_app().test_client().get("/api/v1/routing/services").json
    config = load(environ=DEV)
    assert [s["service"] for s in listed["services"]] == [s["service"] for s in config["ROUTING_SERVICES"]]
    assert listed["categories"] == config["ROUTING_CATEGORIES"]
    assert "Greffe civil" in [s["service"] for s in listed["services"]]
    assert "Demande de renvoi" in listed["categories"]
    rows = {line.split(" | ")[0].strip("| `"): line for line in settings_table().splitlines()}
    assert "Pôle protection (tutelles)" in rows["PLUME_ROUTING_SERVICES"]
    assert "Demande de renvoi" in rows["PLUME_ROUTING_CATEGORIES"]


def test_the_administrators_lists_replace_the_defaults(make_app):
    mine = [{"service": "Accueil", "description": "Guichet", "keywords": ["guichet"]}]
    listed = make_app(ROUTING_SERVICES=mine, ROUTING_CATEGORIES=["Courrier"]).test_client().get(
        "/api/v1/routing/services").json
    assert [s["service"] for s in listed["services"]] == ["Accueil"]
    assert listed["categories"] == ["Courrier"]


@pytest.mark.parametrize("environ, needle", [
    ({"PLUME_ROUTING_CATEGORIES": ""}, "PLUME_ROUTING_CATEGORIES"),
    ({"PLUME_ROUTING_SERVICES": "null"}, "PLUME_ROUTING_SERVICES"),
    ({"PLUME_ROUTING_SERVICES": "[]"}, "PLUME_ROUTING_SERVICES"),
])
def test_an_emptied_list_stops_the_start_instead_of_falling_back(environ, needle):
    # An administrator who empties a list is told so, rather than silently given the defaults.
    with pytest.raises(ConfigError, match=needle):
        load(environ={**DEV, **environ})
