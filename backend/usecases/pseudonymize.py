"""Pseudonymisation as a use case: one metered call around the pseudonymisation room.

A dossier stays consistent from one document to the next: the caller sends back, as
``known``, the ``entities`` earlier documents answered, and every known person keeps her
letter. The text is checked inside the metered call (so a refused text is recorded too), never
stored: the record holds the task, the model's name and the outcome. The detection runs
off the event loop (:func:`backend.cooperative.offload`): a long decision keeps the CPU
for seconds, and the worker's other answer streams must go on meanwhile.
"""
from __future__ import annotations

import logging
import re
from typing import Any

from .. import pseudonymize as engine
from ..auth import User
from ..cooperative import offload
from ..errors import PayloadTooLarge, ValidationError
from .metered import metered

log = logging.getLogger(__name__)

TASK = "pseudonymize"
KIND = "pseudonymize"
# About 200 pages of a decision: answered in well under a minute on a small server.
MAX_CHARS = 600_000
# Control characters other than tab, line feed and carriage return (and form feed,
# which Word uses for page breaks) mean the body is not text.
_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f", "\v"}


def _text(body: Any) -> str:
    if not isinstance(body, dict):
        raise ValidationError("text", "Le corps de la requête doit être un objet JSON de la forme "
                                      "{\"text\": \"…\"}.", detail="body is not a JSON object")
    text = body.get("text")
    if not isinstance(text, str):
        raise ValidationError("text", "Indiquez le texte à pseudonymiser dans le champ « text ».",
                              detail=f"text is {type(text).__name__}")
    if not text.strip():
        raise ValidationError("text", "Le texte à pseudonymiser est vide.")
    if len(text) > MAX_CHARS:
        raise PayloadTooLarge(f"Le texte est trop long pour être pseudonymisé en une fois "
                              f"({len(text):,} caractères ; au plus {MAX_CHARS:,}, environ 200 pages). "
                              "Découpez-le en plusieurs parties.".replace(",", " "),
                              detail=f"{len(text)} characters")
    controls = sum(1 for char in text if char < " " and char not in _ALLOWED_CONTROLS)
    if controls:  # NUL and lone surrogates never get here (api/guards.py refuses them)
        raise ValidationError("text", "Le texte contient des caractères qui ne sont pas du texte "
                                      "(contenu binaire ?) : envoyez le texte brut du document.",
                              detail=f"{controls} control characters")
    return text


def _keep(body: dict) -> list[str]:
    keep = body.get("keep", [])
    if keep is None:
        return []
    if not isinstance(keep, list) or not all(isinstance(item, str) for item in keep):
        raise ValidationError("keep", "« keep » doit être une liste de catégories.")
    unknown = [item for item in keep if item not in engine.CATEGORIES]
    if unknown:
        raise ValidationError("keep", f"Catégorie inconnue : {', '.join(unknown)}. Catégories possibles : "
                                      f"{', '.join(engine.CATEGORIES)}.")
    return keep


MAX_KNOWN = 5000
_REPLACEMENT = re.compile(r"\[[^\[\]\n]{1,40}\]")


def _known(body: dict) -> list[engine.Known]:
    """What earlier documents of the dossier replaced (the ``entities`` they answered):
    ``[{"text", "category", "replacement"}, …]``."""
    known = body.get("known", [])
    if known is None:
        return []
    message = ("« known » doit être la liste des remplacements déjà faits dans le dossier : "
               "[{\"text\": \"Jean Dupont\", \"category\": \"personne\", \"replacement\": \"[A]\"}, …].")
    if not isinstance(known, list):
        raise ValidationError("known", message, detail=f"known is {type(known).__name__}")
    if len(known) > MAX_KNOWN:
        raise ValidationError("known", f"« known » compte au plus {MAX_KNOWN} remplacements.",
                              detail=f"{len(known)} items")
    items = []
    for index, item in enumerate(known):
        if (not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip()
                or len(item["text"]) > 300 or item.get("category") not in engine.CATEGORIES
                or not isinstance(item.get("replacement"), str)
                # A JSON Schema « $ » lets one final line feed through: the same here.
                or not _REPLACEMENT.fullmatch(item["replacement"].removesuffix("\n"))):
            raise ValidationError("known", message, detail=f"item {index} is malformed")
        items.append(engine.Known(item["text"], item["category"], item["replacement"].removesuffix("\n")))
    return items


def pseudonymize(user: User, body: Any) -> tuple[dict[str, Any], str]:
    """Pseudonymise ``body["text"]`` for ``user``: ({"entities", "text", "kept"}, interaction id)."""
    with metered(user, KIND, TASK, model=engine.MODEL_NAME) as call:
        text = _text(body)
        keep = _keep(body)
        known = _known(body)
        result = offload(engine.pseudonymize, text, keep, known)
        call.charge({"prompt_tokens": 0, "completion_tokens": 0})
    log.info("pseudonymised", extra={"chars": len(text), "entities": len(result.entities),
                                     "kept": len(result.kept)})
    return {"entities": result.entities, "text": result.text, "kept": result.kept}, call.id
