"""``/api/v1/admin/jurisdictions``: admins manage which jurisdictions' private decisions
each user may search (the same mapping as ``python -m backend users``)."""
from __future__ import annotations

import logging

from flask import Blueprint, g, jsonify, request

from ..auth import ROLE_ADMIN, jurisdictions, require_roles
from ..errors import NotFound, ValidationError
from .openapi import NOT_BLANK

log = logging.getLogger(__name__)

bp = Blueprint("user_jurisdictions", __name__, url_prefix="/api/v1/admin/jurisdictions")


@bp.get("")
@require_roles(ROLE_ADMIN)
def list_mappings():
    """Every user → jurisdictions mapping."""
    return jsonify(mappings=jurisdictions.all_mappings())


@bp.put("/<path:user>")
@require_roles(ROLE_ADMIN)
def set_mapping(user: str):
    """Replace one user's jurisdictions."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("jurisdictions"), list):
        raise ValidationError("jurisdictions",
                              "Envoyez la liste des juridictions : {\"jurisdictions\": [\"…\"]}.")
    names = jurisdictions.set_for(user, body["jurisdictions"], updated_by=g.user_hash)
    log.info("jurisdictions mapping set", extra={"admin": g.user_hash, "count": len(names)})
    return jsonify(user=jurisdictions.normalize_key(user), jurisdictions=names)


@bp.delete("/<path:user>")
@require_roles(ROLE_ADMIN)
def delete_mapping(user: str):
    """Forget one user's mapping."""
    if not jurisdictions.remove(user):
        raise NotFound("Aucune juridiction n'est associée à cet utilisateur.",
                       detail="no jurisdictions mapping for this user")
    log.info("jurisdictions mapping removed", extra={"admin": g.user_hash})
    return "", 204


_USER = [{"name": "user", "in": "path", "required": True,
          "schema": {"type": "string", "pattern": NOT_BLANK, "maxLength": 320},
          "description": "Entra object id or sign-in name (UPN)"}]
_NAME = {"type": "string", "pattern": NOT_BLANK, "maxLength": 200,
         "description": "A jurisdiction's name (trimmed: 1 to 200 characters)"}
_ADMIN_ERRORS = {"401": {"description": "Not signed in"}, "403": {"description": "Not an admin"}}
OPENAPI = {
    "/api/v1/admin/jurisdictions": {"get": {
        "summary": "List user → jurisdictions mappings (admins)", "tags": ["admin"],
        "responses": {"200": {"description": "The mappings"}, **_ADMIN_ERRORS}}},
    "/api/v1/admin/jurisdictions/{user}": {
        "put": {"summary": "Set a user's jurisdictions (admins)", "tags": ["admin"],
                "parameters": _USER,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["jurisdictions"],
                    "properties": {"jurisdictions": {"type": "array", "maxItems": 50,
                                                     "items": _NAME}}}}}},
                "responses": {"200": {"description": "Saved"}, "400": {"description": "Invalid list"},
                              **_ADMIN_ERRORS}},
        "delete": {"summary": "Remove a user's jurisdictions mapping (admins)", "tags": ["admin"],
                   "parameters": _USER,
                   "responses": {"204": {"description": "Removed"}, "404": {"description": "No mapping"},
                                 **_ADMIN_ERRORS}},
    },
}
