"""Fixtures of the database room's tests."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A DATA_DIR of its own, outside pytest's temporary folders.

    The servers run as their own system user (not root) and must traverse the path, but
    every pytest run resets /tmp/pytest-of-<user> to mode 0700. Short, too: the server's
    unix socket lives in the data folder (about 100 characters at most).
    """
    path = Path(tempfile.mkdtemp(prefix="plume-db-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
