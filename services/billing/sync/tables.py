"""SQLAlchemy mirror of migrations/0075_billing_sync.sql (and 0076 once the billing core landed)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, FetchedValue, Integer, Numeric, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY

from services.core.tables import metadata


def _ts(name: str, *, nullable: bool = True, default: bool = False) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable, server_default=FetchedValue() if default else None)


billing_sync_state = Table(
    "billing_sync_state",
    metadata,
    Column("resource", Text, primary_key=True),
    _ts("cursor_at"),
    Column("cursor_ids", ARRAY(BigInteger), nullable=False, server_default=FetchedValue()),
    _ts("last_run_at"),
    _ts("last_success_at"),
    Column("last_mode", Text),
    Column("last_changes", Integer, nullable=False, server_default=FetchedValue()),
    Column("last_error", Text),
    _ts("last_error_at"),
    _ts("updated_at", nullable=False, default=True),
)

billing_exports = Table(
    "billing_exports",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("kind", Text, nullable=False, server_default=FetchedValue()),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("status", Text, nullable=False, server_default=FetchedValue()),
    Column("pennylane_export_id", BigInteger),
    Column("storage_path", Text),
    Column("size_bytes", BigInteger),
    Column("sha256", Text),
    Column("error", Text),
    Column("requested_by", Uuid),
    _ts("created_at", nullable=False, default=True),
    _ts("updated_at", nullable=False, default=True),
)

billing_payment_links = Table(
    "billing_payment_links",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, nullable=False),
    Column("invoice_id", Uuid, nullable=False),
    Column("stripe_session_id", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("amount", Numeric(14, 2), nullable=False),
    Column("currency", Text, nullable=False),
    Column("status", Text, nullable=False, server_default=FetchedValue()),
    Column("payment_intent_id", Text),
    _ts("expires_at", nullable=False),
    _ts("created_at", nullable=False, default=True),
    _ts("updated_at", nullable=False, default=True),
)

billing_payment_reminders = Table(
    "billing_payment_reminders",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, nullable=False),
    Column("invoice_id", Uuid, nullable=False),
    Column("step", Text, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("recipients", Integer, nullable=False, server_default=FetchedValue()),
    Column("emailed", Boolean, nullable=False, server_default=FetchedValue()),
    _ts("sent_at", nullable=False, default=True),
)
