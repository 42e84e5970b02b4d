"""The metered call: the one way through the house for every use case.

::

    with metered(user, kind="assist", task="draft") as call:   # role, quota, record opened
        answer = ...                                           # the host, search, a job step
        call.charge(answer.usage)                              # tokens, stored with the record
    # on exit the record is finished: ok, error with its code, or stopped

The order is decided here, once:

1. **authorise** the user's role for the task (403, nothing recorded: nothing was used);
2. **admit**: one SQL statement takes a request from the user's minute window, reads the
   daily token budget and writes the record's open row (``audit_open``); a refusal (429)
   is recorded as an error ``quota_depasse``; a database that fails is a 503
   ``base_indisponible``;
3. the work, inside the ``with`` block;
4. **finish**: the record is appended to the audit chain with its usage, and the tokens
   are charged to the user's budget in the same transaction, which also deletes the open
   row. If the database is down the record and its charge are retried, then spooled
   together (:mod:`backend.audit.records`): neither is lost, neither counts twice.

Failures: an :class:`AppError` leaves the block with its code recorded; any other
exception is recorded as ``erreur_interne`` (and becomes the JSON 500); a generator
closed by a client that went away (``GeneratorExit``) is recorded as ``stopped``. A
use case that turns an error into a message of its own (an SSE ``error`` event, a
keyword suggestion) says so with :meth:`Call.fail`. A worker killed in the block leaves
the open row, closed later as « interrompu ».

Jobs: a dossier is admitted in the request that submits it and recorded once, when its job
ends, by whichever worker process ends it. :meth:`Call.hand_over` (inside the block) keeps
the record open when the block ends and returns what the job stores to take it back;
:func:`resume` rebuilds the call in the worker, whose :meth:`Call.finish` writes the record
(one per job, however many runs it took). The record's open row stays meanwhile, and its id
is the job's id: the audit room does not close it as interrupted while that job lives.
:func:`job_verdict` runs one job's work and decides, in one place for every job kind, whether
this run finishes the record (done, cancelled, failed, last attempt broken) or leaves it to
the next run (a lost lease, an attempt tried again).

Streaming: the generator that produces the events holds the ``with`` itself, so the
record is finished when the stream ends or the client leaves; the view primes the
generator (its first ``next()``) so that everything before the first byte still fails as
a JSON error. :meth:`Call.finish` finishes the record early, when the last event must
carry an interaction id that is already stored.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, TypeVar

from .. import audit, jobs
from ..auth import TASK_FAMILY, User, authorize, quota_limits, quotas, user_hash
from ..errors import AppError

__all__ = ["metered", "resume", "Call", "METERED_KINDS"]

# What a record's ``kind`` may be (the observatory groups by it).
METERED_KINDS = ("assist", "search", "transcribe", "pseudonymize", "dossier")


class Call:
    """One metered call in progress: what the use case tells the record."""

    def __init__(self, user: User, kind: str, task: str, interaction: audit.Interaction):
        self.user = user
        self.kind = kind
        self.task = task
        self.interaction = interaction
        self.usages: list[Mapping[str, Any]] = []
        self.failure: str | None = None
        self.handed_over = False

    @property
    def id(self) -> str:
        """The interaction id the panes send feedback on."""
        return self.interaction.id

    def update(self, **fields: Any) -> None:
        """Record metadata: model, host, prompt_version, source_ids (never text)."""
        self.interaction.update(**fields)

    def first_token(self) -> None:
        """The user sees the first piece of the answer now (the first call counts)."""
        self.interaction.first_token()

    def charge(self, usage: Mapping[str, Any] | None) -> None:
        """Add one host call's usage ({"prompt_tokens", "completion_tokens", "estimated"?});
        stored with the record and charged to the user's budget when the call finishes."""
        if usage:
            self.usages.append(usage)

    def usage(self) -> dict[str, Any]:
        """Every charged usage added up (what the record and the ``done`` event carry)."""
        prompt = sum(_tokens(u, "prompt_tokens") for u in self.usages)
        completion = sum(_tokens(u, "completion_tokens") for u in self.usages)
        return {"prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "estimated": any(u.get("estimated") for u in self.usages), "calls": len(self.usages)}

    def fail(self, code: str) -> None:
        """The call failed with ``code`` although the block goes on (the use case shows
        the failure itself); the first failure is the one recorded."""
        self.failure = self.failure or code

    def finish(self, outcome: str | None = None, code: str | None = None) -> None:
        """Finish the record now (idempotent). Without arguments: ``ok``, or ``error``
        with the code given to :meth:`fail`."""
        if self.interaction.finished:
            return
        if outcome is None:
            outcome, code = ("error", self.failure) if self.failure else ("ok", None)
        usage = self.usage()
        charge = (TASK_FAMILY.get(self.task, self.task), usage["total_tokens"])
        self.interaction.finish(outcome, error_code=code, usage=usage, charge=charge)

    @property
    def finished(self) -> bool:
        return self.interaction.finished

    def hand_over(self) -> dict[str, Any]:
        """Keep the record open after the block: a job finishes it (see :func:`resume`).
        Returns what the job must store (JSON: ids, user hash, roles; never text)."""
        self.handed_over = True
        record = self.interaction
        return {"id": record.id, "kind": self.kind, "task": self.task,
                "started_at": record.started_at.isoformat(), "user_hash": record.user_hash,
                "roles": list(record.roles), "jurisdictions": list(record.jurisdictions)}

    def detach(self) -> None:
        """This process lets go of the record without finishing it (handed over to a job, or
        a job's run that stops without a verdict): another process finishes it."""
        self.interaction.app = None  # nothing is written from here, not even when dropped

    def budget_left(self) -> int | None:
        """Tokens the user may still spend today on this task's family (None: no budget),
        less what this call has used so far: checked before a job's first model call."""
        _, budget = quota_limits(self.task)
        if budget is None:
            return None
        spent = quotas.spent_today(self.interaction.user_hash, TASK_FAMILY.get(self.task, self.task))
        return max(0, budget - spent - self.usage()["total_tokens"])


class metered:  # noqa: N801 - used like a function: ``with metered(...) as call``
    """Authorise, admit and record one use of Plume (see the module docstring).

    ``record_fields`` are metadata known at the start (``model``, ``host``…); anything
    else is ignored by the record.
    """

    def __init__(self, user: User, kind: str, task: str, **record_fields: Any):
        if kind not in METERED_KINDS:
            raise ValueError(f"unknown metered kind {kind!r}")
        self.user, self.kind, self.task, self.fields = user, kind, task, record_fields
        self.call: Call | None = None

    def __enter__(self) -> Call:
        authorize(self.user, self.task)
        interaction = audit.start(self.kind, self.task, **self.fields)
        # The record names the user the call is metered for (a job step runs outside the
        # request that started it).
        interaction.user_hash = user_hash(self.user.id)
        interaction.roles = sorted(self.user.roles)
        interaction.jurisdictions = sorted(self.user.jurisdictions)
        call = self.call = Call(self.user, self.kind, self.task, interaction)
        per_minute, budget = quota_limits(self.task)
        try:
            quotas.check(interaction.user_hash, TASK_FAMILY.get(self.task, self.task),
                         per_minute=per_minute, daily_budget=budget, also=interaction.opening())
        except AppError as err:  # refused (429), or the database is down (503: spooled)
            call.finish("error", err.code)
            raise
        return call

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: Any) -> bool:
        call = self.call
        assert call is not None
        if error is None:
            if call.handed_over:
                call.detach()
            else:
                call.finish()
        elif isinstance(error, GeneratorExit):
            call.finish("stopped")
        elif isinstance(error, AppError):
            call.finish("error", error.code)
        else:
            call.finish("error", AppError.code)
        return False


