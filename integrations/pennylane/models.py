"""Pennylane v2 response models, shaped on real recordings (integrations-reference §1).

Every model allows extra fields: Pennylane adds fields without a version bump (see the 2026 API
changes), and a new field must never break a sync. Ids are 64-bit ints; amounts are `Decimal`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict


def _to_decimal(value: Any) -> Any:
    # Pennylane sends decimal strings ("600.0"). The client decodes JSON numbers as Decimal, so a float
    # only reaches here from a caller's own dict; str() keeps its shortest exact spelling, not binary noise.
    if isinstance(value, float):
        return Decimal(str(value))
    return value


Amount = Annotated[Decimal, BeforeValidator(_to_decimal)]


class PennylaneModel(BaseModel):
    model_config = ConfigDict(extra="allow")


class IdRef(PennylaneModel):
    id: int


class Ref(PennylaneModel):
    id: int
    url: str | None = None


class UrlRef(PennylaneModel):
    url: str


class Address(PennylaneModel):
    address: str = ""
    postal_code: str = ""
    city: str = ""
    country_alpha2: str = ""


class Discount(PennylaneModel):
    type: str  # "absolute" | "relative"
    value: Amount


class Customer(PennylaneModel):
    """A company or individual customer (`GET /customers/{id}`, `/company_customers/{id}`, ...)."""

    id: int
    name: str
    # Only the generic /customers endpoints return it; the client fills it in for the typed ones.
    customer_type: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    billing_iban: str | None = None
    payment_conditions: str | None = None
    recipient: str | None = None
    phone: str | None = None
    reference: str | None = None
    vat_number: str | None = None
    reg_no: str | None = None
    billing_language: str | None = None
    notes: str | None = None
    emails: list[str] = []
    billing_address: Address | None = None
    delivery_address: Address | None = None
    external_reference: str | None = None
    ledger_account: IdRef | None = None
    mandates: UrlRef | None = None
    pro_account_mandates: UrlRef | None = None
    contacts: UrlRef | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class Product(PennylaneModel):
    id: int
    label: str
    description: str | None = None
    reference: str | None = None
    external_reference: str | None = None
    price_before_tax: Amount | None = None
    price: Amount | None = None
    vat_rate: str | None = None
    unit: str | None = None
    currency: str = "EUR"
    ledger_account: IdRef | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    archived_at: dt.datetime | None = None


class _Document(PennylaneModel):
    """What quotes and customer invoices share."""

    id: int
    label: str | None = None
    currency: str = "EUR"
    amount: Amount
    currency_amount: Amount | None = None
    currency_amount_before_tax: Amount | None = None
    tax: Amount | None = None
    currency_tax: Amount | None = None
    exchange_rate: Amount | None = None
    language: str | None = None
    filename: str | None = None
    date: dt.date | None = None
    deadline: dt.date | None = None
    pdf_invoice_free_text: str | None = None
    pdf_invoice_subject: str | None = None
    pdf_description: str | None = None
    special_mention: str | None = None
    public_file_url: str | None = None
    discount: Discount | None = None
    customer: Ref | None = None
    external_reference: str | None = None
    invoice_lines: UrlRef | None = None
    invoice_line_sections: UrlRef | None = None
    appendices: UrlRef | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    archived_at: dt.datetime | None = None


class Quote(_Document):
    quote_number: str | None = None
    # Documented values: pending, accepted, denied, expired, invoiced; kept as text for new ones.
    status: str
    quote_template: Any = None
    linked_invoices: UrlRef | None = None


class CustomerInvoice(_Document):
    invoice_number: str = ""  # "" while draft
    # UNVERIFIED: only draft/upcoming/credit_note are observed live; docs also show archived, paid, late,
    # cancelled, partially_cancelled, incomplete. Free text, never an enum, so a new value cannot break us.
    status: str
    draft: bool
    paid: bool = False
    remaining_amount_with_tax: Amount | None = None  # null on drafts
    remaining_amount_without_tax: Amount | None = None
    ledger_entry: IdRef | None = None
    customer_invoice_template: Any = None
    transaction_reference: Any = None
    billing_subscription: IdRef | None = None
    credited_invoice: Ref | None = None
    quote: IdRef | None = None
    custom_header_fields: UrlRef | None = None
    categories: UrlRef | None = None
    payments: UrlRef | None = None
    matched_transactions: UrlRef | None = None
    # UNVERIFIED shape: only null observed; docs mention an object carrying a status.
    e_invoicing: dict[str, Any] | None = None
    factur_x: bool | None = None


class InvoiceLine(PennylaneModel):
    """A line of a customer invoice or quote (shape from a live `/customer_invoices/{id}/invoice_lines`)."""

    id: int
    label: str | None = None
    description: str | None = None
    unit: str | None = None
    quantity: Amount  # a decimal string too ("1.0")
    raw_currency_unit_price: Amount | None = None
    amount: Amount | None = None
    currency_amount: Amount | None = None
    currency_amount_before_tax: Amount | None = None
    tax: Amount | None = None
    currency_tax: Amount | None = None
    vat_rate: str | None = None
    discount: Discount | None = None
    section_rank: int | None = None
    product: Ref | None = None
    imputation_dates: Any = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class RecurringRule(PennylaneModel):
    rule_type: str | None = None  # "monthly" | "yearly" | "weekly"...
    interval: int | None = None
    count: int | None = None
    until: str | None = None
    day_of_month: list[int] | None = None
    week_start: int | None = None
    day: list[int] | None = None


class BillingSubscription(PennylaneModel):
    """UNVERIFIED: built on the docs example only (no live recording of a subscription); all optional."""

    id: int
    status: str | None = None
    # The docs example answers a string here although the request sends an object: accept either.
    mode: str | dict[str, Any] | None = None
    start: dt.date | None = None
    finish: dt.date | None = None
    next_occurrence: dt.date | None = None
    prev_occurrence: dt.date | None = None
    activated_at: dt.datetime | None = None
    stopped_at: dt.datetime | None = None
    payment_conditions: str | None = None
    payment_method: str | None = None
    email_settings: dict[str, Any] | None = None
    recurring_rule: RecurringRule | None = None
    customer: Ref | None = None


ChangeOperation = Literal["insert", "update", "delete"]


class ChangeEntry(PennylaneModel):
    """One changelog row: ids only, the caller re-fetches the resource (a delete cannot be re-fetched)."""

    id: int
    operation: ChangeOperation
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    processed_at: dt.datetime


class Me(PennylaneModel):
    user: dict[str, Any] = {}
    company: dict[str, Any] = {}
    scopes: list[str] = []


T = TypeVar("T")


class Page(PennylaneModel, Generic[T]):
    """A cursor page; pass `next_cursor` back as `cursor` while `has_more`."""

    items: list[T]
    has_more: bool = False
    next_cursor: str | None = None
