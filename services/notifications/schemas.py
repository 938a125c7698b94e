from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel

from services.core.schemas import Timestamp
from services.profiles.schemas import NotificationSource, Priority


class NotificationRead(BaseModel):
    id: UUID
    source: NotificationSource
    priority: Priority
    title: str
    body: str | None
    link: str | None
    entity_type: str | None
    entity_id: str | None
    client_id: UUID | None
    actor_id: UUID | None
    sound: bool
    badge: bool
    created_at: Timestamp
    read_at: Timestamp | None


class NotificationSummary(BaseModel):
    """Unread notifications that show a badge, per source, and their total."""

    chat: int = 0
    validation_hub: int = 0
    system: int = 0
    total: int = 0


class MarkedRead(BaseModel):
    updated: int
