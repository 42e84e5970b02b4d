"""`serve` starts the demonstration model only when no host is configured, and says so;
the application it then serves is built with the demonstration model's settings."""
from __future__ import annotations

import requests

from backend import config
from backend.llm import demo


def test_without_a_host_serve_starts_the_demo_model_and_points_plume_at_it(make_app, capsys, tmp_path):
    settings = make_app(DATA_DIR=str(tmp_path)).config  # development, PLUME_LLM_BASE_URL unset
    assert settings["LLM_DEMO"] is False  # nothing is labelled before a server runs

    server = demo.start_for_serve(settings)
    try:
        assert server is not None and server.running()
        app = make_app(DATA_DIR=str(tmp_path), **demo.settings_for(server, settings))
        assert app.config["LLM_DEMO"] is True
        assert app.config["LLM_BASE_URL"] == server.base_url
        assert app.config["LLM_BASE_URL"].startswith("http://127.0.0.1:")
        assert app.config["LLM_MODEL"] == demo.MODEL_NAME
        assert app.config["LLM_DEMO_START"] is False, "a host is configured: nothing more to start"
        listing = requests.get(server.base_url + "/models", timeout=5,
                               headers={"Authorization": f"Bearer {app.config['LLM_API_KEY']}"})
        assert [m["id"] for m in listing.json()["data"]] == [demo.MODEL_NAME]
        assert (tmp_path / "llm-demo" / "llama-server.log").exists()
        printed = capsys.readouterr().out
        assert "Modèle de démonstration local" in printed and "PLUME_LLM_BASE_URL" in printed
        assert "ne sont pas fiables" in printed
    finally:
        if server is not None:
            server.stop()
    assert not server.running()


def test_a_configured_host_is_used_as_is(make_app):
    app = make_app(LLM_BASE_URL="https://albert.example/v1", LLM_MODEL="albert-large")

    assert demo.start_for_serve(app.config) is None
    assert app.config["LLM_DEMO"] is False
    assert app.config["LLM_BASE_URL"] == "https://albert.example/v1"


def test_the_demo_can_be_turned_off(make_app):
    app = make_app(LLM_DEMO=False)

    assert demo.start_for_serve(app.config) is None
    assert app.config["LLM_BASE_URL"] is None and app.config["LLM_DEMO"] is False


def test_production_never_starts_it_unless_asked():
    production = {"ENV": "production", "AUDIT_HASH_KEY": "k" * 32,
                  "AUTH_TENANT_ID": "00000000-0000-0000-0000-000000000001",
                  "AUTH_CLIENT_ID": "00000000-0000-0000-0000-000000000002"}
    assert config.load(production, environ={})["LLM_DEMO_START"] is False
    assert config.load({**production, "LLM_DEMO": True}, environ={})["LLM_DEMO_START"] is True
    assert config.load({"ENV": "development"}, environ={})["LLM_DEMO_START"] is True
    assert config.load({"ENV": "development"}, environ={"PLUME_LLM_DEMO": "0"})["LLM_DEMO_START"] is False


def test_a_failed_start_leaves_plume_running_without_a_host(make_app, monkeypatch, capsys, tmp_path):
    app = make_app(DATA_DIR=str(tmp_path))
    monkeypatch.setattr(demo, "MODEL_PACKAGE", "package_absent_de_l_environnement")

    assert demo.start_for_serve(app.config) is None
    assert app.config["LLM_BASE_URL"] is None and app.config["LLM_DEMO"] is False
    assert "n'a pas pu démarrer" in capsys.readouterr().err
