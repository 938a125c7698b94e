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


class MemberInvited(MemberRead):
    invitation: Literal["supabase_email", "embedded"] = Field(
        description="supabase_email: Supabase sent the invitation e-mail; embedded: no Auth server, use dev_token"
    )
    dev_token: str | None = Field(None, description="Embedded default only: an access token for this user")
