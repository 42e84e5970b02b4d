"""Configuration: typed, read once, fails fast in plain words, documented in the README."""
from __future__ import annotations

from pathlib import Path

import pytest

from backend import config
from backend.settings import ConfigError

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_and_environment_are_typed():
    cfg = config.load(environ={"PLUME_ENV": "development", "PORT": "3443", "PLUME_DEV_TLS": "0"})
    assert cfg["PORT"] == 3443 and cfg["DEV_TLS"] is False
    assert cfg["PUBLIC_URL"] == "http://localhost:3443"
    assert cfg["AUTH_MODE"] == "dev"


@pytest.mark.parametrize("environ,needle", [
    ({"PLUME_ENV": "development", "PORT": "abc"}, "PORT='abc'"),
    ({"PLUME_ENV": "development", "PLUME_DEV_TLS": "peut-être"}, "PLUME_DEV_TLS"),
    ({"PLUME_ENV": "staging"}, "PLUME_ENV"),
    ({"PLUME_ENV": "development", "PLUME_PUBLIC_URL": "http://plume.justice.fr"}, "https"),
    ({}, "PLUME_AUTH_TENANT_ID"),  # production defaults to Entra, which needs its ids
])
def test_bad_settings_fail_fast_naming_the_variable(environ, needle):
    with pytest.raises(ConfigError) as info:
        config.load(environ=environ)
    assert needle in str(info.value)


@pytest.mark.parametrize("name,value,needle", [
    ("PLUME_JOB_WORKERS", "0", "PLUME_JOB_WORKERS=0 must be at least 1"),
    ("PLUME_JOB_LEASE_SECONDS", "0", "PLUME_JOB_LEASE_SECONDS=0.0 must be more than 0"),
    ("PLUME_HEARING_PIECE_SECONDS", "900", "PLUME_HEARING_PIECE_SECONDS=900 must be at most 780"),
    ("PLUME_OCR_MIN_CONFIDENCE", "101", "must be at most 100"),
    ("PLUME_LLM_CONTEXT_TOKENS", "512", "must be at least 1024"),
    ("PLUME_LLM_RETRIES", "-1", "must be at least 0"),
])
def test_a_number_out_of_its_bounds_is_refused_from_the_environment_and_from_overrides(
        name, value, needle):
    with pytest.raises(ConfigError, match=needle):
        config.load(environ={"PLUME_ENV": "development", name: value})
    setting = next(s for s in config.all_settings() if s.env == name)
    typed = float(value) if setting.kind == "float" else int(value)
    with pytest.raises(ConfigError, match=needle[needle.index("must"):]):
        config.load(environ={"PLUME_ENV": "development"}, overrides={setting.key: typed})


def test_secrets_are_masked_in_descriptions():
    cfg = config.load(environ={"PLUME_ENV": "development", "PLUME_LLM_API_KEY": "sk-secret"})
    assert config.describe(cfg)["LLM_API_KEY"] == "***"


def test_readme_carries_the_current_settings_table():
    """Regenerate with `python -m backend settings` when a setting changes."""
    from backend.cli import settings_table

    assert settings_table() in README.read_text(encoding="utf-8")
