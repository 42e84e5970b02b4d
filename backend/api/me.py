"""``GET /api/v1/me``: who the panes are talking for, what they may do, and what is left
of today's budget (so a pane hides the tasks a role does not reach)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .. import auth
from ..auth import quotas

bp = Blueprint("me", __name__)


@bp.get("/api/v1/me")
def me():
    """The signed-in user's name, roles, jurisdictions, tasks and daily budgets."""
    user = auth.current_user()
    budgets = current_app.config["QUOTA_DAILY_TOKENS"]
    user_hash = auth.user_hash(user.id)
    return jsonify(
        name=user.name,
        roles=sorted(user.roles),
        jurisdictions=sorted(user.jurisdictions),
        tasks=auth.allowed_tasks(user),
        budgets={family: {"budget": budget, "spent": quotas.spent_today(user_hash, family)}
                 for family, budget in budgets.items()},
    )


OPENAPI = {
    "/api/v1/me": {"get": {
        "summary": "The signed-in user: roles, jurisdictions, allowed tasks, daily budgets",
        "tags": ["auth"],
        "responses": {"200": {"description": "The user"},
                      "401": {"description": "Not signed in"},
                      "403": {"description": "No Plume role"}},
    }},
}
