from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.core.input_types import Int
from services.core.schemas import Timestamp

ValidationStatus = Literal["pending", "changes_requested", "approved", "rejected", "closed"]
RoundDecision = Literal["approved", "changes_requested", "rejected"]

Message = Annotated[str, StringConstraints(max_length=20000)]
RequiredComment = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]


class ValidationSubmit(BaseModel):
    """Submit a step to MiKL; when the step's request awaits changes, this is its next round."""

    model_config = ConfigDict(extra="forbid")

    step_id: UUID
    message: Message = ""
    document_ids: list[UUID] = Field([], max_length=20, description="Documents of the same client")


class ApproveInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: Message | None = None
    round: Int | None = Field(
        None, ge=1, le=2_147_483_647, description="The round decided; refused (409) if no longer current"
    )  # an integer column: a larger number is a 422, not a 500 (found by schemathesis)


class DecisionWithComment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: RequiredComment
    round: Int | None = Field(
        None, ge=1, le=2_147_483_647, description="The round decided; refused (409) if no longer current"
    )  # an integer column: a larger number is a 422, not a 500 (found by schemathesis)


class RoundRead(BaseModel):
    round: int
    message: str
    document_ids: list[UUID]
    submitted_by: UUID
    submitted_at: Timestamp
    decision: RoundDecision | None
    decision_comment: str | None
    decided_by: UUID | None
    decided_at: Timestamp | None


class ValidationRead(BaseModel):
    id: UUID
    client_id: UUID
    company_name: str
    project_id: UUID
    project_name: str
    step_id: UUID
    step_title: str
    step_position: int
    status: ValidationStatus
    current_round: int
    last_message: str = Field(description="The message of the current round")
    submitted_by: UUID
    last_submitted_at: Timestamp
    decided_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class ValidationDetail(ValidationRead):
    rounds: list[RoundRead] = Field(description="Every round, first to last")


class ClientPending(BaseModel):
    client_id: UUID
    company_name: str
    pending: int


class ValidationCounts(BaseModel):
    pending: int
    changes_requested: int = Field(description="Waiting for the client to resubmit")
    pending_over_24h: int
    pending_over_72h: int
    oldest_pending_at: Timestamp | None
    by_client: list[ClientPending] = Field(description="Pending requests per client, most first")
