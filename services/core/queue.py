"""The durable job queue: enqueue in the caller's transaction, claim with a lease, finish under it.

`enqueue` runs inside the session it is given (a request's UserSession, or a ServiceSession in a job
or webhook), so a job exists only if that transaction commits. Handlers are registered per module as
`HANDLERS` in `services/<module>/jobs.py`; services/core/worker.py claims and runs them. A handler
runs outside any claim transaction (it opens its own sessions and calls vendors between them) and
may run more than once (a lease can expire under it), so it must be idempotent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import asyncpg

from services.core.db import AnySession, Database
from services.core.settings import Settings

CHANNEL = "foxeo_jobs"
T = TypeVar("T")


class PermanentJobError(Exception):
    """Raised by a handler when retrying cannot help (the vendor refused the request): the job goes
    straight to `dead`. Any other exception is transient: the job is retried with backoff."""


@dataclass(frozen=True, slots=True)
class Job:
    id: UUID
    kind: str
    payload: dict[str, Any]
    attempts: int  # including this run
    max_attempts: int
    client_id: UUID | None
    lease_token: UUID
    created_at: datetime


class Resources:
    """The process's integration clients a handler may need (the user directory, vendor clients…),
    keyed by their class; built once in the lifespan or the worker command."""

    def __init__(self) -> None:
        self._items: dict[type, object] = {}

    def provide(self, kind: type[T], value: T) -> None:
        self._items[kind] = value

    def find(self, kind: type[T]) -> T | None:
        value = self._items.get(kind)
        return value if isinstance(value, kind) else None

    def get(self, kind: type[T]) -> T:
        value = self.find(kind)
        if value is None:
            raise LookupError(f"{kind.__name__} is not configured in this process")
        return value


@dataclass(frozen=True)
class JobContext:
    db: Database
    settings: Settings
    resources: Resources = field(default_factory=Resources)


JobHandler = Callable[[JobContext, Job], Awaitable[None]]


async def enqueue(
    session: AnySession,
    kind: str,
    payload: dict[str, Any],
    *,
    idempotency_key: str | None = None,
    run_after: datetime | None = None,
    client_id: UUID | None = None,
    max_attempts: int | None = None,
) -> UUID | None:
    """Queue `kind` in the session's transaction; None when `idempotency_key` was already used.
    Workers claim only the kinds they have a handler for: name kinds by the constant beside HANDLERS."""
    value: UUID | None = await session.fetchval(
        "select private.enqueue_job($1, $2, $3, $4, $5, $6)",
        kind,
        payload,
        idempotency_key,
        run_after,
        client_id,
        max_attempts,
    )
    return value


# The worker's statements. Each is ONE statement, run outside any explicit transaction.

_JOB_COLUMNS = (
    "id, kind, payload, attempts, coalesce(max_attempts, $4) as max_attempts, client_id, lease_token, created_at"
)

# Due jobs and jobs whose worker died (lease expired), each read in its partial index's order so a
# backlog is never sorted whole; rows are locked SKIP LOCKED, so concurrent claims never share one.
CLAIM = f"""
with expired as (
  select id from public.jobs
  where status = 'running' and lease_expires_at < now() and kind = any($5::text[])
  order by lease_expires_at limit $1 for update skip locked
), due as (
  select id from public.jobs
  where status in ('queued', 'failed') and run_after <= now() and kind = any($5::text[])
  order by run_after limit $1 for update skip locked
)
update public.jobs set status = 'running', attempts = attempts + 1, lease_token = gen_random_uuid(),
  lease_owner = $2, lease_expires_at = now() + make_interval(secs => $3), started_at = now(), finished_at = null
where id in ((select id from expired) union all (select id from due) limit $1)
returning {_JOB_COLUMNS}
"""

# Applies only while the caller still holds the lease: a worker whose lease expired and was
# re-claimed finds another token and changes nothing.
FINISH = """
update public.jobs set status = $3, last_error = coalesce($4, last_error),
  run_after = now() + make_interval(secs => $5), finished_at = now(),
  lease_token = null, lease_expires_at = null, lease_owner = null
where id = $1 and lease_token = $2
"""

EXTEND = """
update public.jobs set lease_expires_at = now() + make_interval(secs => $3)
where id = $1 and lease_token = $2
"""


async def claim(
    pool: asyncpg.Pool, *, limit: int, owner: str, lease_seconds: float, default_max_attempts: int, kinds: list[str]
) -> list[Job]:
    rows = await pool.fetch(CLAIM, limit, owner, float(lease_seconds), default_max_attempts, kinds)
    return [Job(**dict(row)) for row in rows]


async def finish(
    pool: asyncpg.Pool, job: Job, status: str, *, error: str | None = None, delay_seconds: float = 0.0
) -> bool:
    """Record the outcome; False when the lease was lost (another run owns the job now)."""
    result: str = await pool.execute(FINISH, job.id, job.lease_token, status, error, float(delay_seconds))
    return result == "UPDATE 1"


async def extend_lease(pool: asyncpg.Pool, job: Job, lease_seconds: float) -> bool:
    result: str = await pool.execute(EXTEND, job.id, job.lease_token, float(lease_seconds))
    return result == "UPDATE 1"
