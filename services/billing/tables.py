"""SQLAlchemy mirror of migrations/0070_billing.sql."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, FetchedValue, Integer, Numeric, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from services.core.tables import metadata


def _ts(name: str, *, nullable: bool = True, default: bool = False) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable, server_default=FetchedValue() if default else None)


def _money(name: str, *, nullable: bool = False, default: bool = False) -> Column[object]:
    return Column(name, Numeric(14, 2), nullable=nullable, server_default=FetchedValue() if default else None)


def _defaulted(name: str, type_: type[Text] | type[Boolean]) -> Column[object]:
    return Column(name, type_, nullable=False, server_default=FetchedValue())


def _push_columns() -> list[Column[object]]:
    """What every row pushed to Pennylane carries: its id there, the sync's timestamp, the push state."""
    return [
        Column("pennylane_id", BigInteger),
        _ts("pennylane_updated_at"),
        _defaulted("push_state", Text),
        Column("push_error", Text),
    ]


def _line_columns(parent: str) -> list[Column[object]]:
    return [
        Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
        Column("client_id", Uuid, nullable=False),
        Column(parent, Uuid, nullable=False),
        Column("position", Integer, nullable=False),
        Column("pennylane_id", BigInteger),
        Column("product_id", Uuid),
        Column("label", Text, nullable=False),
        Column("description", Text),
        Column("quantity", Numeric(12, 3), nullable=False),
        _defaulted("unit", Text),
        Column("unit_price", Numeric(16, 6), nullable=False),
        Column("vat_rate", Text, nullable=False),
        Column("discount_type", Text),
        Column("discount_value", Numeric(14, 2)),
        _money("amount_before_tax"),
        _money("tax"),
        _money("amount"),
    ]


billing_customers = Table(
    "billing_customers",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("legal_name", Text, nullable=False),
    Column("first_name", Text),
    Column("last_name", Text),
    Column("siren", Text),
    Column("siret", Text),
    Column("vat_number", Text),
    Column("billing_address", JSONB, nullable=False),
    Column("delivery_address", JSONB),
    Column("emails", ARRAY(Text), nullable=False, server_default=FetchedValue()),
    _defaulted("payment_conditions", Text),
    *_push_columns(),
    _ts("created_at", nullable=False, default=True),
    _ts("updated_at", nullable=False, default=True),
)

billing_products = Table(
    "billing_products",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("pennylane_id", BigInteger, nullable=False),
    Column("label", Text, nullable=False),
    Column("description", Text),
    Column("reference", Text),
    Column("external_reference", Text),
    Column("price_before_tax", Numeric(16, 6)),
    Column("price", Numeric(16, 6)),
    Column("vat_rate", Text),
    Column("unit", Text),
    _defaulted("currency", Text),
    _ts("archived_at"),
    _ts("deleted_at"),
    _ts("pennylane_updated_at"),
    _ts("created_at", nullable=False, default=True),
    _ts("updated_at", nullable=False, default=True),
)

billing_subscriptions = Table(
    "billing_subscriptions",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, nullable=False),
    _defaulted("status", Text),
    Column("label", Text, nullable=False),
    _money("amount_before_tax"),
    Column("vat_rate", Text, nullable=False),
    _defaulted("currency", Text),
    Column("interval_months", Integer, nullable=False, server_default=FetchedValue()),
    Column("start_date", Date, nullable=False),
    Column("next_occurrence", Date),
    _defaulted("payment_conditions", Text),
    Column("operation_nature", Text, nullable=False),
    _defaulted("vat_on_debits", Boolean),
    _ts("paused_at"),
    _ts("cancelled_at"),
    *_push_columns(),
    Column("created_by", Uuid),
    _ts("created_at", nullable=False, default=True),
    _ts("updated_at", nullable=False, default=True),
)

billing_quotes = Table(
    "billing_quotes",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, nullable=False),
    Column("quote_number", Text),
    _defaulted("status", Text),
    _defaulted("label", Text),
    _defaulted("currency", Text),
    Column("issue_date", Date, nullable=False),
    Column("valid_until", Date, nullable=False),
    _money("amount_before_tax", default=True),
    _money("tax", default=True),
    _money("amount", default=True),
    Column("operation_nature", Text),
    _defaulted("vat_on_debits", Boolean),
    Column("special_mention", Text),
    Column("pdf_url", Text),
    Column("pdf_sha256", Text),
    Column("evolution_id", Uuid),
    _ts("sent_at"),
    _ts("decided_at"),
    Column("decline_reason", Text),
    _ts("deleted_at"),
    *_push_columns(),
    Column("created_by", Uuid),
    _ts("created_at", nullable=False, default=True),
    _ts("updated_at", nullable=False, default=True),
)

billing_quote_lines = Table("billing_quote_lines", metadata, *_line_columns("quote_id"))

billing_invoices = Table(
    "billing_invoices",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, nullable=False),
    _defaulted("kind", Text),
    _defaulted("invoice_number", Text),
    _defaulted("status", Text),
    _defaulted("draft", Boolean),
    _defaulted("paid", Boolean),
    _defaulted("label", Text),
    _defaulted("currency", Text),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    _money("amount_before_tax", default=True),
    _money("tax", default=True),
    _money("amount", default=True),
    _money("remaining_amount", nullable=True),
    _money("paid_amount", default=True),
    _ts("paid_at"),
    Column("operation_nature", Text),
    _defaulted("vat_on_debits", Boolean),
    Column("special_mention", Text),
    Column("pdf_url", Text),
    Column("quote_id", Uuid),
    Column("subscription_id", Uuid),
    Column("credited_invoice_id", Uuid),
    _ts("finalized_at"),
    _ts("sent_at"),
    _ts("deleted_at"),
    *_push_columns(),
    Column("created_by", Uuid),
    _ts("created_at", nullable=False, default=True),
    _ts("updated_at", nullable=False, default=True),
)

billing_invoice_lines = Table("billing_invoice_lines", metadata, *_line_columns("invoice_id"))

billing_payments = Table(
    "billing_payments",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, nullable=False),
    Column("invoice_id", Uuid, nullable=False),
    Column("method", Text, nullable=False),
    _defaulted("kind", Text),
    _money("amount"),
    _defaulted("currency", Text),
    Column("paid_on", Date, nullable=False),
    Column("reference", Text),
    Column("external_id", Text),
    Column("note", Text),
    Column("recorded_by", Uuid),
    _ts("created_at", nullable=False, default=True),
)

billing_quote_acceptances = Table(
    "billing_quote_acceptances",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, nullable=False),
    Column("quote_id", Uuid, nullable=False),
    Column("decision", Text, nullable=False),
    Column("reason", Text),
    Column("user_id", Uuid, nullable=False),
    Column("user_email", Text),
    Column("ip", Text),
    Column("user_agent", Text),
    Column("pdf_sha256", Text, nullable=False),
    _money("amount"),
    Column("currency", Text, nullable=False),
    _ts("decided_at", nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("signature", Text, nullable=False),
    _ts("created_at", nullable=False, default=True),
)

# The sync half's tables (services/billing/sync) register on the same metadata.
from services.billing.sync import tables as sync_tables  # noqa: E402, F401
