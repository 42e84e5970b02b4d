"""Precedent search as a use case: one metered call around the retrieval room's search."""
from __future__ import annotations

from typing import Any, Mapping

from flask import current_app

from .. import retrieval
from ..auth import User
from ..errors import ValidationError
from .metered import metered

TASK = "search"
FILTER_NAMES = ("jurisdiction", "chamber", "date_from", "date_to", "solution", "zone")


def _int_arg(args: Mapping[str, str], name: str, default: int) -> int:
    raw = args.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)  # type: ignore[arg-type]
    except ValueError:
        raise ValidationError(name, f"« {name} » doit être un nombre entier.") from None


def search(user: User, args: Mapping[str, str]) -> dict[str, Any]:
    """Hybrid search for ``args`` (``q``, ``k``, ``per_decision`` and the filters) over what
    ``user`` may see: {"interaction_id", "hits", "semantic", "notice"}.

    The arguments are read inside the metered call, so a malformed one is recorded too.
    """
    with metered(user, "search", TASK) as call:
        filters: dict[str, Any] = {name: args.get(name) for name in FILTER_NAMES if args.get(name)}
        k = _int_arg(args, "k", 10)
        per_decision = _int_arg(args, "per_decision", 1)
        result = retrieval.search_detailed(args.get("q", ""), user, k=k, filters=filters,
                                           per_decision=per_decision)
        config = current_app.config
        call.update(source_ids=[hit["decision_id"] for hit in result.hits],
                    model=retrieval.model_name(config) if result.semantic else None,
                    host=config.get("EMBEDDINGS_BASE_URL") if result.semantic else None)
    return {"interaction_id": call.id, "hits": result.hits, "semantic": result.semantic,
            "notice": result.notice}
