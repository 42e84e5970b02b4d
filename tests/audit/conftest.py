"""The browser fixtures of the pane tests, for the observatory and « À propos » pages."""
from tests.addin.conftest import browser, open_pane, screenshot, serve_app  # noqa: F401
