"""Audit log (operator only)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import OperatorSession
from api.problems import responses
from services.audit import service
from services.audit.schemas import AuditEntryRead
from services.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=Page[AuditEntryRead], responses=responses(401, 403, 422))
async def list_audit_entries(
    session: OperatorSession,
    client_id: UUID | None = None,
    actor_id: UUID | None = None,
    action: str | None = Query(None, max_length=100),
    entity_type: str | None = Query(None, max_length=100),
    entity_id: str | None = Query(None, max_length=100),
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
) -> Page[AuditEntryRead]:
    """List audit entries, newest first, with filters."""
    return await service.list_entries(
        session,
        client_id=client_id,
        actor_id=actor_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
