"""The operator's reads and retries of public.jobs, under RLS (workers use services/core/queue.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import Select, bindparam, select

from services.core.db import UserSession
from services.core.pagination import Keyset
from services.core.query import shaped
from services.jobs.tables import jobs

COLUMNS = (
    "id, kind, status, attempts, max_attempts, run_after, last_error, lease_owner, lease_expires_at,"
    " idempotency_key, client_id, created_at, started_at, finished_at"
)

GET = f"select {COLUMNS}, payload from public.jobs where id = $1"

# Back to the queue, due now, with a fresh set of attempts; the last error stays for the record.
RETRY = f"""
update public.jobs set status = 'queued', attempts = 0, run_after = now(), finished_at = null
where id = $1 and status in ('dead', 'failed')
returning {COLUMNS}, payload
"""


KEYSET = Keyset(jobs.c.created_at, jobs.c.id, kinds=(datetime, UUID), descending=True)
_FILTERS = ("status", "kind", "client_id")
_LISTED = [column for column in jobs.c if column.name not in ("payload", "lease_token")]


@shaped
def _list(filters: tuple[str, ...], after: bool) -> Select[Any]:
    statement = select(*_LISTED)
    for name in filters:
        statement = statement.where(jobs.c[name] == bindparam(name))
    return KEYSET.apply(statement, after=after)


async def list_jobs(
    session: UserSession,
    *,
    status: str | None,
    kind: str | None,
    client_id: UUID | None,
    cursor: str | None,
    limit: int,
) -> list[asyncpg.Record]:
    """`limit + 1` jobs, newest first (no payload: it can be large)."""
    filters = {
        name: value for name, value in zip(_FILTERS, (status, kind, client_id), strict=True) if value is not None
    }
    query = _list(tuple(filters), cursor is not None)
    return await query.fetch(session, **filters, **KEYSET.values(cursor, limit))


async def get(session: UserSession, job_id: UUID) -> asyncpg.Record | None:
    return await session.fetchrow(GET, job_id)


async def retry(session: UserSession, job_id: UUID) -> asyncpg.Record | None:
    return await session.fetchrow(RETRY, job_id)


async def wake_workers(session: UserSession) -> None:
    """Delivered at commit: an idle worker claims the retried job at once."""
    await session.execute("select pg_notify('foxeo_jobs', '')")
