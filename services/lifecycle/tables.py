"""Mirror of migrations/0033_lifecycle.sql (tests/core/test_tables.py keeps them equal). The
`client_configs.elio_lab_enabled` column it adds is mirrored in services/config/tables.py."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, FetchedValue, ForeignKey, Integer, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from services.core.tables import metadata

client_lifecycle_events = Table(
    "client_lifecycle_events",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("from_status", Text, nullable=False),
    Column("to_status", Text, nullable=False),
    Column("lab_cycle", Integer, nullable=False),
    Column("note", Text),
    Column("config_before", JSONB, nullable=False, server_default=FetchedValue()),
    Column("closed_project_ids", ARRAY(Uuid), nullable=False, server_default=FetchedValue()),
    Column("actor_id", Uuid),
    Column("at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
)
