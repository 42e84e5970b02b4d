"""Settings of the database room (the others, DATABASE_URL first, are core settings)."""
from __future__ import annotations

from ..settings import Setting

SETTINGS: list[Setting] = [
    Setting("PLUME_PG_UPGRADE_BINDIR", "str", None,
            "Folder of the older PostgreSQL's programs (`pg_ctl`, `postgres`) used once to upgrade "
            "an embedded data folder made by an older Plume (PostgreSQL 16). Unset: those of the "
            "`pgserver` package, installed with Plume for this purpose."),
]
