"""Validation Hub: the client's submissions and the operator's queue and decisions."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import OneStatement, OperatorSession, Session
from api.problems import JSONBytes, responses
from services.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.validations import service
from services.validations.schemas import (
    ApproveInput,
    DecisionWithComment,
    ValidationCounts,
    ValidationDetail,
    ValidationRead,
    ValidationStatus,
    ValidationSubmit,
)

router = APIRouter(prefix="/validations", tags=["validations"])


@router.post("", response_model=ValidationDetail, status_code=201, responses=responses(401, 403, 404, 409, 422))
async def submit_validation(session: OneStatement, data: ValidationSubmit) -> ValidationDetail:
    """Submit a step to MiKL (the client); after "changes requested" this opens the next round."""
    return await service.submit(session, data)


@router.get("", response_model=Page[ValidationRead], responses=responses(401, 422))
async def list_validations(
    session: Session,
    client_id: UUID | None = None,
    project_id: UUID | None = None,
    step_id: UUID | None = None,
    status: ValidationStatus | None = None,
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
) -> JSONBytes:
    """List submissions and their status, newest first (a member sees their own client's)."""
    return JSONBytes(
        await service.list_validations(
            session,
            client_id=client_id,
            project_id=project_id,
            step_id=step_id,
            status=status,
            cursor=cursor,
            limit=limit,
        )
    )


@router.get("/queue", response_model=Page[ValidationRead], responses=responses(401, 403, 422))
async def list_validation_queue(
    session: OperatorSession,
    client_id: UUID | None = None,
    project_id: UUID | None = None,
    min_age_hours: int | None = Query(None, ge=0, le=87600, description="Waiting for at least this long"),
    max_age_hours: int | None = Query(None, ge=0, le=87600, description="Waiting for at most this long"),
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
) -> JSONBytes:
    """The queue of pending requests, the longest-waiting first."""
    return JSONBytes(
        await service.list_queue(
            session,
            client_id=client_id,
            project_id=project_id,
            min_age_hours=min_age_hours,
            max_age_hours=max_age_hours,
            cursor=cursor,
            limit=limit,
        )
    )


@router.get("/counts", response_model=ValidationCounts, responses=responses(401, 403, 422))
async def count_validations(
    session: OperatorSession, client_id: UUID | None = None, project_id: UUID | None = None
) -> ValidationCounts:
    """Counts for the queue's badges: pending, by age, by client."""
    return await service.counts(session, client_id=client_id, project_id=project_id)


@router.get("/{validation_id}", response_model=ValidationDetail, responses=responses(401, 404))
async def get_validation(session: Session, validation_id: UUID) -> ValidationDetail:
    """Read a request with every round and its decision."""
    return await service.get_validation(session, validation_id)


@router.post("/{validation_id}/approve", response_model=ValidationDetail, responses=responses(401, 403, 404, 409, 422))
async def approve_validation(
    session: OperatorSession, validation_id: UUID, data: ApproveInput | None = None
) -> ValidationDetail:
    """Approve the current round: the step is validated and the next one starts."""
    data = data or ApproveInput()
    return await service.decide(session, validation_id, "approved", comment=data.comment, expected_round=data.round)


@router.post(
    "/{validation_id}/request-changes", response_model=ValidationDetail, responses=responses(401, 403, 404, 409, 422)
)
async def request_validation_changes(
    session: OperatorSession, validation_id: UUID, data: DecisionWithComment
) -> ValidationDetail:
    """Ask for changes (comment required); the client can resubmit as a new round."""
    return await service.decide(
        session, validation_id, "changes_requested", comment=data.comment, expected_round=data.round
    )


@router.post("/{validation_id}/reject", response_model=ValidationDetail, responses=responses(401, 403, 404, 409, 422))
async def reject_validation(
    session: OperatorSession, validation_id: UUID, data: DecisionWithComment
) -> ValidationDetail:
    """Reject the submission (comment required); the step goes back to in progress."""
    return await service.decide(session, validation_id, "rejected", comment=data.comment, expected_round=data.round)
