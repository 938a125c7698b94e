from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

JobStatus = Literal["queued", "running", "done", "failed", "dead"]


class JobRead(BaseModel):
    id: UUID
    kind: str
    status: JobStatus = Field(description="failed: will retry at run_after; dead: out of attempts or refused")
    attempts: int
    max_attempts: int | None = Field(description="null: the worker's FOXEO_JOBS_MAX_ATTEMPTS")
    run_after: datetime
    last_error: str | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    idempotency_key: str | None
    client_id: UUID | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobDetail(JobRead):
    payload: dict[str, Any]
