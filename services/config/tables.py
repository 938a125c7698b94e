from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, FetchedValue, ForeignKey, Integer, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from services.core.tables import metadata

modules = Table(
    "modules",
    metadata,
    Column("key", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("version", Text, nullable=False, server_default=FetchedValue()),
    Column("description", Text, nullable=False, server_default=FetchedValue()),
    Column("dashboards", ARRAY(Text), nullable=False),
    Column("depends_on", ARRAY(Text), nullable=False, server_default=FetchedValue()),
    Column("default_for", ARRAY(Text), nullable=False, server_default=FetchedValue()),
    Column("position", Integer, nullable=False, server_default=FetchedValue()),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
)

client_configs = Table(
    "client_configs",
    metadata,
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE"), primary_key=True),
    Column("dashboard_type", Text, nullable=False, server_default=FetchedValue()),
    Column("active_modules", ARRAY(Text), nullable=False, server_default=FetchedValue()),
    Column("theme", JSONB, nullable=False, server_default=FetchedValue()),
    Column("custom_config", JSONB, nullable=False, server_default=FetchedValue()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    # Added by migrations/0033_lifecycle.sql (the Élio Lab switch).
    Column("elio_lab_enabled", Boolean, nullable=False, server_default=FetchedValue()),
)
