"""The assistance tasks: what each accepts, and how its request becomes chat messages.

A body is validated completely here, before any model call, so that a bad request is a
400 with a French message naming the field and never a broken stream.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_app_context

from ..errors import NotFound, ValidationError
from ..llm.prompts import NO_INSTRUCTIONS, Fence, load
from .mail_settings import DEFAULT_GLOSSARY
from .mapreduce import number_paragraphs

MAX_INSTRUCTIONS_CHARS = 4000
MAX_SHORT_FIELD_CHARS = 500
TONES = ("formel", "neutre")
LENGTHS = ("courte", "moyenne", "longue")
LENGTH_WORDS = {"courte": "courte (cinq lignes au plus)", "moyenne": "moyenne (dix à quinze lignes)",
                "longue": "longue (une page au plus)"}
TONE_WORDS = {"formel": "formel, avec les formules de politesse administratives d'usage",
              "neutre": "neutre et direct, poli mais sans formules appuyées"}
# Rédiger (Word) has the same two choices as a mail reply, said for a court decision.
DRAFT_TONE_WORDS = {"formel": "soutenu, celui des décisions de justice",
                    "neutre": "sobre et direct, compréhensible par un justiciable"}
DRAFT_LENGTH_WORDS = {"courte": "courte (un paragraphe)", "moyenne": "moyenne (trois à cinq paragraphes)",
                      "longue": "longue (une page au plus)"}
# « Traduire »: the languages a text may be translated into (French by default), named in French.
LANGUAGE_WORDS = {"fr": "français", "en": "anglais", "de": "allemand", "es": "espagnol",
                  "it": "italien", "pt": "portugais", "nl": "néerlandais", "pl": "polonais",
                  "ro": "roumain", "ar": "arabe", "tr": "turc", "ru": "russe", "uk": "ukrainien",
                  "zh": "chinois"}
LANGUAGES = tuple(LANGUAGE_WORDS)
# A mail reply is written in French, or in the language of the mail it answers (« auto »).
REPLY_LANGUAGES = ("fr", "auto")
REPLY_LANGUAGE_WORDS = {"fr": "le français",
                        "auto": "la langue dans laquelle le courriel reçu est écrit (le français s'il est en français)"}


@dataclass(frozen=True)
class Task:
    """One assistance task."""

    name: str
    long_inputs: bool = False          # summarised part by part when longer than the window
    numbered: bool = False             # paragraphs get « [§ N] » markers
    text_required: bool = True
    instructions_required: bool = False
    options: tuple[str, ...] = ()
    data_label: str = "document"

    @property
    def prompt(self):
        return load(self.name)


TASKS: dict[str, Task] = {t.name: t for t in (
    Task("summarize", long_inputs=True, numbered=True),
    Task("rewrite", data_label="texte à réécrire"),
    Task("draft", text_required=False, instructions_required=True, options=("tone", "length"),
         data_label="texte de travail"),
    Task("mail-summary", long_inputs=True, options=("subject", "conversation_id"),
         data_label="courriel reçu"),
    Task("mail-reply", options=("subject", "tone", "length", "reply_language"), data_label="courriel reçu"),
    Task("attachment-summary", long_inputs=True, numbered=True, options=("filename",),
         data_label="pièce jointe"),
    Task("translate", options=("language",), data_label="texte à traduire"),
)}


@dataclass
class AssistRequest:
    """A validated body."""

    task: Task
    text: str
    instructions: str = ""
    options: dict[str, str] = field(default_factory=dict)

    def document(self) -> str:
        """The untrusted text as it goes into the fence: a mail's subject and an attachment's
        file name come from the sender, so they go inside it too."""
        text = number_paragraphs(self.text) if self.task.numbered else self.text
        if self.options.get("subject"):
            text = f"Objet : {self.options['subject']}\n\n{text}"
        if self.options.get("filename"):
            text = f"Fichier : {self.options['filename']}\n\n{text}"
        return text


def get(name: str) -> Task:
    task = TASKS.get(name)
    if task is None:
        raise NotFound(f"La tâche d'assistance « {name} » n'existe pas. Tâches disponibles : "
                       f"{', '.join(TASKS)}.", detail=f"unknown task {name!r}")
    return task


def _string(body: dict[str, Any], name: str, limit: int | None = None) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(name, f"Le champ « {name} » doit être du texte.")
    if limit is not None and len(value) > limit:
        raise ValidationError(name, f"Le champ « {name} » dépasse {limit} caractères.")
    return value


def _choice(body: dict[str, Any], name: str, choices: tuple[str, ...], default: str) -> str:
    value = body.get(name, default)
    if value not in choices:
        raise ValidationError(name, f"Le champ « {name} » doit valoir {' ou '.join(choices)}.")
    return value


def validate(task: Task, body: Any) -> AssistRequest:
    """A request for ``task`` from a JSON body, or a 400 naming the faulty field."""
    if not isinstance(body, dict):
        raise ValidationError("body", "Le corps de la requête doit être un objet JSON.")
    text = _string(body, "text")
    instructions = _string(body, "instructions", MAX_INSTRUCTIONS_CHARS).strip()
    if task.text_required and not text.strip():
        raise ValidationError("text", "Le texte à traiter est vide.")
    if task.instructions_required and not instructions:
        raise ValidationError("instructions", "Indiquez ce qu'il faut rédiger (champ « instructions »).")
    options: dict[str, str] = {}
    if "subject" in task.options:
        options["subject"] = _string(body, "subject", MAX_SHORT_FIELD_CHARS).strip()
    if "conversation_id" in task.options:
        options["conversation_id"] = _string(body, "conversation_id", MAX_SHORT_FIELD_CHARS).strip()
    if "filename" in task.options:
        options["filename"] = _string(body, "filename", MAX_SHORT_FIELD_CHARS).strip()
    if "tone" in task.options:
        options["tone"] = _choice(body, "tone", TONES, "formel")
    if "length" in task.options:
        options["length"] = _choice(body, "length", LENGTHS, "moyenne")
    if "language" in task.options:
        options["language"] = _choice(body, "language", LANGUAGES, "fr")
    if "reply_language" in task.options:
        options["reply_language"] = _choice(body, "reply_language", REPLY_LANGUAGES, "fr")
    return AssistRequest(task, text, instructions, options)


def messages(request: AssistRequest, fence: Fence, *, prompt_name: str | None = None,
             document: str | None = None, sources: str = "", part: int = 0,
             parts: int = 0) -> list[dict[str, str]]:
    """The chat messages of ``request`` (or of one of its map/reduce steps)."""
    prompt = load(prompt_name or request.task.name)
    text = request.document() if document is None else document
    label = request.task.data_label if document is None else "extrait"
    options = request.options
    drafting = request.task.name == "draft"
    tones, lengths = (DRAFT_TONE_WORDS, DRAFT_LENGTH_WORDS) if drafting else (TONE_WORDS, LENGTH_WORDS)
    return prompt.messages(
        fence=fence.name,
        instructions=request.instructions or NO_INSTRUCTIONS,
        document=fence.wrap(label, text) if text.strip() else "(aucun)",
        sources=sources or "(aucune source fournie : ne cite aucune jurisprudence)",
        tone=tones.get(options.get("tone", ""), ""),
        length=lengths.get(options.get("length", ""), ""),
        language=LANGUAGE_WORDS.get(options.get("language", ""), ""),
        reply_language=REPLY_LANGUAGE_WORDS.get(options.get("reply_language", ""), ""),
        glossary=", ".join(f"« {term} »" for term in glossary()),
        part=str(part), parts=str(parts),
    )


def glossary() -> tuple[str, ...]:
    """The legal terms a translation keeps as written (PLUME_TRANSLATE_GLOSSARY; outside an
    application, its declared default)."""
    return tuple(current_app.config["TRANSLATE_GLOSSARY"] if has_app_context() else DEFAULT_GLOSSARY)