def resume(state: Mapping[str, Any]) -> Call:
    """The call a job took over with :meth:`Call.hand_over`, in the process running the job.

    Its duration counts from the admission (the record's ``started_at``); usage charged
    here is this run's, so a job adds again what earlier runs stored with their steps."""
    started_at = datetime.fromisoformat(state["started_at"])
    interaction = audit.start(state["kind"], state["task"])
    interaction.id = state["id"]
    interaction.started_at = started_at
    interaction.started = time.perf_counter() - max(
        0.0, (datetime.now(timezone.utc) - started_at).total_seconds())
    interaction.user_hash = state["user_hash"]
    interaction.roles = list(state.get("roles") or [])
    interaction.jurisdictions = list(state.get("jurisdictions") or [])
    user = User(id="", roles=frozenset(interaction.roles),
                jurisdictions=frozenset(interaction.jurisdictions))
    return Call(user, state["kind"], state["task"], interaction)


T = TypeVar("T")


def job_verdict(ctx: jobs.JobContext, call: Call, execute: Callable[[], T],
                finish: Callable[[str, str | None, T | None], None]) -> T:
    """Run ``execute`` and give the job's one record its verdict: ``finish(outcome, code,
    result)`` (result only on success) when this run ends the job; when another run will go
    on, the call is detached and the record stays open for it."""
    try:
        result = execute()
    except jobs.Interrupted:
        call.detach()
        raise
    except jobs.Cancelled:
        finish("stopped", None, None)
        raise
    except jobs.Failure as failure:
        finish("error", failure.code, None)
        raise
    except Exception as exc:
        if not ctx.last_attempt:
            call.detach()
            raise
        finish("error", exc.code if isinstance(exc, AppError) else AppError.code, None)
        raise
    finish("ok", None, result)
    return result


def _tokens(usage: Mapping[str, Any], name: str) -> int:
    value = usage.get(name)
    return value if isinstance(value, int) and value > 0 else 0
