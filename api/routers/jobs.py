"""The job queue, for the operator: what ran, what failed, and retrying it."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import OperatorSession
from api.problems import responses
from services.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.jobs import service
from services.jobs.schemas import JobDetail, JobRead, JobStatus

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("", response_model=Page[JobRead], responses=responses(401, 403, 422))
async def list_jobs(
    session: OperatorSession,
    status: JobStatus | None = None,
    kind: str | None = Query(None, max_length=100),
    client_id: UUID | None = None,
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
) -> Page[JobRead]:
    """List jobs, newest first, filtered by status, kind or client."""
    return await service.list_jobs(session, status=status, kind=kind, client_id=client_id, cursor=cursor, limit=limit)


@router.get("/{job_id}", response_model=JobDetail, responses=responses(401, 403, 404))
async def get_job(session: OperatorSession, job_id: UUID) -> JobDetail:
    """One job with its payload and last error."""
    return await service.get_job(session, job_id)


@router.post("/{job_id}/retry", response_model=JobDetail, responses=responses(401, 403, 404, 409))
async def retry_job(session: OperatorSession, job_id: UUID) -> JobDetail:
    """Queue a dead or failed job again now, with its attempts reset."""
    return await service.retry_job(session, job_id)
