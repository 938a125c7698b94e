"""Mirror of migrations/0030_projects.sql (tests/core/test_tables.py keeps them equal)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    FetchedValue,
    ForeignKey,
    Identity,
    Integer,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.core.tables import metadata

journey_templates = Table(
    "journey_templates",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=FetchedValue()),
    Column("steps", JSONB, nullable=False, server_default=FetchedValue()),
    Column("version", Integer, nullable=False, server_default=FetchedValue()),
    Column("archived_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
)

projects = Table(
    "projects",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("phase", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=FetchedValue()),
    Column("status", Text, nullable=False, server_default=FetchedValue()),
    Column("template_id", Uuid, ForeignKey("public.journey_templates.id", ondelete="SET NULL")),
    Column("template_version", Integer),
    Column("start_date", Date),
    Column("due_date", Date),
    Column("started_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("created_by", Uuid),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
)

project_steps = Table(
    "project_steps",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE"), nullable=False),
    Column("project_id", Uuid, nullable=False),
    Column("position", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=FetchedValue()),
    Column("client_role", Text, nullable=False, server_default=FetchedValue()),
    Column("status", Text, nullable=False, server_default=FetchedValue()),
    Column("due_date", Date),
    Column("started_at", DateTime(timezone=True)),
    Column("submitted_at", DateTime(timezone=True)),
    Column("completed_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
)

project_tasks = Table(
    "project_tasks",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE"), nullable=False),
    Column("project_id", Uuid, nullable=False),
    Column("title", Text, nullable=False),
    Column("notes", Text, nullable=False, server_default=FetchedValue()),
    Column("done", Boolean, nullable=False, server_default=FetchedValue()),
    Column("done_at", DateTime(timezone=True)),
    Column("due_date", Date),
    Column("source", Text, nullable=False, server_default=FetchedValue()),
    Column("source_ref", Text),
    Column("created_by", Uuid),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
)

timeline_events = Table(
    "timeline_events",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE"), nullable=False),
    Column("project_id", Uuid),
    Column("step_id", Uuid),
    Column("kind", Text, nullable=False),
    Column("actor_id", Uuid),
    Column("actor_role", Text, nullable=False),
    Column("body", Text),
    Column("data", JSONB, nullable=False, server_default=FetchedValue()),
    Column("at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
)
