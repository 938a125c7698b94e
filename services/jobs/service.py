"""The operator's view of the job queue: list, inspect, and send a dead or failed job back."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.audit import service as audit
from services.core.db import UserSession
from services.core.pagination import Page, encode_cursor, read_cursor
from services.jobs import repository
from services.jobs.errors import JobNotFound, JobNotRetryable
from services.jobs.schemas import JobDetail, JobRead, JobStatus


async def list_jobs(
    session: UserSession,
    *,
    status: JobStatus | None = None,
    kind: str | None = None,
    client_id: UUID | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[JobRead]:
    after: tuple[datetime, UUID] | None = None
    if cursor:
        at, job_id = read_cursor(cursor, datetime, UUID)
        after = (at, job_id)
    rows = await repository.list_jobs(session, status=status, kind=kind, client_id=client_id, after=after, limit=limit)
    items = [JobRead.model_validate(dict(r)) for r in rows[:limit]]
    last = items[-1] if items else None
    next_cursor = encode_cursor(last.created_at, last.id) if len(rows) > limit and last else None
    return Page[JobRead](items=items, next_cursor=next_cursor)


async def get_job(session: UserSession, job_id: UUID) -> JobDetail:
    row = await repository.get(session, job_id)
    if row is None:
        raise JobNotFound()
    return JobDetail.model_validate(dict(row))


async def retry_job(session: UserSession, job_id: UUID) -> JobDetail:
    """Queue a dead (or failed) job again now, with its attempts reset."""
    before = await get_job(session, job_id)
    row = await repository.retry(session, job_id)
    if row is None:
        raise JobNotRetryable(f"only a dead or failed job can be retried; this one is {before.status}")
    job = JobDetail.model_validate(dict(row))
    await repository.wake_workers(session)
    await audit.record(
        session,
        action="job.retried",
        entity_type="job",
        entity_id=job.id,
        client_id=job.client_id,
        before=before.model_dump(mode="json", include={"status", "attempts", "last_error"}),
        after=job.model_dump(mode="json", include={"status", "attempts", "run_after"}),
    )
    return job
