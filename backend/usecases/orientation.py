"""Orientation: suggest which service of the court should handle a mail, and why.

The administrator's list of services (``PLUME_ROUTING_SERVICES``) is the only set of
answers: the model is asked to pick one of them, and an answer outside the list is
discarded. Keywords give a suggestion on their own when the model is not configured,
fails, or strays, so Orientation keeps working without an LLM host. The suggestion is
advice shown to the clerk, with the second-best service and each one's address when the
administrator gave it (the pane opens a forward draft to it); nothing is moved or forwarded.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from .. import folding, llm
from ..auth import User
from ..errors import AppError
from ..llm.prompts import Fence, load
from .mail_fields import parse_json_object
from .metered import metered

log = logging.getLogger(__name__)

TASK = "routing"
PROMPT = "routing"
# A category, a service and one sentence.
MAX_ANSWER_TOKENS = 300
# The first characters of a mail carry what routing needs; longer text only costs tokens.
MAX_MODEL_CHARS = 6000
MAX_REASON_CHARS = 400
# A word in the subject says more about the mail's purpose than one in a quoted thread.
SUBJECT_WEIGHT = 2

NOTICES = {
    "non_configure": "Aucun modèle n'est configuré : suggestion établie à partir des mots-clés "
                     "configurés pour chaque service.",
    "quota_depasse": "Votre quota d'utilisation du modèle est atteint : suggestion établie à partir "
                     "des mots-clés configurés pour chaque service.",
    "default": "Le modèle n'a pas pu être consulté : suggestion établie à partir des mots-clés "
               "configurés pour chaque service.",
}

# Words that point to each built-in category (custom categories use the words of their name).
CATEGORY_HINTS: dict[str, list[str]] = {
    "Convocation ou avis d'audience": ["convocation", "avis d'audience", "convoqué", "citation à comparaître",
                                       "audience du", "comparaître"],
    "Conclusions ou pièces": ["conclusions", "bordereau", "pièces", "mémoire", "communication de pièces"],
    "Demande de renvoi": ["renvoi", "report", "reporter", "renvoyer"],
    "Demande de copie ou de pièce": ["copie", "expédition", "grosse", "extrait", "duplicata"],
    "Transmission de procédure": ["transmission", "procès-verbal", "procédure transmise", "dossier transmis",
                                  "saisine"],
    "Question d'un justiciable": ["renseignement", "savoir", "question", "état d'avancement",
                                  "où en est"],
}


@dataclass(frozen=True)
class Service:
    """One service of the court the administrator lists."""

    name: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    address: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"service": self.name, "description": self.description, "keywords": list(self.keywords),
                "address": self.address or None}


@dataclass
class Suggestion:
    """A suggested category and service, with the reason shown to the clerk.

    ``method`` is ``modele`` when the model chose within the list, ``mots-cles`` when the
    keyword rule did; ``matched`` lists the keywords found in the mail (always computed,
    so the clerk sees the evidence either way).
    """

    category: str | None
    service: str | None
    reason: str
    method: str
    matched: list[str] = field(default_factory=list)
    notice: str | None = None
    model: str | None = None
    alternative: str | None = None

    def to_dict(self, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
        addresses = {s.name: s.address or None for s in services(config)} if config is not None else {}
        return {"category": self.category, "service": self.service, "reason": self.reason,
                "method": self.method, "matched_keywords": self.matched, "notice": self.notice,
                "model": self.model, "service_address": addresses.get(self.service or ""),
                "alternative": self.alternative,
                "alternative_address": addresses.get(self.alternative or "")}


def fold(text: str) -> str:
    """Lower case without accents, apostrophes unified: « Référé » and « refere » match."""
    return folding.fold(text.replace("’", "'"))


def services(config: Mapping[str, Any]) -> list[Service]:
    """The configured services (``PLUME_ROUTING_SERVICES``; its default is the settings')."""
    raw = config["ROUTING_SERVICES"]
    return [Service(name=entry["service"].strip(), description=entry.get("description", ""),
                    keywords=tuple(entry.get("keywords", [])),
                    address=(entry.get("address") or "").strip()) for entry in raw]


def categories(config: Mapping[str, Any]) -> list[str]:
    """The configured mail categories (``PLUME_ROUTING_CATEGORIES``; default in the settings)."""
    return list(config["ROUTING_CATEGORIES"])


def _find(keywords: list[str] | tuple[str, ...], text: str) -> list[str]:
    folded = fold(text)
    return [kw for kw in keywords
            if kw.strip() and re.search(rf"(?<!\w){re.escape(fold(kw.strip()))}(?!\w)", folded)]


def _score(keywords: list[str] | tuple[str, ...], subject: str, body: str) -> tuple[int, list[str]]:
    in_subject = _find(keywords, subject)
    in_body = _find(keywords, body)
    matched = list(dict.fromkeys([*in_subject, *in_body]))
    return SUBJECT_WEIGHT * len(in_subject) + len(in_body), matched


def _category_by_keywords(cats: list[str], subject: str, body: str) -> str | None:
    best, best_score = None, 0
    for name in cats:
        hints = CATEGORY_HINTS.get(name) or [w for w in re.findall(r"\w+", name) if len(w) > 3]
        score, _ = _score(hints, subject, body)
        if score > best_score:
            best, best_score = name, score
    if best is None:
        fallback = [name for name in cats if fold(name) == "autre"]
        return fallback[0] if fallback else None
    return best


def _ranked(config: Mapping[str, Any], subject: str, body: str) -> list[tuple[Service, list[str]]]:
    """Services whose keywords appear, most first (subject counts double; ties keep the
    administrator's order)."""
    scored = [(service, *_score(service.keywords, subject, body)) for service in services(config)]
    ranked = sorted((entry for entry in scored if entry[1] > 0), key=lambda entry: -entry[1])
    return [(service, matched) for service, _, matched in ranked]


def suggest_by_keywords(config: Mapping[str, Any], subject: str, body: str) -> Suggestion:
    """The keyword rule: the service whose keywords appear most, and the next one."""
    ranked = _ranked(config, subject, body)
    category = _category_by_keywords(categories(config), subject, body)
    if not ranked:
        reason = ("Aucun mot-clé des services configurés n'apparaît dans le message : "
                  "orientez-le manuellement.")
        return Suggestion(category=category, service=None, reason=reason, method="mots-cles")
    best, best_matched = ranked[0]
    quoted = ", ".join(f"« {kw} »" for kw in best_matched)
    reason = f"Mots relevés dans le message : {quoted}."
    return Suggestion(category=category, service=best.name, reason=reason, method="mots-cles",
                      matched=best_matched, alternative=ranked[1][0].name if len(ranked) > 1 else None)


def _messages(config: Mapping[str, Any], subject: str, body: str) -> tuple[list[dict[str, str]], str]:
    """The chat messages (the mail fenced as data) and the prompt id for the audit record."""
    prompt = load(PROMPT)
    fence = Fence()
    mail = f"Objet : {subject}\n\n{body}"[:MAX_MODEL_CHARS]
    messages = prompt.messages(
        services="\n".join(f"- {s.name} : {s.description}" for s in services(config)),
        categories="\n".join(f"- {c}" for c in categories(config)),
        fence=fence.name,
        document=fence.wrap("courriel reçu", mail),
    )
    return messages, prompt.id


def _pick(name: Any, choices: list[str]) -> str | None:
    if not isinstance(name, str):
        return None
    wanted = fold(name).strip(" .«»\"'")
    for choice in choices:
        if fold(choice) == wanted:
            return choice
    return None


def _ask_gateway(user: User, messages: list[dict[str, str]], prompt_id: str) -> tuple[str, str]:
    """One model call, metered like an assist (quota, record, tokens)."""
    gateway = llm.gateway()  # no host configured: keywords at once, no quota spent, nothing to record
    with metered(user, "assist", TASK, prompt_version=prompt_id) as call:
        completion = gateway.complete(TASK, messages, max_tokens=MAX_ANSWER_TOKENS, temperature=0.0)
        call.charge(completion.usage)
        call.update(model=completion.model, host=completion.host)
        call.first_token()
    return completion.text, completion.model


def suggest(user: User, config: Mapping[str, Any], subject: str, body: str) -> Suggestion:
    """Suggest a category and a service for a mail (inside a request: quota and audit apply).

    Any :class:`AppError` from the gateway (not configured, upstream down, quota reached)
    turns into the keyword suggestion with a notice, so the clerk always gets an answer
    and knows how it was reached; keywords cost the LLM host nothing.
    """
    by_keywords = suggest_by_keywords(config, subject, body)
    messages, prompt_id = _messages(config, subject, body)
    try:
        answer, model = _ask_gateway(user, messages, prompt_id)
    except AppError as err:
        log.info("routing falls back to keywords", extra={"error": err.code})
        by_keywords.notice = NOTICES.get(err.code, NOTICES["default"])
        return by_keywords

    parsed = parse_json_object(answer) or {}
    service = _pick(parsed.get("service"), [s.name for s in services(config)])
    if service is None:
        log.info("routing model answer outside the list; keywords used")
        by_keywords.notice = ("La proposition du modèle ne figurait pas dans la liste des services ; "
                              "suggestion établie à partir des mots-clés configurés.")
        by_keywords.model = model
        return by_keywords
    category = _pick(parsed.get("categorie") or parsed.get("category"), categories(config)) \
        or by_keywords.category
    justification = parsed.get("justification")
    reason = justification.strip()[:MAX_REASON_CHARS] if isinstance(justification, str) \
        and justification.strip() else "Le modèle n'a pas donné de justification."
    matched = next((_score(s.keywords, subject, body)[1] for s in services(config)
                    if s.name == service), [])
    alternative = next((s.name for s, _ in _ranked(config, subject, body) if s.name != service), None)
    return Suggestion(category=category, service=service, reason=reason, method="modele",
                      matched=matched, model=model, alternative=alternative)
