"""The e-mail outbox of the reminders module (operator only): every e-mail the backend sends."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import OperatorSession
from api.problems import JSONBytes, responses
from services.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.reminders import service
from services.reminders.schemas import EmailDetail, EmailRead, EmailStatus

# Its own prefix (not under /reminders/…): /reminders/{reminder_id}/cancel would make
# /reminders/outbox/{email_id} an ambiguous path for generated clients.
router = APIRouter(prefix="/outbox", tags=["reminders"])


@router.get("", response_model=Page[EmailRead], responses=responses(401, 403, 422))
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


@router.get("/{email_id}", response_model=EmailDetail, responses=responses(401, 403, 404))
async def get_email(session: OperatorSession, email_id: UUID) -> EmailDetail:
    """One e-mail of the outbox with its text."""
    return await service.get_email(session, email_id)
