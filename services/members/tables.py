from __future__ import annotations

from sqlalchemy import Column, DateTime, FetchedValue, ForeignKey, Table, Text, Uuid

from services.core.tables import metadata

client_members = Table(
    "client_members",
    metadata,
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Uuid, primary_key=True),  # references auth.users (not mirrored: Supabase owns it)
    Column("email", Text, nullable=False),
    Column("role", Text, nullable=False, server_default=FetchedValue()),
    Column("invited_by", Uuid),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
)
