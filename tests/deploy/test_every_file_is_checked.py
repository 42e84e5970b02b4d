"""Every file under deploy/ is checked by one of the tests here (each module lists its CHECKS)."""
from __future__ import annotations

import importlib
from pathlib import Path

from .conftest import DEPLOY, ROOT

HERE = Path(__file__).parent


def test_every_deploy_file_is_checked():
    checked: set[str] = set()
    for module_path in HERE.glob("test_*.py"):
        module = importlib.import_module(f"{__package__}.{module_path.stem}")
        checked |= set(getattr(module, "CHECKS", ()))
    present = {str(path.relative_to(ROOT)) for path in DEPLOY.rglob("*")
               if path.is_file() and "__pycache__" not in path.parts}
    assert present - checked == set(), "deploy/ files no test checks"
    assert checked - present == set(), "tests name deploy/ files that do not exist"
