from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from services.core.schemas import Timestamp

ReminderStatus = Literal["pending", "fired", "cancelled"]
Audience = Literal["operator", "members", "all"]
EmailStatus = Literal["queued", "sent", "failed", "not_sent"]


class ReminderRead(BaseModel):
    id: UUID
    client_id: UUID | None
    kind: str = Field(description="`<module>.<name>` of what scheduled it, e.g. documents.homework_due_soon")
    subject_type: str
    subject_id: str
    due_at: Timestamp
    audience: Audience = Field(description="who is notified: the operators, the client's members, or both")
    email: bool = Field(description="each recipient is also e-mailed (through the outbox)")
    title: str
    body: str | None
    suggested_message: str | None
    link: str | None
    status: ReminderStatus
    fired_at: Timestamp | None
    cancelled_at: Timestamp | None
    created_by: UUID | None
    created_at: Timestamp
    updated_at: Timestamp


class EmailRead(BaseModel):
    id: UUID
    client_id: UUID | None
    reminder_id: UUID | None
    to_address: str
    subject: str
    status: EmailStatus = Field(
        description="queued: waiting for the sender (last_error: why the last attempt failed); "
        "not_sent: SMTP is not configured; failed: refused or out of attempts"
    )
    attempts: int
    last_error: str | None
    message_id: str
    provider_message_id: str | None
    created_by: UUID | None
    created_at: Timestamp
    updated_at: Timestamp
    sent_at: Timestamp | None


class EmailDetail(EmailRead):
    body: str
