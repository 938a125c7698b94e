from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, FetchedValue, ForeignKey, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY

from services.core.tables import metadata

clients = Table(
    "clients",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("status", Text, nullable=False, server_default=FetchedValue()),
    Column("prospect_temperature", Text),
    Column("company_name", Text, nullable=False),
    Column("contact_first_name", Text),
    Column("contact_last_name", Text),
    Column("email", Text),
    Column("phone", Text),
    Column("city", Text),
    Column("siret", Text),
    Column("tags", ARRAY(Text), nullable=False, server_default=FetchedValue()),
    Column("status_before_archive", Text),
    Column("archived_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
)

client_crm_profiles = Table(
    "client_crm_profiles",
    metadata,
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE"), primary_key=True),
    Column("photo_url", Text),
    Column("birthday", Date),
    Column("personal_notes", Text),
    Column("background", Text),
    Column("notes", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
)
