"""The admin-managed mapping from users to the jurisdictions whose private decisions they see.

Used when the identity provider does not carry jurisdictions in a token claim
(``PLUME_AUTH_JURISDICTIONS_CLAIM``). A user is named by their Entra object id or their
sign-in name (UPN); both are stored lower-cased so an admin may type either.
"""
from __future__ import annotations

from .. import db
from ..errors import ValidationError

MAX_JURISDICTIONS = 50
MAX_NAME_LENGTH = 200


def normalize_key(user_key: str) -> str:
    return user_key.strip().lower()


def clean(jurisdictions: list[str]) -> list[str]:
    """Trimmed, de-duplicated names in the given order; ValidationError (French) otherwise."""
    names: list[str] = []
    for raw in jurisdictions:
        if not isinstance(raw, str):
            raise ValidationError("jurisdictions", "Chaque juridiction doit être un texte.")
        name = " ".join(raw.split())
        if not name or len(name) > MAX_NAME_LENGTH:
            raise ValidationError("jurisdictions",
                                  f"Un nom de juridiction doit compter de 1 à {MAX_NAME_LENGTH} caractères.")
        if name not in names:
            names.append(name)
    if len(names) > MAX_JURISDICTIONS:
        raise ValidationError("jurisdictions",
                              f"Au plus {MAX_JURISDICTIONS} juridictions par utilisateur.")
    return names


def lookup(*user_keys: str | None) -> list[str]:
    """Jurisdictions mapped to the first of ``user_keys`` (object id, then UPN) that has some."""
    keys = [normalize_key(k) for k in user_keys if k and k.strip()]
    if not keys:
        return []
    with db.connection() as conn:
        rows = dict(conn.execute(
            "SELECT user_key, jurisdictions FROM user_jurisdictions WHERE user_key = ANY(%(keys)s)",
            {"keys": keys}).fetchall())
    for key in keys:
        if key in rows:
            return list(rows[key])
    return []


def set_for(user_key: str, jurisdictions: list[str], *, updated_by: str | None = None) -> list[str]:
    """Replace the user's jurisdictions (an empty list keeps the user with none)."""
    key = normalize_key(user_key)
    if not key or len(key) > 320:
        raise ValidationError("user", "Indiquez l'identifiant ou l'adresse de connexion de l'utilisateur.")
    names = clean(jurisdictions)
    with db.connection() as conn:
        conn.execute(
            """INSERT INTO user_jurisdictions (user_key, jurisdictions, updated_by)
               VALUES (%(key)s, %(names)s, %(by)s)
               ON CONFLICT (user_key) DO UPDATE
                  SET jurisdictions = EXCLUDED.jurisdictions, updated_at = now(),
                      updated_by = EXCLUDED.updated_by""",
            {"key": key, "names": names, "by": updated_by})
    return names


def remove(user_key: str) -> bool:
    """Forget the user's mapping; False when there was none."""
    with db.connection() as conn:
        cursor = conn.execute("DELETE FROM user_jurisdictions WHERE user_key = %(key)s",
                              {"key": normalize_key(user_key)})
        return cursor.rowcount > 0


def all_mappings() -> list[dict]:
    """Every mapping, by user key."""
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT user_key, jurisdictions, updated_at FROM user_jurisdictions ORDER BY user_key"
        ).fetchall()
    return [{"user": key, "jurisdictions": list(names), "updated_at": updated.isoformat()}
            for key, names, updated in rows]
