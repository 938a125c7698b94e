"""The audit trail: every mutation records who did what to which entity, in the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from services.audit import repository
from services.audit.schemas import AuditEntryRead
from services.core.db import AnySession, UserSession
from services.core.errors import Unprocessable
from services.core.pagination import Page, next_page


def _snapshot(value: BaseModel | dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    return value.model_dump(mode="json")


async def record(
    session: AnySession,
    *,
    action: str,
    entity_type: str,
    entity_id: object,
    client_id: UUID | None,
    before: BaseModel | dict[str, Any] | None = None,
    after: BaseModel | dict[str, Any] | None = None,
) -> None:
    await repository.insert(
        session,
        client_id=client_id,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        before=_snapshot(before),
        after=_snapshot(after),
    )


def _utc(value: datetime | None, field: str) -> datetime | None:
    """A filter bound in UTC; naive means UTC (the API's convention, not the server's local time)."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00-05:00 is past the last representable instant
        raise Unprocessable(f"{field} is out of range", field=field) from None


async def list_entries(
    session: UserSession,
    *,
    client_id: UUID | None = None,
    actor_id: UUID | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[AuditEntryRead]:
    rows = await repository.list_entries(
        session,
        filters={
            "client_id": client_id, "actor_id": actor_id, "action": action, "entity_type": entity_type,
            "entity_id": entity_id,
        },
        since=_utc(since, "since"),
        until=_utc(until, "until"),
        cursor=cursor,
        limit=limit,
    )  # fmt: skip
    page, next_cursor = next_page(rows, limit, lambda row: [row["id"]])
    return Page[AuditEntryRead](items=[AuditEntryRead.model_validate(dict(r)) for r in page], next_cursor=next_cursor)
