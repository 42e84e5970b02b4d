"""Per-user quotas kept in PostgreSQL, so every gunicorn worker and every instance shares them.

Two limits, both keyed by the pseudonymous user hash (never the user id):

- a request rate, in fixed one-minute windows (one row per user, one atomic upsert per
  request: the row is only incremented while under the limit, so a refused request
  costs nothing and two workers can never both take the last slot);
- a daily token budget per task family, checked before a call and charged after it
  (calls already running when the budget is reached may end a little over it).

Days are Paris days: budgets come back at midnight for the people using Plume.
"""
from __future__ import annotations

import logging
import math
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from .. import db
from ..errors import RateLimited, ServiceUnavailable

log = logging.getLogger(__name__)

TIMEZONE = "Europe/Paris"

FAMILY_LABELS = {
    "generation": "la rédaction assistée",
    "transcription": "la transcription",
    "search": "la recherche",
    "pseudonymisation": "la pseudonymisation",
}

# One round trip: today's spending, and (only while under budget) one request taken
# from the minute window. The window row is only incremented while under the limit, so a
# refused request costs nothing and two workers can never both take the last slot.
# ``{also}`` is room for one more data-modifying CTE of the caller (the metered call opens
# its interaction record there), so that admitting a call stays one statement.
# The statement is its own transaction (sent in autocommit: no BEGIN, no COMMIT to wait
# for), and ``nowait`` turns off synchronous commit for it alone: a counter is not a
# record, its commit need not wait for the disk (at worst a database crash forgets the last
# fraction of a second of counting), and this is on the path to the first token.
_CHECK = f"""
WITH nowait AS (SELECT set_config('synchronous_commit', 'off', true)),
spent AS (
    SELECT coalesce(sum(tokens), 0) AS tokens FROM quota_tokens
     WHERE user_hash = %(user)s AND family = %(family)s
       AND day = (now() AT TIME ZONE '{TIMEZONE}')::date
), taken AS (
    INSERT INTO quota_rate AS q (user_hash, window_start, requests)
    SELECT %(user)s, date_trunc('minute', now()), 1
     WHERE %(limit)s > 0
       AND (%(budget)s::bigint IS NULL OR (SELECT tokens FROM spent) < %(budget)s::bigint)
    ON CONFLICT (user_hash) DO UPDATE
       SET window_start = EXCLUDED.window_start,
           requests = CASE WHEN q.window_start = EXCLUDED.window_start
                           THEN q.requests + 1 ELSE 1 END
     WHERE q.window_start <> EXCLUDED.window_start OR q.requests < %(limit)s
    RETURNING requests
){{also}}
SELECT (SELECT tokens FROM spent), (SELECT requests FROM taken) FROM nowait
"""
_SECONDS_TO_NEXT_MINUTE = """
SELECT extract(epoch FROM date_trunc('minute', clock_timestamp()) + interval '1 minute'
                          - clock_timestamp())
"""
_TOKENS_TODAY = f"""
SELECT tokens FROM quota_tokens
 WHERE user_hash = %(user)s AND family = %(family)s
   AND day = (now() AT TIME ZONE '{TIMEZONE}')::date
"""
_SECONDS_TO_MIDNIGHT = f"""
SELECT extract(epoch FROM ((date_trunc('day', clock_timestamp() AT TIME ZONE '{TIMEZONE}')
                            + interval '1 day') AT TIME ZONE '{TIMEZONE}') - clock_timestamp())
"""
_CHARGE_CTE = f"""charged AS (
INSERT INTO quota_tokens AS q (user_hash, family, day, tokens)
SELECT u, f, (now() AT TIME ZONE '{TIMEZONE}')::date, t
  FROM unnest(%(charge_users)b::text[], %(charge_families)b::text[], %(charge_tokens)b::int8[])
       AS c(u, f, t)
ON CONFLICT (user_hash, family, day) DO UPDATE SET tokens = q.tokens + EXCLUDED.tokens)"""


def _seconds(conn, sql: str) -> int:
    value = conn.execute(sql).fetchone()[0]
    return max(1, math.ceil(float(value)))


DATABASE_DOWN = ("La base de données est momentanément injoignable. "
                 "Réessayez dans quelques instants.")
