from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, StringConstraints

from services.core.input_types import IsoDateTime
from services.core.schemas import Timestamp

Dashboard = Literal["hub", "lab", "one"]
MeetingKind = Literal["full", "simple"]
MeetingStatus = Literal["scheduled", "live", "ended", "failed"]
TranscriptionStatus = Literal["none", "pending", "processing", "done", "failed"]
RecordingStatus = Literal["starting", "active", "stopping", "ended", "failed"]
ParticipantRole = Literal["operator", "member", "guest"]
Title = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Person = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class MeetingStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: UUID
    project_id: UUID | None = None
    title: Title = ""
    kind: MeetingKind | None = None  # the operator's default: full; members start simple meetings only


class MeetingRead(BaseModel):
    id: UUID
    client_id: UUID
    project_id: UUID | None
    dashboard: Dashboard
    kind: MeetingKind
    title: str
    room_name: str
    status: MeetingStatus
    started_at: Timestamp | None
    ended_at: Timestamp | None
    created_by: UUID | None  # none for a meeting opened for a Cal.com booking
    consent_agreed_by: str | None
    consent_agreed_at: Timestamp | None
    transcription_status: TranscriptionStatus
    transcription_error: str | None
    created_at: Timestamp
    updated_at: Timestamp


class ParticipantRead(BaseModel):
    id: UUID
    identity: str
    user_id: UUID | None
    name: str
    role: ParticipantRole
    joined_at: Timestamp
    left_at: Timestamp | None
    duration_seconds: int | None


class RecordingRead(BaseModel):
    id: UUID
    meeting_id: UUID
    egress_id: str | None
    status: RecordingStatus
    consent_agreed_by: str
    consent_agreed_at: Timestamp
    document_id: UUID | None
    size_bytes: int | None
    duration_seconds: float | None
    error: str | None
    started_at: Timestamp | None
    ended_at: Timestamp | None
    created_at: Timestamp


class MeetingDetail(MeetingRead):
    participants: list[ParticipantRead]
    recordings: list[RecordingRead]  # the operator's only (RLS)


class ConsentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agreed_by: Person
    agreed_at: IsoDateTime | None = None  # default: now


class JoinToken(BaseModel):
    url: str  # the LiveKit/OpenVidu server the SPA connects to
    room_name: str
    identity: str
    role: Literal["operator", "client"]
    token: str
    expires_at: Timestamp
