from __future__ import annotations

from sqlalchemy import Column, DateTime, Double, FetchedValue, Integer, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from services.core.tables import metadata

transcripts = Table(
    "transcripts",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, nullable=False),
    Column("meeting_id", Uuid, nullable=False),
    Column("recording_id", Uuid, nullable=False),
    Column("status", Text, nullable=False, server_default=FetchedValue()),
    Column("language", Text, nullable=False, server_default=FetchedValue()),
    Column("duration_seconds", Double),
    Column("text", Text, nullable=False, server_default=FetchedValue()),
    Column("request_id", Text),
    Column("summary_status", Text, nullable=False, server_default=FetchedValue()),
    Column("summary", JSONB),
    Column("summary_raw", Text),
    Column("accepted_items", ARRAY(Integer), nullable=False, server_default=FetchedValue()),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
)

transcript_segments = Table(
    "transcript_segments",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, nullable=False),
    Column("transcript_id", Uuid, nullable=False),
    Column("position", Integer, nullable=False),
    Column("speaker", Integer),
    Column("start_seconds", Double, nullable=False),
    Column("end_seconds", Double, nullable=False),
    Column("text", Text, nullable=False),
)
