from __future__ import annotations

from sqlalchemy import ARRAY, Boolean, Column, DateTime, ForeignKey, Integer, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB

from services.core.tables import metadata

modules = Table(
    "modules",
    metadata,
    Column("key", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("dashboards", ARRAY(Text), nullable=False),
    Column("depends_on", ARRAY(Text), nullable=False),
    Column("default_for", ARRAY(Text), nullable=False),
    Column("position", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

client_configs = Table(
    "client_configs",
    metadata,
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE"), primary_key=True),
    Column("dashboard_type", Text, nullable=False),
    Column("active_modules", ARRAY(Text), nullable=False),
    Column("theme", JSONB, nullable=False),
    Column("custom_config", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Added by migrations/0033_lifecycle.sql (the Élio Lab switch).
    Column("elio_lab_enabled", Boolean, nullable=False),
)
