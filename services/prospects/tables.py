from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, FetchedValue, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY

from services.core.tables import metadata


def _ts(name: str, *, nullable: bool = True, default: bool = False) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable, server_default=FetchedValue() if default else None)


client_companies = Table(
    "client_companies",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("siret", Text, nullable=False),
    Column("siren", Text, nullable=False),
    Column("lookup_status", Text, nullable=False),
    Column("source", Text),
    Column("legal_name", Text),
    Column("address_lines", ARRAY(Text), nullable=False, server_default=FetchedValue()),
    Column("postal_code", Text),
    Column("city", Text),
    Column("naf_code", Text),
    Column("creation_date", Date),
    Column("headcount_bracket", Text),
    Column("headcount_label", Text),
    Column("vat_number", Text),
    _ts("looked_up_at"),
    _ts("updated_at", nullable=False, default=True),
)

prospect_statuses = Table(
    "prospect_statuses",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, nullable=False),
    Column("temperature", Text, nullable=False),
    Column("note", Text),
    Column("set_by", Uuid),
    _ts("created_at", nullable=False, default=True),
)