# A database restart leaves every pooled connection broken: after a failure the pool checks
# its idle connections (replacing the broken ones) and the check is tried again.
ATTEMPTS = 3


def check(user_hash: str, family: str, *, per_minute: int, daily_budget: int | None,
          also: tuple[str, dict[str, Any]] | None = None) -> None:
    """Take one request from the user's minute window; RateLimited when over a limit.

    Both limits are read (and the request counted) in one statement: this runs before
    every assistance call, on the path to the first token. ``also`` is a CTE
    (``name AS (INSERT ...)``) and its parameters, run in the same statement whatever the
    verdict. A database that fails or restarts is a 503 ``base_indisponible`` in French.
    """
    sql = _CHECK.format(also=f",\n{also[0]}" if also else "")
    params = {"user": user_hash, "family": family, "limit": per_minute, "budget": daily_budget,
              **(also[1] if also else {})}
    for attempt in range(ATTEMPTS):
        try:
            _check_once(sql, params, family, per_minute, daily_budget)
            return
        except psycopg.Error as exc:
            if attempt + 1 < ATTEMPTS and isinstance(exc, psycopg.OperationalError):
                log.warning("quota check failed, retrying on a checked connection (%s)",
                            type(exc).__name__)
                db.get_pool().check()
                continue
            raise ServiceUnavailable(DATABASE_DOWN, code="base_indisponible",
                                     detail=f"quota check failed: {type(exc).__name__}: {exc}") from None


def _check_once(sql: str, params: dict[str, Any], family: str, per_minute: int,
                daily_budget: int | None) -> None:
    with db.connection() as conn:
        conn.autocommit = True
        try:
            spent, requests = conn.execute(sql, params).fetchone()
        finally:
            # The pool's other borrowers expect transactions (a broken connection is
            # discarded by the pool whatever its mode).
            if conn.info.transaction_status == TransactionStatus.IDLE:
                conn.autocommit = False
        if daily_budget is not None and spent >= daily_budget:
            retry = _seconds(conn, _SECONDS_TO_MIDNIGHT)
            label = FAMILY_LABELS.get(family, family)
            raise RateLimited(
                f"Vous avez atteint votre quota quotidien pour {label}. "
                "Il sera rétabli à minuit.",
                headers={"Retry-After": str(retry)},
                detail=f"daily {family} budget reached ({spent}/{daily_budget} tokens)",
                extra={"retry_after": retry},
            )
        if per_minute > 0 and requests is None:
            retry = _seconds(conn, _SECONDS_TO_NEXT_MINUTE)
            raise RateLimited(
                "Vous avez envoyé trop de demandes en peu de temps. "
                f"Réessayez dans {retry} seconde{'s' if retry > 1 else ''}.",
                headers={"Retry-After": str(retry)},
                detail=f"request rate over {per_minute}/minute",
                extra={"retry_after": retry},
            )


def charge(user_hash: str, family: str, tokens: int) -> None:
    """Add ``tokens`` to today's spending of the user for ``family``."""
    statement = charge_statement([(user_hash, family, tokens)])
    if statement is not None:
        sql, params = statement
        with db.connection() as conn:
            conn.execute(f"WITH {sql} SELECT 1", params)


def charge_statement(charges: list[tuple[str, str, int]]) -> tuple[str, dict[str, Any]] | None:
    """The CTE (and its parameters) that adds each ``(user_hash, family, tokens)``, for a
    statement of the caller's (the audit writer's, which stores their records in the same
    transaction); None when there is nothing to charge. A user's charges are added up first:
    one statement may not update the same row twice."""
    totals: dict[tuple[str, str], int] = {}
    for user, family, tokens in charges:
        if tokens > 0:
            totals[(user, family)] = totals.get((user, family), 0) + int(tokens)
    if not totals:
        return None
    keys = sorted(totals)  # the same lock order in every transaction
    return _CHARGE_CTE, {"charge_users": [k[0] for k in keys], "charge_families": [k[1] for k in keys],
                         "charge_tokens": [totals[k] for k in keys]}


def spent_today(user_hash: str, family: str) -> int:
    """Tokens the user spent today on ``family`` (for the user's own view and tests)."""
    with db.connection() as conn:
        row = conn.execute(_TOKENS_TODAY, {"user": user_hash, "family": family}).fetchone()
    return int(row[0]) if row else 0
