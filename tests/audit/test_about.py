"""« À propos de Plume »: the transparency data and the page the panes link to."""
from __future__ import annotations

import pytest

from backend import config
from backend.settings import ConfigError

from .helpers import MAGISTRAT


def test_about_says_which_model_and_host_answer_and_how_records_are_kept(make_app):
    app = make_app(DEV_USER=MAGISTRAT, LLM_BASE_URL="https://albert.api.etalab.gouv.fr/v1",
                   LLM_API_KEY="sk-secret", LLM_MODEL="albert-large")
    response = app.test_client().get("/api/v1/about")
    assert response.status_code == 200
    about = response.json
    assert about["model"] == {"name": "albert-large", "host": "albert.api.etalab.gouv.fr",
                              "configured": True, "notice": None}
    assert "sk-secret" not in response.get_data(as_text=True)
    assert about["records"]["retention_days"] == 183
    assert about["records"]["content_logging"] is False
    assert any("décision" in line for line in about["not_for"])
    assert about["sources"]["description"]


def test_about_without_a_model_host_says_so(make_app):
    about = make_app().test_client().get("/api/v1/about").json
    assert about["model"]["configured"] is False and "Aucun hébergeur" in about["model"]["notice"]


def test_the_about_page_is_served_in_french(client):
    page = client.get("/addin/common/about.html")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'lang="fr"' in html and "À propos de Plume" in html
    assert "/api/v1/about" in client.get("/addin/common/about.js").get_data(as_text=True)


PRODUCTION = {"PLUME_AUTH_TENANT_ID": "t", "PLUME_AUTH_CLIENT_ID": "c"}


@pytest.mark.parametrize("environ,needle", [
    ({}, "PLUME_AUDIT_HASH_KEY is required in production"),
    ({"PLUME_AUDIT_HASH_KEY": "court"}, "PLUME_AUDIT_HASH_KEY is too short"),
    ({"PLUME_AUDIT_HASH_KEY": "k" * 32, "PLUME_AUDIT_RETENTION_DAYS": "90"}, "six months"),
    ({"PLUME_AUDIT_HASH_KEY": "k" * 32, "PLUME_METRICS_ALLOWED_NETWORKS": "10.0.0.0/8,intranet"},
     "'intranet' is not a network"),
])
def test_production_settings_fail_fast(environ, needle):
    with pytest.raises(ConfigError) as info:
        config.load(environ={**PRODUCTION, **environ})
    assert needle in str(info.value)


def test_a_production_configuration_with_its_key_loads():
    loaded = config.load(environ={**PRODUCTION, "PLUME_AUDIT_HASH_KEY": "k" * 32})
    assert loaded["AUDIT_RETENTION_DAYS"] == 183 and loaded["AUDIT_CONTENT_LOGGING"] is False
