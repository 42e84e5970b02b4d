"""Versioned prompt files and the fence that keeps untrusted text in the data role.

``prompts/<name>.vN.md`` holds a system prompt, a ``=== utilisateur ===`` line and the
user message. The highest version of each name is used; its id (``summarize.v1``) goes
into the audit record so that an answer can always be traced to the exact text that
asked for it.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).with_name("prompts")
USER_SEPARATOR = "=== utilisateur ==="
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_FILE = re.compile(r"^(?P<name>[a-z-]+)\.v(?P<version>\d+)\.md$")
NO_INSTRUCTIONS = "aucune"


@dataclass(frozen=True)
class Prompt:
    name: str
    version: int
    system: str
    user: str

    @property
    def id(self) -> str:
        return f"{self.name}.v{self.version}"

    def messages(self, **values: str) -> list[dict[str, str]]:
        """The chat messages, placeholders filled in one pass (inserted text is not expanded)."""
        def fill(template: str) -> str:
            return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)

        return [{"role": "system", "content": fill(self.system)},
                {"role": "user", "content": fill(self.user)}]


@lru_cache(maxsize=None)
def load(name: str) -> Prompt:
    """The newest version of prompt ``name``."""
    versions = []
    for path in PROMPTS_DIR.iterdir():
        match = _FILE.match(path.name)
        if match and match["name"] == name:
            versions.append((int(match["version"]), path))
    if not versions:
        raise LookupError(f"no prompt file for {name!r} in {PROMPTS_DIR}")
    version, path = max(versions)
    system, _, user = path.read_text(encoding="utf-8").partition(USER_SEPARATOR)
    if not user:
        raise LookupError(f"{path.name} lacks the line {USER_SEPARATOR!r}")
    return Prompt(name, version, system.strip(), user.strip())


class Fence:
    """Marks for one request's untrusted text, with an identifier nobody can guess.

    A mail that writes ``DONNEES …>>>`` to close the block and then gives orders cannot
    know this request's identifier, so its orders stay inside the data.
    """

    def __init__(self) -> None:
        self.name = f"DONNEES {secrets.token_hex(6)}"

    def wrap(self, label: str, text: str) -> str:
        return f"<<<{self.name} · {label}\n{text}\n{self.name}>>>"
