"""Pseudonymisation of court decisions (floor 2: knows nothing of the use cases above).

What identifies a natural person is replaced as published decisions do it (« [A] »,
« [Adresse 1] », « [Localité 2] », « [Date de naissance 1] »…); what must stay, stays:
magistrates, greffiers, lawyers and experts acting as such, courts and their seats,
institutions, and text already pseudonymised.

- :func:`pseudonymize`: ``text`` -> :class:`Result` (``entities`` replaced, with Python
  code-point offsets into the text given, the pseudonymised ``text``, and ``kept``);
- :class:`Known`: what earlier documents of a dossier replaced, so that a person keeps
  her letter from one document to the next (``pseudonymize(text, known=[...])``);
- :data:`CATEGORIES`: what may be replaced (and so kept on request);
- :func:`model_info`: the French spaCy pipeline loaded by this worker (loaded once, lazily).

Inside: :mod:`.text` (the analysis copy, same length as the text), :mod:`.identifiers`
(checksummed and contextual identifiers), :mod:`.rules` (civilities, functions, seats,
addresses), :mod:`.model` (spaCy), :mod:`.engine` (settling, linking, replacements).
"""
from __future__ import annotations

from .engine import CATEGORIES, LABELS, Known, Result, pseudonymize
from .model import MODEL_NAME
from .model import info as model_info
from .model import nlp as load_model

__all__ = ["CATEGORIES", "LABELS", "MODEL_NAME", "Known", "Result", "load_model", "model_info", "pseudonymize"]
