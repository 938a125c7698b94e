from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.core.input_types import Int
from services.core.schemas import Timestamp

TranscriptStatus = Literal["processing", "done", "failed"]
SummaryStatus = Literal["none", "done", "flagged"]


class ActionItem(BaseModel):
    """One thing to do that the meeting decided (what the LLM must produce)."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    owner: Literal["operator", "client", "both"] = "operator"
    due_date: date | None = None
    details: Annotated[str, StringConstraints(max_length=5000)] = ""


class Summary(BaseModel):
    """The summary the LLM writes, validated before it is stored."""

    model_config = ConfigDict(extra="forbid")

    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
    action_items: list[ActionItem] = Field(default_factory=list, max_length=50)


class TranscriptRead(BaseModel):
    id: UUID
    client_id: UUID
    meeting_id: UUID
    recording_id: UUID
    status: TranscriptStatus
    language: str
    duration_seconds: float | None
    summary_status: SummaryStatus
    summary: Summary | None
    summary_raw: str | None  # the LLM's output that failed validation twice (flagged)
    accepted_items: list[int]
    created_at: Timestamp
    updated_at: Timestamp


class SegmentRead(BaseModel):
    position: int
    speaker: int | None
    start_seconds: float
    end_seconds: float
    text: str


class TranscriptDetail(TranscriptRead):
    text: str
    segments: list[SegmentRead]


class AcceptActionItems(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[Annotated[Int, Field(ge=0, le=49)]] = Field(min_length=1, max_length=50)
    project_id: UUID
    # task: the operator's tasks on the project; step / homework: for a Lab client, a step of their
    # journey or homework (a `devoir` document linked to the project).
    target: Literal["task", "step", "homework"] = "task"


class AcceptedItems(BaseModel):
    transcript: TranscriptRead
    created_ids: list[UUID]  # the tasks, steps or homework documents, in the order of `items`
