"""Reminders: the operator's, and those addressed to a client's members (the outbox: outbox.py)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import OperatorSession, Session
from api.problems import JSONBytes, responses
from services.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.reminders import service
from services.reminders.schemas import ReminderRead, ReminderStatus

router = APIRouter(prefix="/reminders", tags=["reminders"])


@router.get("", response_model=Page[ReminderRead], responses=responses(401, 422))
async def list_reminders(
    session: Session,
    status: ReminderStatus | None = None,
    kind: str | None = Query(None, max_length=100),
    client_id: UUID | None = None,
    due_from: datetime | None = Query(None, description="due at or after (naive: UTC)"),
    due_to: datetime | None = Query(None, description="due before (naive: UTC)"),
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
) -> JSONBytes:
    """List reminders, soonest first: every one for the operator, those addressed to a member's client."""
    return JSONBytes(
        await service.list_reminders_json(
            session, status=status, kind=kind, client_id=client_id, due_from=due_from, due_to=due_to,
            cursor=cursor, limit=limit,
        )
    )  # fmt: skip


@router.post("/{reminder_id}/cancel", response_model=ReminderRead, responses=responses(401, 403, 404, 409))
async def cancel_reminder(session: OperatorSession, reminder_id: UUID) -> ReminderRead:
    """Cancel a pending reminder."""
    return await service.cancel_reminder(session, reminder_id)
