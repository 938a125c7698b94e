from __future__ import annotations

from sqlalchemy import Column, DateTime, FetchedValue, ForeignKey, Integer, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB

from services.core.tables import metadata

jobs = Table(
    "jobs",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("kind", Text, nullable=False),
    Column("payload", JSONB, nullable=False, server_default=FetchedValue()),
    Column("status", Text, nullable=False, server_default=FetchedValue()),
    Column("attempts", Integer, nullable=False, server_default=FetchedValue()),
    Column("max_attempts", Integer),
    Column("run_after", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("last_error", Text),
    Column("lease_owner", Text),
    Column("lease_token", Uuid),
    Column("lease_expires_at", DateTime(timezone=True)),
    Column("idempotency_key", Text),
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="SET NULL")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
)
