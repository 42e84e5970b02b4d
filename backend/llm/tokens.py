"""Token estimates, for hosts that do not report usage and for context budgeting.

No tokenizer of the host's model is available here, so the estimate is deliberately
pessimistic for French (about 3 characters per token, where real tokenizers give 3.5
to 4): a budget computed from it errs on the side of splitting a document, never on the
side of a request the host rejects as too long.
"""
from __future__ import annotations

import math
from typing import Iterable, Mapping

CHARS_PER_TOKEN = 3.0
# Role markers and separators the chat template adds around each message.
TOKENS_PER_MESSAGE = 4


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def estimate_messages(messages: Iterable[Mapping[str, str]]) -> int:
    return sum(estimate_tokens(m.get("content") or "") + TOKENS_PER_MESSAGE for m in messages)


def chars_for_tokens(tokens: int) -> int:
    """How many characters fit in ``tokens`` by the same estimate."""
    return max(0, int(tokens * CHARS_PER_TOKEN))
