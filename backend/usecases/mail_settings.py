"""Settings of the clerk's mail features: Orientation and attachment summaries.

The list of services is the administrator's: each court names its own services and
the words that point to them. Unset, a list typical of a tribunal judiciaire applies: it is
the setting's default, declared here and nowhere else.
Attachment limits bound what one summary may cost: a 300-page scanned file is for a
person, not for a task pane.
"""
from __future__ import annotations

from typing import Any

from ..settings import ConfigError, Setting

DEFAULT_SERVICES: list[dict[str, Any]] = [
    {"service": "Greffe civil",
     "description": "Procédures civiles au fond : assignations, conclusions, mise en état, expertises.",
     "keywords": ["assignation", "conclusions", "mise en état", "expertise", "tribunal judiciaire",
                  "civil", "bordereau de pièces", "avocat constitué", "référé", "n° rg"]},
    {"service": "Greffe pénal",
     "description": "Procédures correctionnelles et de police : citations, prévenus, parties civiles.",
     "keywords": ["prévenu", "correctionnel", "citation", "partie civile", "pénal", "comparution",
                  "n° parquet", "casier judiciaire", "délit", "contravention"]},
    {"service": "Service des audiences",
     "description": "Audiencement, rôles, renvois et convocations aux audiences.",
     "keywords": ["audience", "renvoi", "report", "rôle", "audiencement", "convocation",
                  "calendrier de procédure", "date d'audience"]},
    {"service": "Bureau d'ordre",
     "description": "Enregistrement du courrier, des plaintes et des procédures transmises au parquet.",
     "keywords": ["plainte", "procès-verbal", "bureau d'ordre", "enregistrement", "signalement",
                  "transmission de procédure", "enquête"]},
    {"service": "JAF",
     "description": "Juge aux affaires familiales : divorce, autorité parentale, pensions alimentaires.",
     "keywords": ["divorce", "pension alimentaire", "autorité parentale", "résidence de l'enfant",
                  "droit de visite", "juge aux affaires familiales", "jaf", "contribution à l'entretien",
                  "séparation"]},
    {"service": "JAP",
     "description": "Juge de l'application des peines : aménagements de peine, suivi des condamnés.",
     "keywords": ["application des peines", "aménagement de peine", "libération conditionnelle",
                  "bracelet électronique", "spip", "sursis probatoire", "jap", "détenu", "condamné",
                  "détention à domicile"]},
    {"service": "Juge des enfants",
     "description": "Assistance éducative et mineurs.",
     "keywords": ["juge des enfants", "assistance éducative", "mineur", "placement", "ase",
                  "aide sociale à l'enfance", "éducateur"]},
    {"service": "Pôle protection (tutelles)",
     "description": "Majeurs protégés : tutelles, curatelles, habilitations familiales.",
     "keywords": ["tutelle", "curatelle", "majeur protégé", "habilitation familiale",
                  "mandataire judiciaire", "juge des contentieux de la protection", "compte de gestion"]},
]

DEFAULT_CATEGORIES: list[str] = [
    "Convocation ou avis d'audience",
    "Conclusions ou pièces",
    "Demande de renvoi",
    "Demande de copie ou de pièce",
    "Transmission de procédure",
    "Question d'un justiciable",
    "Autre",
]

# Legal terms a translation keeps as written in French.
DEFAULT_GLOSSARY = ["Cour de cassation", "cour d'appel", "tribunal judiciaire", "conseil de prud'hommes",
                    "juge aux affaires familiales", "juge des libertés et de la détention",
                    "procureur de la République", "greffe", "RG"]

SETTINGS: list[Setting] = [
    Setting("PLUME_ROUTING_SERVICES", "json", DEFAULT_SERVICES,
            "Services Orientation may suggest, as a JSON list of "
            "`{\"service\", \"description\", \"keywords\": [...], \"address\"}` (address optional: "
            "« Transférer au service » drafts a forward to it). The default lists a tribunal "
            "judiciaire's: greffe civil, greffe pénal, service des audiences, bureau d'ordre, JAF, "
            "JAP, juge des enfants, pôle protection."),
    Setting("PLUME_ROUTING_CATEGORIES", "list", DEFAULT_CATEGORIES,
            "Comma-separated mail categories Orientation may suggest."),
    Setting("PLUME_TRANSLATE_GLOSSARY", "list", DEFAULT_GLOSSARY,
            "Comma-separated legal terms « Traduire » keeps as written in French (with a short "
            "translation in parentheses the first time)."),
    Setting("PLUME_ATTACHMENT_MAX_BYTES", "int", 10 * 1024 * 1024,
            "Largest mail attachment (.docx, .pdf) Plume summarises, in bytes."),
    Setting("PLUME_ATTACHMENT_MAX_PAGES", "int", 100,
            "Largest number of PDF pages Plume reads from one attachment."),
]


def validate(config: dict[str, Any]) -> None:
    """Refuse a malformed service list at start-up rather than at the first mail."""
    services = config.get("ROUTING_SERVICES")
    if services is not None or "ROUTING_SERVICES" in config:
        if not isinstance(services, list) or not services:
            raise ConfigError("PLUME_ROUTING_SERVICES must be a non-empty JSON list of objects")
        names: set[str] = set()
        for index, entry in enumerate(services):
            where = f"PLUME_ROUTING_SERVICES[{index}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("service"), str) \
                    or not entry["service"].strip():
                raise ConfigError(f"{where} needs a non-empty \"service\" name")
            if not isinstance(entry.get("description", ""), str):
                raise ConfigError(f"{where}.description must be a string")
            address = entry.get("address", "")
            if address is not None and (not isinstance(address, str)
                                        or (address.strip() and "@" not in address)):
                raise ConfigError(f"{where}.address must be an e-mail address")
            keywords = entry.get("keywords", [])
            if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
                raise ConfigError(f"{where}.keywords must be a list of strings")
            if entry["service"].strip().lower() in names:
                raise ConfigError(f"{where}: service {entry['service']!r} is listed twice")
            names.add(entry["service"].strip().lower())
    for key in ("ATTACHMENT_MAX_BYTES", "ATTACHMENT_MAX_PAGES"):
        if config.get(key) is not None and config[key] <= 0:
            raise ConfigError(f"PLUME_{key}={config[key]} must be a positive number")
    categories = config.get("ROUTING_CATEGORIES")
    if "ROUTING_CATEGORIES" in config and not categories:
        raise ConfigError("PLUME_ROUTING_CATEGORIES must name at least one category")
