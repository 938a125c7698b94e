from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, FetchedValue, Identity, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB

from services.core.tables import metadata

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("actor_id", Uuid),
    Column("actor_role", Text, nullable=False),
    Column("client_id", Uuid),
    Column("action", Text, nullable=False),
    Column("entity_type", Text, nullable=False),
    Column("entity_id", Text),
    Column("before", JSONB),
    Column("after", JSONB),
    Column("request_id", Text),
)
