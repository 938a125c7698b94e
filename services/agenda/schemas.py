from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, model_validator

from services.core.input_types import Bool, IsoDateTime, Omittable
from services.core.schemas import Timestamp

AppointmentStatus = Literal["booked", "rescheduled", "cancelled", "no_show", "done"]
AppointmentSource = Literal["calcom", "manual"]
AgendaView = Literal["day", "week"]
Title = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Location = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]
VideoUrl = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2048, pattern=r"^https?://\S+$")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give the time zone offset (e.g. 2026-12-01T09:30:00+01:00 or …Z): stored in UTC")
    return value


AwareDateTime = Annotated[IsoDateTime, AfterValidator(_aware)]


class AppointmentRead(BaseModel):
    id: UUID
    client_id: UUID
    title: str
    starts_at: Timestamp
    ends_at: Timestamp
    location: str | None
    video_url: str | None
    status: AppointmentStatus
    source: AppointmentSource
    calcom_booking_uid: str | None
    previous_booking_uid: str | None
    cancellation_reason: str | None
    meeting_id: UUID | None
    attendee_name: str | None
    attendee_email: str | None
    attendee_time_zone: str | None
    booking_answers: dict[str, Any]
    previsio_submitted_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class AppointmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: UUID
    title: Title = ""
    starts_at: AwareDateTime
    ends_at: AwareDateTime
    location: Location | None = None
    video_url: VideoUrl | None = None
    open_meeting: Bool = False  # also open a Hub meeting room for it

    @model_validator(mode="after")
    def _ends_after_start(self) -> AppointmentCreate:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class AppointmentUpdate(BaseModel):
    """Only the fields sent change; a Cal.com booking is moved in Cal.com (its webhook follows)."""

    model_config = ConfigDict(extra="forbid")

    title: Omittable[Title] = None
    starts_at: Omittable[AwareDateTime] = None
    ends_at: Omittable[AwareDateTime] = None
    location: Location | None = None
    video_url: VideoUrl | None = None
    status: Omittable[Literal["booked", "no_show", "done"]] = None


class AppointmentCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class AgendaRange(BaseModel):
    """The operator's appointments starting in [from_at, to_at), by start time."""

    time_zone: str
    from_at: Timestamp
    to_at: Timestamp
    items: list[AppointmentRead]


class NextAppointment(BaseModel):
    """A client's next appointment (none when nothing is booked) and how to join it."""

    appointment: AppointmentRead | None
    join_meeting_id: UUID | None  # POST /api/v1/meetings/{id}/token gives the join token


class PrevisioLink(BaseModel):
    url: str
    expires_at: Timestamp
