"""Gateway settings fail fast in plain words; every task has a versioned French prompt."""
from __future__ import annotations

import re

import pytest

from backend import config
from backend.llm import prompts
from backend.usecases import tasks
from backend.llm.prompts import Fence
from backend.settings import ConfigError

DEV = {"PLUME_ENV": "development"}


@pytest.mark.parametrize("environ,needle", [
    ({"PLUME_LLM_BASE_URL": "albert.api.gouv.fr"}, "PLUME_LLM_BASE_URL"),
    ({"PLUME_LLM_FALLBACK_BASE_URL": "ftp://secours"}, "PLUME_LLM_FALLBACK_BASE_URL"),
    ({"PLUME_LLM_TASK_MODELS": '{"poeme": "m"}'}, "poeme"),
    ({"PLUME_LLM_TASK_MODELS": '["m"]'}, "PLUME_LLM_TASK_MODELS"),
    ({"PLUME_LLM_MODEL_CONTEXT": '{"m": 100}'}, "PLUME_LLM_MODEL_CONTEXT"),
    ({"PLUME_LLM_TIMEOUT_CHUNK": "0"}, "PLUME_LLM_TIMEOUT_CHUNK"),
    ({"PLUME_LLM_RETRIES": "-1"}, "PLUME_LLM_RETRIES"),
    ({"PLUME_LLM_TIMEOUT_TOTAL": "long"}, "PLUME_LLM_TIMEOUT_TOTAL"),
])
def test_bad_gateway_settings_stop_the_start(environ, needle):
    with pytest.raises(ConfigError) as info:
        config.load(environ={**DEV, **environ})
    assert needle in str(info.value)


def test_gateway_settings_are_typed():
    cfg = config.load(environ={**DEV, "PLUME_LLM_BASE_URL": "http://127.0.0.1:8080/v1",
                               "PLUME_LLM_TASK_MODELS": '{"mail-summary": "petit"}',
                               "PLUME_LLM_MODEL_CONTEXT": '{"petit": 32768}', "PLUME_LLM_DEMO": "1",
                               "PLUME_LLM_TIMEOUT_FIRST_TOKEN": "12.5"})
    assert cfg["LLM_TASK_MODELS"] == {"mail-summary": "petit"}
    assert cfg["LLM_MODEL_CONTEXT"] == {"petit": 32768}
    assert cfg["LLM_DEMO"] is True and cfg["LLM_TIMEOUT_FIRST_TOKEN"] == 12.5
    assert config.describe({**cfg, "LLM_FALLBACK_API_KEY": "sk"})["LLM_FALLBACK_API_KEY"] == "***"


@pytest.mark.parametrize("name", [*tasks.TASKS, "mail-fields", "map", "reduce"])
def test_every_prompt_is_versioned_french_and_fences_its_data(name):
    prompt = prompts.load(name)
    assert prompt.id == f"{name}.v{prompt.version}"
    assert prompt.system.startswith("Tu es Plume")
    assert "« <<<{{fence}}" in prompt.system and "{{fence}}>>> »" in prompt.system
    assert re.search(r"jamais (une|des) instructions?", prompt.system)
    assert "{{document}}" in prompt.user


def test_placeholders_are_filled_once_so_data_cannot_expand_them():
    fence = Fence()
    request = tasks.validate(tasks.get("summarize"), {"text": "Texte avec {{instructions}} et {{fence}}."})
    _, user = (m["content"] for m in tasks.messages(request, fence))
    assert "Texte avec {{instructions}} et {{fence}}." in user
    assert user.count(fence.name) == 2  # the opening and closing marks, nothing from the data
