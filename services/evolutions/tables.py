"""Mirror of migrations/0032_evolutions.sql (tests/core/test_tables.py keeps them equal)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, FetchedValue, ForeignKey, Identity, Table, Text, Uuid

from services.core.tables import metadata

evolution_requests = Table(
    "evolution_requests",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE"), nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=FetchedValue()),
    Column("desired_date", Date),
    Column("status", Text, nullable=False, server_default=FetchedValue()),
    Column("quote_reference", Text),
    Column("decline_reason", Text),
    Column("project_id", Uuid),
    Column("requested_by", Uuid, nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    Column("declined_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
)

evolution_events = Table(
    "evolution_events",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("evolution_id", Uuid, nullable=False),
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE"), nullable=False),
    Column("from_status", Text),
    Column("to_status", Text, nullable=False),
    Column("note", Text),
    Column("actor_id", Uuid),
    Column("actor_role", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
)
