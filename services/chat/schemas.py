from __future__ import annotations

import re
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from services.core.input_types import Int
from services.core.schemas import Timestamp

BODY_MAX = 4000
MAX_ATTACHMENTS = 10
# C0 controls but tab and newlines, DEL, and C1 controls: never meaningful in a chat message.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

ConversationKind = Literal["direct", "project"]
AuthorRole = Literal["operator", "member", "system"]


def clean_body(value: str) -> str:
    # Refused like NUL in every other text field, never silently dropped: the sender sees why.
    if _CONTROL.search(value):
        raise ValueError("a message must not contain control characters (such as NUL)")
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


# The declared limit is the enforced one: counted as sent, before newlines are normalised.
Body = Annotated[str, Field(max_length=BODY_MAX), AfterValidator(clean_body)]
Attachments = Annotated[
    list[UUID], Field(max_length=MAX_ATTACHMENTS, description="Ids of documents of the same client")
]


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Body = ""
    attachment_ids: Attachments = []
    reply_to_id: UUID | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> MessageCreate:
        if not self.body and not self.attachment_ids:
            raise ValueError("a message needs a body or an attachment")
        return self


class MessageUpdate(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    body: Body | None = None
    attachment_ids: Attachments | None = None


class MessageRead(BaseModel):
    id: UUID
    conversation_id: UUID
    client_id: UUID
    seq: int = Field(description="Position in the conversation: 1, 2, 3… in commit order, no gaps")
    author_id: UUID | None
    author_role: AuthorRole
    body: str | None = Field(description="Null once deleted")
    attachment_ids: list[UUID]
    reply_to_id: UUID | None
    created_at: Timestamp
    edited_at: Timestamp | None
    deleted_at: Timestamp | None = Field(description="Set on a deleted message (a tombstone)")
    version: int = Field(description="Incremented by every edit or deletion")


class ConversationRead(BaseModel):
    id: UUID
    client_id: UUID
    client_name: str
    kind: ConversationKind
    subject_id: UUID | None
    title: str | None
    last_seq: int
    last_activity_at: Timestamp
    created_at: Timestamp
    last_message: MessageRead | None
    my_last_read_seq: int
    unread_count: int = Field(description="Messages of others after my read position, deleted ones excluded")


class ReadPosition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: Int | None = Field(None, ge=0, description="Last message read; default: the latest")


class ReadState(BaseModel):
    conversation_id: UUID
    last_read_seq: int
    unread_count: int
