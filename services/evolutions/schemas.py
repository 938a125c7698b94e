from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from services.core.input_types import IsoDate, Omittable
from services.core.schemas import Timestamp

EvolutionStatus = Literal["requested", "estimating", "quoted", "accepted", "in_progress", "delivered", "declined"]
TargetStatus = Literal["estimating", "quoted", "accepted", "in_progress", "delivered", "declined"]

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=20000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
QuoteReference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class EvolutionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: UUID
    title: Title
    description: LongText = ""
    desired_date: IsoDate | None = None


class EvolutionUpdate(BaseModel):
    """The operator's edits (only the fields sent)."""

    model_config = ConfigDict(extra="forbid")

    title: Omittable[Title] = None
    description: Omittable[LongText] = None
    desired_date: IsoDate | None = None
    quote_reference: QuoteReference | None = None


class EvolutionStatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: TargetStatus
    note: Note | None = Field(None, description="Shown to the client in the request's history")
    quote_reference: QuoteReference | None = Field(None, description="The quote's reference (when quoting)")
    reason: Note | None = Field(None, description="Required to decline", validate_default=True)

    @field_validator("reason")
    @classmethod
    def _reason(cls, reason: str | None, info: ValidationInfo) -> str | None:
        status = info.data.get("status")
        if status == "declined" and not reason:
            raise ValueError("a reason is required to decline")
        if status is not None and status != "declined" and reason:
            raise ValueError("a reason is only given when declining")
        return reason


class EvolutionEventRead(BaseModel):
    id: int
    from_status: EvolutionStatus | None
    to_status: EvolutionStatus
    note: str | None
    actor_id: UUID | None
    actor_role: Literal["operator", "member", "system"]
    at: Timestamp


class EvolutionRead(BaseModel):
    id: UUID
    client_id: UUID
    company_name: str
    title: str
    description: str
    desired_date: date | None
    status: EvolutionStatus
    quote_reference: str | None
    decline_reason: str | None
    project_id: UUID | None = Field(description="The evolution project, once accepted")
    requested_by: UUID
    delivered_at: Timestamp | None
    declined_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class EvolutionDetail(EvolutionRead):
    history: list[EvolutionEventRead] = Field(description="Every status change, oldest first")
