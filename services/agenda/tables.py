from __future__ import annotations

from sqlalchemy import Column, DateTime, FetchedValue, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB

from services.core.tables import metadata


def _ts(name: str, *, nullable: bool = True, default: bool = False) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable, server_default=FetchedValue() if default else None)


appointments = Table(
    "appointments",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, nullable=False),
    Column("title", Text, nullable=False, server_default=FetchedValue()),
    _ts("starts_at", nullable=False),
    _ts("ends_at", nullable=False),
    Column("location", Text),
    Column("video_url", Text),
    Column("status", Text, nullable=False, server_default=FetchedValue()),
    Column("source", Text, nullable=False),
    Column("calcom_booking_uid", Text),
    Column("previous_booking_uid", Text),
    Column("cancellation_reason", Text),
    Column("meeting_id", Uuid),
    Column("attendee_name", Text),
    Column("attendee_email", Text),
    Column("attendee_time_zone", Text),
    Column("booking_answers", JSONB, nullable=False, server_default=FetchedValue()),
    _ts("previsio_submitted_at"),
    Column("created_by", Uuid),
    _ts("created_at", nullable=False, default=True),
    _ts("updated_at", nullable=False, default=True),
)
