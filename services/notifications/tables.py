"""Mirror of migrations/0021_notifications.sql (tests/core/test_tables.py keeps them equal)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, FetchedValue, ForeignKey, Table, Text, Uuid

from services.core.tables import metadata

notifications = Table(
    "notifications",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("user_id", Uuid, nullable=False),
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE")),
    Column("actor_id", Uuid),
    Column("source", Text, nullable=False),
    Column("priority", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text),
    Column("link", Text),
    Column("entity_type", Text),
    Column("entity_id", Text),
    Column("sound", Boolean, nullable=False),
    Column("badge", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("read_at", DateTime(timezone=True)),
    Column("change_xid", BigInteger, nullable=False, server_default=FetchedValue()),
    Column("stream_xmin", BigInteger, nullable=False, server_default=FetchedValue()),
)
