from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel

from services.core.schemas import Timestamp


class AuditEntryRead(BaseModel):
    id: int
    at: Timestamp
    actor_id: UUID | None
    actor_role: Literal["operator", "member", "system"]
    client_id: UUID | None
    action: str
    entity_type: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
