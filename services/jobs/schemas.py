from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from services.core.schemas import Timestamp

JobStatus = Literal["queued", "running", "done", "failed", "dead"]


class JobRead(BaseModel):
    id: UUID
    kind: str
    status: JobStatus = Field(description="failed: will retry at run_after; dead: out of attempts or refused")
    attempts: int
    max_attempts: int | None = Field(description="null: the worker's FOXEO_JOBS_MAX_ATTEMPTS")
    run_after: Timestamp
    last_error: str | None
    lease_owner: str | None
    lease_expires_at: Timestamp | None
    idempotency_key: str | None
    client_id: UUID | None
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None


class JobDetail(JobRead):
    payload: dict[str, Any]
