from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from services.core.schemas import Timestamp

MemberRole = Literal["owner", "member"]


class MemberInvite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    role: MemberRole = "member"


class MemberRead(BaseModel):
    client_id: UUID
    user_id: UUID
    email: str
    role: MemberRole
    invited_by: UUID | None
    created_at: Timestamp


class MemberInvited(BaseModel):
    client_id: UUID
    email: str
    role: MemberRole
    status: Literal["member", "pending"] = Field(
        description="member: the membership exists; pending: Supabase Auth's invitation is queued (job_id) and"
        " the membership is created once it is sent"
    )
    user_id: UUID | None = Field(description="null while the invitation is pending")
    invited_by: UUID | None
    created_at: Timestamp | None = Field(description="when the membership was created; null while pending")
    invitation: Literal["supabase_email", "embedded"] = Field(
        description="supabase_email: Supabase sends the invitation e-mail; embedded: no Auth server, use dev_token"
    )
    dev_token: str | None = Field(None, description="Embedded default only: an access token for this user")
    job_id: UUID | None = Field(None, description="The members.invite job sending the invitation, while pending")


class PendingInvitation(BaseModel):
    """The members.invite job's payload."""

    client_id: UUID
    email: str
    role: MemberRole
    invited_by: UUID | None
