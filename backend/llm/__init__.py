"""The llm room."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing to set up yet."""
