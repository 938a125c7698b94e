from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.core.schemas import Timestamp

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class GraduationInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Note | None = None


class ReactivationInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Note | None = None
    template_id: UUID | None = Field(None, description="Start the new cycle's journey from this template")


class LifecycleEventRead(BaseModel):
    id: UUID
    client_id: UUID
    kind: Literal["graduated", "lab_reactivated"]
    from_status: str
    to_status: Literal["lab", "one"]
    lab_cycle: int = Field(description="The Lab cycle closed (graduation) or opened (reactivation)")
    note: str | None
    closed_project_ids: list[UUID]
    actor_id: UUID | None
    at: Timestamp


class LifecycleState(BaseModel):
    client_id: UUID
    status: str
    dashboard_type: Literal["lab", "one"]
    active_modules: list[str]
    elio_lab_enabled: bool
    lab_cycle: int = Field(description="The current (or last) Lab cycle, from 1")
    events: list[LifecycleEventRead] = Field(description="Graduations and reactivations, newest first")


class LifecycleChange(LifecycleState):
    event: LifecycleEventRead
    closed_validation_ids: list[UUID] = []
    journey_id: UUID | None = Field(None, description="The new cycle's journey, when one was started")
