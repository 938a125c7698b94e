"""The operator's view of the job queue: list, inspect, and send a dead or failed job back."""

from __future__ import annotations

from uuid import UUID

from services.audit import service as audit
from services.core.db import UserSession
from services.core.pagination import Page, next_page
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
    rows = await repository.list_jobs(
        session, status=status, kind=kind, client_id=client_id, cursor=cursor, limit=limit
    )
    page, next_cursor = next_page(rows, limit, lambda row: [row["created_at"], row["id"]])
    items = [JobRead.model_validate(dict(r)) for r in page]
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
