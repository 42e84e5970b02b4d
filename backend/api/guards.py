"""What no text entering Plume may hold, checked in one place for every route.

- **NUL and lone surrogates**: PostgreSQL refuses a NUL in text, and a lone UTF-16
  surrogate (``"\\ud800"``, valid JSON) cannot be encoded at all; either, reaching a query
  or a record, was a 500 (and a feedback event stuck in the audit spool). They are refused
  with a 400 wherever text comes in: query arguments, path parameters, form fields and
  file names, JSON strings and keys.
- **Deep JSON**: Python's JSON parser recurses, so ``[[[[…]]]]`` 10,000 deep raised a
  ``RecursionError`` out of ``request.get_json(silent=True)`` (silent only catches
  ``ValueError``): a 500 on every JSON route. Any nesting over :data:`MAX_JSON_DEPTH` is a
  400; Plume's bodies are two or three levels deep.
- **Long addresses**: over :data:`MAX_URL_BYTES` is a 414 in the JSON error shape.

JSON and forms are checked when a view reads them (a custom :class:`GuardedRequest`), so
each body is parsed once and only after the route's size limit (``edges``) applies;
arguments and path parameters before any view runs.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Flask, Request, request

from ..errors import AppError, ValidationError

MAX_JSON_DEPTH = 32
MAX_URL_BYTES = 8 * 1024
FORBIDDEN = re.compile("[\x00\ud800-\udfff]")

NUL_MESSAGE = ("La requête contient un caractère invalide (caractère nul ou mal encodé) "
               "dans « {field} » : retirez-le et réessayez.")
DEEP_MESSAGE = "Le JSON envoyé est trop imbriqué (au plus {depth} niveaux)."
URL_MESSAGE = "L'adresse de la requête est trop longue (au plus {size} Ko)."


def _refuse(field: str | None) -> ValidationError:
    field = field or "formulaire"
    return ValidationError(field, NUL_MESSAGE.format(field=field),
                           detail=f"NUL byte or lone surrogate in {field}")


def check_text(field: str | None, value: str | None) -> None:
    """400 when ``value`` holds a NUL or a lone surrogate (a form part may have no name)."""
    if value and FORBIDDEN.search(value):
        raise _refuse(field)


def check_json(value: Any) -> None:
    """400 when a JSON value nests deeper than MAX_JSON_DEPTH or holds a forbidden char.

    Walked with a stack, not recursion, so the check cannot fail the way the parser did.
    """
    stack: list[tuple[Any, int, str]] = [(value, 1, "body")]
    while stack:
        item, depth, field = stack.pop()
        if isinstance(item, str):
            check_text(field, item)
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > MAX_JSON_DEPTH:
            raise ValidationError("body", DEEP_MESSAGE.format(depth=MAX_JSON_DEPTH),
                                  detail=f"JSON nested over {MAX_JSON_DEPTH} levels")
        if isinstance(item, dict):
            for key, child in item.items():
                name = key if depth == 1 and isinstance(key, str) else field
                check_text(name if not FORBIDDEN.search(key) else "body", key)
                stack.append((child, depth + 1, name))
        else:
            stack.extend((child, depth + 1, field) for child in item)


class GuardedRequest(Request):
    """Flask's request, whose JSON and form data are checked when first read."""

    def get_json(self, force: bool = False, silent: bool = False,
                 cache: bool = True) -> Any:
        try:
            value = super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            raise ValidationError("body", DEEP_MESSAGE.format(depth=MAX_JSON_DEPTH),
                                  detail="JSON too deep for the parser") from None
        check_json(value)
        return value

    def _load_form_data(self) -> None:
        super()._load_form_data()
        for name, value in self.form.items(multi=True):
            check_text(name, name)
            check_text(name, value)
        for name, upload in self.files.items(multi=True):
            check_text(name, name)
            check_text(name, upload.filename or "")


def _check_address() -> None:
    size = len(request.full_path.encode("utf-8", "surrogatepass"))
    if size > MAX_URL_BYTES:
        raise AppError(URL_MESSAGE.format(size=MAX_URL_BYTES // 1024), status=414,
                       code="adresse_trop_longue", detail=f"URL of {size} bytes")
    for name, value in request.args.items(multi=True):
        check_text(name, name)
        check_text(name, value)
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            check_text(name, value)


def init_app(app: Flask) -> None:
    """Use the guarded request class and check addresses before every view."""
    app.request_class = GuardedRequest
    app.before_request(_check_address)
