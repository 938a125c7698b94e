from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.core.input_types import Bool, Int, IsoDate, Omittable
from services.core.schemas import Timestamp

ProjectKind = Literal["journey", "delivery", "evolution"]
ProjectStatus = Literal["planned", "active", "paused", "done", "cancelled"]
StepStatus = Literal["todo", "in_progress", "submitted", "changes_requested", "validated"]
# What the operator may set by hand; submitted/changes_requested come from the Validation Hub.
ManualStepStatus = Literal["todo", "in_progress", "validated"]
Phase = Literal["lab", "one"]
TaskSource = Literal["manual", "meeting", "validation", "evolution"]
ActorRole = Literal["operator", "member", "system"]

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=20000)]
RoleText = Annotated[str, StringConstraints(max_length=5000)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
TaskTitle = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


def _check_dates(start: date | None, due: date | None) -> None:
    if start is not None and due is not None and due < start:
        raise ValueError("due_date must not be before start_date")


class Progress(BaseModel):
    """Derived from the steps on every read, never stored."""

    total: int
    validated: int
    percent: int = Field(description="0-100, rounded down")


class StepCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: LongText = ""
    client_role: RoleText = Field("", description="What the client does in this step")
    due_date: IsoDate | None = None
    position: Int | None = Field(None, ge=1, description="1-based; default: after the last step")


class StepUpdate(BaseModel):
    """Only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")

    title: Omittable[Title] = None
    description: Omittable[LongText] = None
    client_role: Omittable[RoleText] = None
    due_date: IsoDate | None = None
    status: Omittable[ManualStepStatus] = None


class StepOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step_ids: list[UUID] = Field(
        min_length=1, max_length=500, description="Every step of the project, once, in the new order"
    )


class StepRead(BaseModel):
    id: UUID
    project_id: UUID
    client_id: UUID
    position: int
    title: str
    description: str
    client_role: str
    status: StepStatus
    due_date: date | None
    started_at: Timestamp | None
    submitted_at: Timestamp | None
    completed_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: UUID
    kind: ProjectKind = "delivery"
    name: Title
    description: LongText = ""
    status: Literal["planned", "active"] = "planned"
    start_date: IsoDate | None = None
    due_date: IsoDate | None = None
    steps: list[StepCreate] = Field([], max_length=200)

    @model_validator(mode="after")
    def _dates(self) -> ProjectCreate:
        _check_dates(self.start_date, self.due_date)
        return self


class ProjectUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Omittable[Title] = None
    description: Omittable[LongText] = None
    status: Omittable[ProjectStatus] = None
    start_date: IsoDate | None = None
    due_date: IsoDate | None = None


class ProjectRead(BaseModel):
    id: UUID
    client_id: UUID
    kind: ProjectKind
    phase: Phase
    name: str
    description: str
    status: ProjectStatus
    template_id: UUID | None
    template_version: int | None
    start_date: date | None
    due_date: date | None
    started_at: Timestamp | None
    closed_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
    progress: Progress


class ProjectDetail(ProjectRead):
    steps: list[StepRead]


class TimelineEventRead(BaseModel):
    id: int
    client_id: UUID
    project_id: UUID | None
    step_id: UUID | None
    kind: str = Field(description="project_created, step_validated, comment, graduated, …")
    actor_id: UUID | None
    actor_role: ActorRole
    body: str | None
    data: dict[str, Any]
    at: Timestamp


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Comment
    step_id: UUID | None = Field(None, description="The step the comment is about, if any")


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: TaskTitle
    notes: LongText = ""
    due_date: IsoDate | None = None
    source: TaskSource = "manual"
    source_ref: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="e.g. the meeting an action item came from"
    )


class TaskUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Omittable[TaskTitle] = None
    notes: Omittable[LongText] = None
    due_date: IsoDate | None = None
    done: Omittable[Bool] = None


class TaskRead(BaseModel):
    id: UUID
    project_id: UUID
    client_id: UUID
    title: str
    notes: str
    done: bool
    done_at: Timestamp | None
    due_date: date | None
    source: TaskSource
    source_ref: str | None
    created_by: UUID | None
    created_at: Timestamp
    updated_at: Timestamp


class TemplateStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: LongText = ""
    client_role: RoleText = ""
    duration_days: Int | None = Field(
        None, ge=1, le=365, description="Sets the step's due date from the journey's start date"
    )


class TemplateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Title
    description: LongText = ""
    steps: list[TemplateStep] = Field(min_length=1, max_length=100)


class TemplateUpdate(BaseModel):
    """Replacing `steps` makes a new version; running journeys keep the steps they were started with."""

    model_config = ConfigDict(extra="forbid")

    name: Omittable[Title] = None
    description: Omittable[LongText] = None
    steps: Omittable[list[TemplateStep]] = Field(None, min_length=1, max_length=100)


class TemplateRead(BaseModel):
    id: UUID
    name: str
    description: str
    steps: list[TemplateStep]
    version: int
    archived_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class JourneyStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template_id: UUID
    name: Title | None = Field(None, description="Default: the template's name")
    start_date: IsoDate | None = Field(None, description="Default: today (UTC)")


class LabHome(BaseModel):
    client_id: UUID
    journey: ProjectRead | None = Field(description="The open journey (planned, active or paused), if any")
    progress: Progress
    current_step: StepRead | None = Field(description="The step being worked on, with the client's role")
    next_steps: list[StepRead] = Field(description="The steps after the current one, in order")
