"""Mirror of migrations/0080_reminders.sql (tests/core/test_tables.py keeps them equal)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, FetchedValue, ForeignKey, Integer, Table, Text, Uuid

from services.core.tables import metadata


def _ts(name: str, *, nullable: bool = True, default: bool = False) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable, server_default=FetchedValue() if default else None)


reminders = Table(
    "reminders",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE")),
    Column("kind", Text, nullable=False),
    Column("subject_type", Text, nullable=False),
    Column("subject_id", Text, nullable=False),
    _ts("due_at", nullable=False),
    Column("audience", Text, nullable=False, server_default=FetchedValue()),
    Column("email", Boolean, nullable=False, server_default=FetchedValue()),
    Column("title", Text, nullable=False),
    Column("body", Text),
    Column("suggested_message", Text),
    Column("link", Text),
    Column("status", Text, nullable=False, server_default=FetchedValue()),
    _ts("fired_at"),
    _ts("cancelled_at"),
    Column("created_by", Uuid),
    _ts("created_at", nullable=False, default=True),
    _ts("updated_at", nullable=False, default=True),
)

email_outbox = Table(
    "email_outbox",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE")),
    Column("reminder_id", Uuid, ForeignKey("public.reminders.id", ondelete="SET NULL")),
    Column("to_address", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", Text, nullable=False, server_default=FetchedValue()),
    Column("attempts", Integer, nullable=False, server_default=FetchedValue()),
    Column("last_error", Text),
    Column("message_id", Text, nullable=False),
    Column("provider_message_id", Text),
    Column("created_by", Uuid),
    _ts("created_at", nullable=False, default=True),
    _ts("updated_at", nullable=False, default=True),
    _ts("sent_at"),
)
