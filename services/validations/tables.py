"""Mirror of migrations/0031_validations.sql (tests/core/test_tables.py keeps them equal)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, FetchedValue, ForeignKey, Integer, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY

from services.core.tables import metadata

validation_requests = Table(
    "validation_requests",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE"), nullable=False),
    Column("project_id", Uuid, nullable=False),
    Column("step_id", Uuid, nullable=False),
    Column("status", Text, nullable=False, server_default=FetchedValue()),
    Column("current_round", Integer, nullable=False, server_default=FetchedValue()),
    Column("submitted_by", Uuid, nullable=False),
    Column("last_submitted_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("decided_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
)

validation_rounds = Table(
    "validation_rounds",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("request_id", Uuid, nullable=False),
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE"), nullable=False),
    Column("round", Integer, nullable=False),
    Column("message", Text, nullable=False, server_default=FetchedValue()),
    Column("document_ids", ARRAY(Uuid), nullable=False, server_default=FetchedValue()),
    Column("submitted_by", Uuid, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("decision", Text),
    Column("decision_comment", Text),
    Column("decided_by", Uuid),
    Column("decided_at", DateTime(timezone=True)),
)
