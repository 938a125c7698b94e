"""Reminders (the operator's, and those addressed to a client's members) and the e-mail outbox."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import OperatorSession, Session
from api.problems import JSONBytes, responses
from services.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.reminders import service
from services.reminders.schemas import EmailDetail, EmailRead, EmailStatus, ReminderRead, ReminderStatus

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


# Declared before /{reminder_id}/… so `outbox` is never read as a reminder id.
@router.get("/outbox", response_model=Page[EmailRead], responses=responses(401, 403, 422))
async def list_emails(
    session: OperatorSession,
    status: EmailStatus | None = None,
    client_id: UUID | None = None,
    reminder_id: UUID | None = None,
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
) -> JSONBytes:
    """List the e-mail outbox, newest first: what was sent, failed, or (without SMTP) would have been sent."""
    return JSONBytes(
        await service.list_emails_json(
            session, status=status, client_id=client_id, reminder_id=reminder_id, cursor=cursor, limit=limit
        )
    )


@router.get("/outbox/{email_id}", response_model=EmailDetail, responses=responses(401, 403, 404))
async def get_email(session: OperatorSession, email_id: UUID) -> EmailDetail:
    """One e-mail of the outbox with its text."""
    return await service.get_email(session, email_id)


@router.post("/{reminder_id}/cancel", response_model=ReminderRead, responses=responses(401, 403, 404, 409))
async def cancel_reminder(session: OperatorSession, reminder_id: UUID) -> ReminderRead:
    """Cancel a pending reminder."""
    return await service.cancel_reminder(session, reminder_id)
