"""The HTTP surface: one blueprint per use case, the edges, and the add-in files.

Each module in this package that serves routes exposes ``bp`` (a Blueprint) and
``OPENAPI`` (its paths, in OpenAPI 3.1 form); :mod:`.openapi` merges them into the
document served at ``/api/v1/openapi.json``, and a test keeps it equal to the routes.
"""
from __future__ import annotations

from types import ModuleType

from flask import Flask

from . import (about, addin, assist, client_config, edges, feedback, health, me, metrics, models,
               observatory, openapi, pseudonymize, search, transcribe, transcriptions,
               user_jurisdictions)
from . import attachments, dossiers, facets, guards, routing

# Modules with a blueprint, in registration order. Add a use case here.
USE_CASES: list[ModuleType] = [health, openapi, addin, feedback, observatory, about, metrics,
                                client_config, me, user_jurisdictions, search,
                                assist, transcribe, models, attachments, routing, facets,
                                pseudonymize, dossiers, transcriptions]


def init_app(app: Flask) -> None:
    guards.init_app(app)
    edges.init_app(app)
    for module in USE_CASES:
        app.register_blueprint(module.bp)
    app.extensions["plume.openapi_modules"] = USE_CASES
