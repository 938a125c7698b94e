"""OpenVidu/LiveKit objects as Foxeo models: rooms, participants, recordings (egress), webhook events.

Built from the SDK's protobuf messages; timestamps become aware datetimes, enums their names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from livekit import api
from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class S3Storage:
    """An S3-compatible bucket for recordings, e.g. Supabase Storage's S3 endpoint
    (`https://<ref>.storage.supabase.co/storage/v1/s3`, path style; its keys bypass RLS)."""

    endpoint: str
    region: str
    bucket: str
    access_key: str
    secret: str = field(repr=False)
    force_path_style: bool = True


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


def _from_seconds(value: int) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value > 0 else None


def _from_ns(value: int) -> datetime | None:
    return datetime.fromtimestamp(value / 1e9, UTC) if value > 0 else None


def _enum_name(enum: Any, value: int) -> str:
    try:
        return str(enum.Name(value))
    except ValueError:  # a value newer than our livekit-protocol
        return str(value)


class RoomInfo(_Model):
    sid: str
    name: str
    empty_timeout: int = 0
    departure_timeout: int = 0
    max_participants: int = 0
    metadata: str = ""
    num_participants: int = 0
    active_recording: bool = False
    created_at: datetime | None = None

    @classmethod
    def from_proto(cls, room: api.Room) -> RoomInfo:
        return cls(
            sid=room.sid,
            name=room.name,
            empty_timeout=room.empty_timeout,
            departure_timeout=room.departure_timeout,
            max_participants=room.max_participants,
            metadata=room.metadata,
            num_participants=room.num_participants,
            active_recording=room.active_recording,
            created_at=_from_seconds(room.creation_time),
        )


class ParticipantInfo(_Model):
    sid: str
    identity: str
    name: str = ""
    state: str = ""  # JOINING | JOINED | ACTIVE | DISCONNECTED
    kind: str = ""  # STANDARD | AGENT | EGRESS | ...
    metadata: str = ""
    is_publisher: bool = False
    joined_at: datetime | None = None

    @classmethod
    def from_proto(cls, p: api.ParticipantInfo) -> ParticipantInfo:
        return cls(
            sid=p.sid,
            identity=p.identity,
            name=p.name,
            state=_enum_name(api.ParticipantInfo.State, p.state),
            kind=_enum_name(api.ParticipantInfo.Kind, p.kind),
            metadata=p.metadata,
            is_publisher=p.is_publisher,
            joined_at=_from_seconds(p.joined_at),
        )


class RecordingFile(_Model):
    filename: str
    location: str  # final object URL in the bucket
    size: int = 0
    duration_seconds: float = 0.0
    started_at: datetime | None = None
    ended_at: datetime | None = None


class EgressInfo(_Model):
    egress_id: str
    room_name: str = ""
    room_id: str = ""
    status: str  # EGRESS_STARTING | EGRESS_ACTIVE | EGRESS_ENDING | EGRESS_COMPLETE | EGRESS_FAILED | ...
    started_at: datetime | None = None
    ended_at: datetime | None = None
    updated_at: datetime | None = None
    error: str = ""
    error_code: int = 0
    files: list[RecordingFile] = Field(default_factory=list)

    @classmethod
    def from_proto(cls, info: api.EgressInfo) -> EgressInfo:
        results = list(info.file_results)
        if not results and info.HasField("file"):  # deprecated single-file field of older servers
            results = [info.file]
        files = [
            RecordingFile(
                filename=f.filename,
                location=f.location,
                size=f.size,
                duration_seconds=f.duration / 1e9,
                started_at=_from_ns(f.started_at),
                ended_at=_from_ns(f.ended_at),
            )
            for f in results
        ]
        return cls(
            egress_id=info.egress_id,
            room_name=info.room_name,
            room_id=info.room_id,
            status=_enum_name(api.EgressStatus, info.status),
            started_at=_from_ns(info.started_at),
            ended_at=_from_ns(info.ended_at),
            updated_at=_from_ns(info.updated_at),
            error=info.error,
            error_code=info.error_code,
            files=files,
        )


class AgentDispatchInfo(_Model):
    id: str
    agent_name: str
    room: str
    metadata: str = ""


class LiveKitEvent(_Model):
    """Any verified webhook; the subclasses type the ones Foxeo acts on. `id` is the idempotency key."""

    event: str
    id: str
    created_at: datetime | None = None
    room: RoomInfo | None = None
    participant: ParticipantInfo | None = None
    egress: EgressInfo | None = None


class RoomStarted(LiveKitEvent):
    event: Literal["room_started"]
    room: RoomInfo


class RoomFinished(LiveKitEvent):
    event: Literal["room_finished"]
    room: RoomInfo


class ParticipantJoined(LiveKitEvent):
    event: Literal["participant_joined"]
    participant: ParticipantInfo


class ParticipantLeft(LiveKitEvent):
    event: Literal["participant_left", "participant_connection_aborted"]
    participant: ParticipantInfo


class EgressStarted(LiveKitEvent):
    event: Literal["egress_started"]
    egress: EgressInfo


class EgressUpdated(LiveKitEvent):
    event: Literal["egress_updated"]
    egress: EgressInfo


class EgressEnded(LiveKitEvent):
    event: Literal["egress_ended"]
    egress: EgressInfo


EVENT_TYPES: dict[str, type[LiveKitEvent]] = {
    "room_started": RoomStarted,
    "room_finished": RoomFinished,
    "participant_joined": ParticipantJoined,
    "participant_left": ParticipantLeft,
    "participant_connection_aborted": ParticipantLeft,
    "egress_started": EgressStarted,
    "egress_updated": EgressUpdated,
    "egress_ended": EgressEnded,
}


def event_from_proto(event: api.WebhookEvent) -> LiveKitEvent:
    fields: dict[str, Any] = {"event": event.event, "id": event.id, "created_at": _from_seconds(event.created_at)}
    if event.HasField("room"):
        fields["room"] = RoomInfo.from_proto(event.room)
    if event.HasField("participant"):
        fields["participant"] = ParticipantInfo.from_proto(event.participant)
    if event.HasField("egress_info"):
        fields["egress"] = EgressInfo.from_proto(event.egress_info)
    cls = EVENT_TYPES.get(event.event, LiveKitEvent)
    try:
        return cls.model_validate(fields)
    except ValueError:  # a known event without its object: keep it, untyped
        return LiveKitEvent.model_validate(fields)
