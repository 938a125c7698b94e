"""My notifications: list, unread badge counts, mark as read."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import OneStatement, Session
from api.problems import JSONBytes, responses
from services.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.notifications import service
from services.notifications.schemas import MarkedRead, NotificationRead, NotificationSummary
from services.profiles.schemas import NotificationSource

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("", response_model=Page[NotificationRead], responses=responses(401, 422))
async def list_notifications(
    session: Session,
    source: NotificationSource | None = None,
    unread: bool | None = Query(None, description="true: unread only; false: read only"),
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
) -> JSONBytes:
    """List my notifications, newest first, one keyset page at a time."""
    return JSONBytes(
        await service.list_notifications_json(session, source=source, unread=unread, cursor=cursor, limit=limit)
    )


@router.get("/summary", response_model=NotificationSummary, responses=responses(401))
async def get_notification_summary(session: Session) -> NotificationSummary:
    """Count my unread notifications that show a badge, per source."""
    return await service.summary(session)


@router.post("/read", response_model=MarkedRead, responses=responses(401, 422))
async def mark_all_notifications_read(
    session: OneStatement,
    source: NotificationSource | None = Query(None, description="Only this source"),
) -> MarkedRead:
    """Mark all my notifications as read, or all of one source."""
    return await service.mark_all_read(session, source)


@router.post("/{notification_id}/read", response_model=NotificationRead, responses=responses(401, 404))
async def mark_notification_read(session: OneStatement, notification_id: UUID) -> NotificationRead:
    """Mark one of my notifications as read."""
    return await service.mark_read(session, notification_id)
