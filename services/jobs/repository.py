"""The operator's reads and retries of public.jobs, under RLS (workers use services/core/queue.py)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from services.core.db import UserSession

COLUMNS = (
    "id, kind, status, attempts, max_attempts, run_after, last_error, lease_owner, lease_expires_at,"
    " idempotency_key, client_id, created_at, started_at, finished_at"
)

# One fixed statement: a null filter matches every row.
LIST = f"""
select {COLUMNS} from public.jobs
where ($1::text is null or status = $1)
  and ($2::text is null or kind = $2)
  and ($3::uuid is null or client_id = $3)
  and ($4::timestamptz is null or (created_at, id) < ($4, $5::uuid))
order by created_at desc, id desc
limit $6
"""

GET = f"select {COLUMNS}, payload from public.jobs where id = $1"

# Back to the queue, due now, with a fresh set of attempts; the last error stays for the record.
RETRY = f"""
update public.jobs set status = 'queued', attempts = 0, run_after = now(), finished_at = null
where id = $1 and status in ('dead', 'failed')
returning {COLUMNS}, payload
"""


async def list_jobs(
    session: UserSession,
    *,
    status: str | None,
    kind: str | None,
    client_id: UUID | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    after_at, after_id = after if after else (None, None)
    return await session.fetch(LIST, status, kind, client_id, after_at, after_id, limit + 1)


async def get(session: UserSession, job_id: UUID) -> asyncpg.Record | None:
    return await session.fetchrow(GET, job_id)


async def retry(session: UserSession, job_id: UUID) -> asyncpg.Record | None:
    return await session.fetchrow(RETRY, job_id)


async def wake_workers(session: UserSession) -> None:
    """Delivered at commit: an idle worker claims the retried job at once."""
    await session.execute("select pg_notify('foxeo_jobs', '')")
