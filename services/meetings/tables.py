from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Double, FetchedValue, Integer, Table, Text, Uuid

from services.core.tables import metadata


def _ts(name: str, *, nullable: bool = True, default: bool = False) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable, server_default=FetchedValue() if default else None)


meetings = Table(
    "meetings",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, nullable=False),
    Column("project_id", Uuid),
    Column("dashboard", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("title", Text, nullable=False, server_default=FetchedValue()),
    Column("room_name", Text, nullable=False),
    Column("status", Text, nullable=False, server_default=FetchedValue()),
    _ts("started_at"),
    _ts("ended_at"),
    Column("created_by", Uuid),  # null for a meeting opened for a Cal.com booking
    Column("consent_agreed_by", Text),
    _ts("consent_agreed_at"),
    Column("consent_recorded_by", Uuid),
    Column("transcription_status", Text, nullable=False, server_default=FetchedValue()),
    Column("transcription_error", Text),
    _ts("created_at", nullable=False, default=True),
    _ts("updated_at", nullable=False, default=True),
)

meeting_participants = Table(
    "meeting_participants",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, nullable=False),
    Column("meeting_id", Uuid, nullable=False),
    Column("identity", Text, nullable=False),
    Column("user_id", Uuid),
    Column("name", Text, nullable=False, server_default=FetchedValue()),
    Column("role", Text, nullable=False),
    _ts("joined_at", nullable=False),
    _ts("left_at"),
    Column("duration_seconds", Integer),
)

meeting_recordings = Table(
    "meeting_recordings",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, nullable=False),
    Column("meeting_id", Uuid, nullable=False),
    Column("egress_id", Text),
    Column("status", Text, nullable=False, server_default=FetchedValue()),
    Column("storage_path", Text, nullable=False),
    Column("phase", Text, nullable=False),
    Column("consent_agreed_by", Text, nullable=False),
    _ts("consent_agreed_at", nullable=False),
    Column("document_id", Uuid),
    Column("size_bytes", BigInteger),
    Column("duration_seconds", Double),
    Column("error", Text),
    Column("created_by", Uuid, nullable=False),
    _ts("started_at"),
    _ts("ended_at"),
    _ts("created_at", nullable=False, default=True),
    _ts("updated_at", nullable=False, default=True),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("sender", Text, nullable=False),
    Column("event_id", Text, nullable=False),
    Column("event", Text, nullable=False),
    _ts("received_at", nullable=False, default=True),
)
