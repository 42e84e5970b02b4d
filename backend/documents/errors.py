"""Why a file cannot be read, in French for the user and in English for the logs."""
from __future__ import annotations

from ..errors import AppError


class DocumentError(AppError):
    """A file Plume cannot read; ``status`` says why (413, 415 or 422)."""

    status, code = 422, "document_illisible"
    message = "Ce document n'a pas pu être lu."


def too_large(detail: str, message: str | None = None) -> DocumentError:
    return DocumentError(message or "Ce document est trop volumineux pour être traité.",
                         status=413, code="trop_volumineux", detail=detail)


def unreadable(detail: str, message: str | None = None) -> DocumentError:
    return DocumentError(message or "Ce document est endommagé ou illisible.",
                         status=422, code="document_illisible", detail=detail)


def encrypted(detail: str) -> DocumentError:
    return DocumentError("Ce document est protégé par un mot de passe : enregistrez-en une copie "
                         "non protégée pour l'utiliser.", status=422, code="document_chiffre",
                         detail=detail)


def empty(detail: str, message: str | None = None) -> DocumentError:
    return DocumentError(message or "Ce document ne contient aucun texte.",
                         status=422, code="document_vide", detail=detail)


def unsupported(detail: str, message: str | None = None) -> DocumentError:
    return DocumentError(message or "Seuls les documents Word (.docx) et PDF sont pris en charge.",
                         status=415, code="format_non_pris_en_charge", detail=detail)
