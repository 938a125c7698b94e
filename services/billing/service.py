"""Billing rules shared by customers, quotes, invoices and subscriptions — line arithmetic, row models —
and the functions the Pennylane sync and the Stripe webhook call (they run under a ServiceSession):

    apply_pennylane_customer(session, customer) -> bool
    apply_pennylane_product(session, product) -> UUID
    apply_pennylane_quote(session, quote, lines=None) -> UUID | None
    apply_pennylane_invoice(session, invoice, lines=None) -> UUID | None
    apply_pennylane_subscription(session, subscription) -> UUID | None
    apply_pennylane_deletion(session, resource, pennylane_id) -> bool
    record_payment(session, invoice_id, payment, *, external_id=None) -> tuple[PaymentRead, bool]

Each is idempotent (keyed by the Pennylane id, or by (method, external_id) for payments) and audited.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from integrations.pennylane import (
    BillingSubscription,
    Customer,
    CustomerInvoice,
    DiscountInput,
    InvoiceLine,
    InvoiceLineInput,
    Product,
    Quote,
)
from services.audit import service as audit
from services.billing import repository
from services.billing.errors import BillingInvalid, BillingStateConflict, InvoiceNotFound
from services.billing.schemas import InvoiceRead, LineInput, PaymentCreate, PaymentRead
from services.core import queue
from services.core.db import AnySession
from services.core.settings import Settings

CENT = Decimal("0.01")
PARIS = ZoneInfo("Europe/Paris")
MARK_PAID_JOB = "billing.mark_invoice_paid"
_SQLSTATE = {"FX404": InvoiceNotFound, "FX409": BillingStateConflict}


def today() -> date:
    """Invoices are dated in MiKL's time zone, not the server's."""
    return datetime.now(PARIS).date()


def vat_percent(code: str) -> Decimal:
    """Pennylane's French VAT codes carry the rate in tenths of a percent (FR_200 = 20 %, FR_55 = 5.5 %)."""
    prefix, _, digits = code.partition("_")
    return Decimal(digits) / 10 if prefix == "FR" and digits.isdigit() else Decimal(0)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_values(
    line: LineInput, product: asyncpg.Record | None, position: int, client_id: UUID, *, sign: int = 1
) -> dict[str, Any]:
    """A line as stored: the product's defaults where the line leaves them out, amounts computed.
    `sign` -1 turns a credited line into a credit note's (negative quantity)."""
    label = line.label or (product["label"] if product else None)
    unit_price = line.unit_price if line.unit_price is not None else (product["price_before_tax"] if product else None)
    vat_rate = line.vat_rate or (product["vat_rate"] if product else None)
    if label is None or unit_price is None or vat_rate is None:
        raise BillingInvalid(f"line {position + 1}: the product has no price or VAT rate: give them", field="lines")
    quantity = line.quantity * sign
    base = quantity * unit_price
    if line.discount_type == "relative" and line.discount_value is not None:
        base = base * (100 - line.discount_value) / 100
    elif line.discount_type == "absolute" and line.discount_value is not None:
        base = base - line.discount_value * sign
    before = money(base)
    tax = money(before * vat_percent(vat_rate) / 100)
    return {
        "client_id": client_id, "position": position, "product_id": line.product_id, "label": label,
        "description": line.description, "quantity": quantity, "unit": line.unit, "unit_price": unit_price,
        "vat_rate": vat_rate, "discount_type": line.discount_type, "discount_value": line.discount_value,
        "amount_before_tax": before, "tax": tax, "amount": before + tax,
    }  # fmt: skip


def totals(lines: Sequence[dict[str, Any]]) -> dict[str, Decimal]:
    before = sum((line["amount_before_tax"] for line in lines), Decimal(0))
    tax = sum((line["tax"] for line in lines), Decimal(0))
    return {"amount_before_tax": before, "tax": tax, "amount": before + tax}


async def priced_lines(
    session: AnySession, client_id: UUID, lines: Sequence[LineInput], *, sign: int = 1
) -> list[dict[str, Any]]:
    """The lines as stored; a product that does not exist (or was deleted in Pennylane) is a 422."""
    ids = [line.product_id for line in lines if line.product_id is not None]
    products = await repository.products(session, ids) if ids else {}
    missing = [str(pid) for pid in ids if pid not in products]
    if missing:
        raise BillingInvalid(f"unknown product {', '.join(missing)}", field="lines")
    return [
        line_values(line, products.get(line.product_id) if line.product_id else None, n, client_id, sign=sign)
        for n, line in enumerate(lines)
    ]


def invoice_read(row: asyncpg.Record) -> InvoiceRead:
    return InvoiceRead(**dict(row))


# ---------------------------------------------------------------- payments


async def record_payment(
    session: AnySession, invoice_id: UUID, data: PaymentCreate | dict[str, Any], *, external_id: str | None = None
) -> tuple[PaymentRead, bool]:
    """Record money received against an invoice (manual, deposit, or Stripe with its payment intent as
    `external_id`); (payment, created) — created False when that external payment was already recorded.
    Once the invoice is fully paid, a job marks it paid in Pennylane."""
    values = data.model_dump() if isinstance(data, PaymentCreate) else dict(data)
    values["external_id"] = external_id
    try:
        row = await repository.record_payment(session, invoice_id, values)
    except asyncpg.PostgresError as exc:
        error = _SQLSTATE.get(exc.sqlstate or "")
        if error is InvoiceNotFound:
            raise InvoiceNotFound() from None
        if error is not None:
            raise BillingStateConflict(str(exc.args[0])) from None
        if exc.sqlstate == "FX422":
            raise BillingInvalid(str(exc.args[0]), field=getattr(exc, "column_name", None) or "amount") from None
        raise
    payment = await repository.get(session, "billing_payments", row["payment_id"])
    invoice = await repository.get(session, "billing_invoices", invoice_id)
    if row["created"] and invoice["paid_amount"] >= invoice["amount"] and invoice["pennylane_id"] is not None:
        await queue.enqueue(
            session, MARK_PAID_JOB, {"invoice_id": str(invoice_id)}, idempotency_key=f"{MARK_PAID_JOB}:{invoice_id}",
            client_id=invoice["client_id"],
        )  # fmt: skip
    return PaymentRead(**dict(payment)), bool(row["created"])


# ---------------------------------------------------------------- the sync's entry points


def _address(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    data = value.model_dump() if hasattr(value, "model_dump") else dict(value)
    address = {k: str(data.get(k) or "") for k in ("address", "postal_code", "city", "country_alpha2")}
    return address if any(address.values()) else None


def _newer(row: asyncpg.Record | None, updated_at: datetime | None) -> bool:
    stored = row["pennylane_updated_at"] if row is not None else None
    return stored is None or updated_at is None or updated_at > stored


async def _audit_sync(session: AnySession, entity: str, row: asyncpg.Record, client_id: UUID | None) -> None:
    await audit.record(
        session, action=f"billing.{entity}_synced", entity_type=f"billing_{entity}", entity_id=row["id"],
        client_id=client_id, after={"pennylane_id": row["pennylane_id"], "status": row["status"]},
    )  # fmt: skip


async def apply_pennylane_customer(session: AnySession, customer: Customer) -> bool:
    """Mirror a Pennylane customer onto the client it is linked to; False when none is (or it is older)."""
    row = await repository.get(session, "billing_customers", customer.id, by="pennylane_id", lock=True)
    if row is None or not _newer(row, customer.updated_at):
        return False
    reg_no = (customer.reg_no or "").replace(" ", "")
    vat = (customer.vat_number or "").replace(" ", "").upper()
    values: dict[str, Any] = {
        "legal_name": (customer.name or row["legal_name"])[:200],
        "emails": customer.emails[:20],
        "billing_address": _address(customer.billing_address) or row["billing_address"],
        "delivery_address": _address(customer.delivery_address),
        "pennylane_updated_at": customer.updated_at,
        "vat_number": vat if 4 <= len(vat) <= 15 and vat[:2].isalpha() else row["vat_number"],
    }
    if reg_no.isdigit() and len(reg_no) in (9, 14):
        values.update(siren=reg_no[:9], siret=reg_no if len(reg_no) == 14 else None)
    updated = await repository.update_row(session, "billing_customers", row["client_id"], values)
    assert updated is not None
    await audit.record(
        session, action="billing.customer_synced", entity_type="billing_customer", entity_id=row["client_id"],
        client_id=row["client_id"], before={"legal_name": row["legal_name"]},
        after={"legal_name": values["legal_name"]},
    )  # fmt: skip
    return True


async def apply_pennylane_product(session: AnySession, product: Product) -> UUID:
    row = await repository.upsert_row(
        session, "billing_products", "pennylane_id",
        {
            "pennylane_id": product.id, "label": product.label[:500] or str(product.id),
            "description": product.description, "reference": product.reference,
            "external_reference": product.external_reference, "price_before_tax": product.price_before_tax,
            "price": product.price, "vat_rate": product.vat_rate or None, "unit": product.unit or None,
            "currency": product.currency, "archived_at": product.archived_at, "deleted_at": None,
            "pennylane_updated_at": product.updated_at,
        },
    )  # fmt: skip
    product_id: UUID = row["id"]
    return product_id


async def _client_of(session: AnySession, customer_ref: Any) -> UUID | None:
    if customer_ref is None:
        return None
    row = await repository.get(session, "billing_customers", customer_ref.id, by="pennylane_id")
    return None if row is None else row["client_id"]


async def _mirror_lines(
    session: AnySession, parent: str, parent_id: UUID, client_id: UUID, lines: Sequence[InvoiceLine]
) -> None:
    product_ids = await repository.ids_by_pennylane(
        session, "billing_products", [line.product.id for line in lines if line.product is not None]
    )
    rows = []
    for n, line in enumerate(lines[:1000]):
        before = line.currency_amount_before_tax or Decimal(0)
        amount = line.currency_amount or line.amount or before
        rows.append({
            "client_id": client_id, "position": n, "pennylane_id": line.id,
            "product_id": product_ids.get(line.product.id) if line.product else None,
            "label": (line.label or "—")[:500], "description": line.description, "quantity": line.quantity,
            "unit": (line.unit or "piece")[:40], "unit_price": line.raw_currency_unit_price or Decimal(0),
            "vat_rate": line.vat_rate or "exempt",
            "discount_type": line.discount.type if line.discount else None,
            "discount_value": abs(line.discount.value) if line.discount else None,
            "amount_before_tax": before, "tax": line.currency_tax or line.tax or amount - before, "amount": amount,
        })  # fmt: skip
    await repository.replace_lines(session, parent, parent_id, rows)


def _dates(issued: date | None, due: date | None) -> tuple[date, date]:
    issue = issued or today()
    return issue, max(due or issue, issue)


async def apply_pennylane_quote(
    session: AnySession, quote: Quote, lines: Sequence[InvoiceLine] | None = None
) -> UUID | None:
    """Upsert the quote by its Pennylane id (None when its customer is no Foxeo client's)."""
    current = await repository.get(session, "billing_quotes", quote.id, by="pennylane_id", lock=True)
    client_id = current["client_id"] if current is not None else await _client_of(session, quote.customer)
    if client_id is None:
        return None
    if current is not None and not _newer(current, quote.updated_at):
        return UUID(str(current["id"]))
    issue, valid = _dates(quote.date, quote.deadline)
    row = await repository.upsert_row(
        session, "billing_quotes", "pennylane_id",
        {
            "pennylane_id": quote.id, "client_id": client_id, "quote_number": quote.quote_number,
            "status": quote.status if quote.status.replace("_", "").isalpha() else "pending",
            "label": (quote.label or "")[:200], "currency": quote.currency, "issue_date": issue, "valid_until": valid,
            "amount_before_tax": quote.currency_amount_before_tax or Decimal(0),
            "tax": quote.currency_tax or Decimal(0), "amount": quote.currency_amount or quote.amount,
            "pdf_url": quote.public_file_url, "deleted_at": None, "pennylane_updated_at": quote.updated_at,
        },
    )  # fmt: skip
    if lines is not None:
        await _mirror_lines(session, "quote_id", row["id"], client_id, lines)
    await _audit_sync(session, "quote", row, client_id)
    return UUID(str(row["id"]))


async def apply_pennylane_invoice(
    session: AnySession, invoice: CustomerInvoice, lines: Sequence[InvoiceLine] | None = None
) -> UUID | None:
    """Upsert a customer invoice or credit note by its Pennylane id, linked to its quote, subscription and
    credited invoice when those are mirrored too (None when its customer is no Foxeo client's)."""
    current = await repository.get(session, "billing_invoices", invoice.id, by="pennylane_id", lock=True)
    client_id = current["client_id"] if current is not None else await _client_of(session, invoice.customer)
    if client_id is None:
        return None
    if current is not None and not _newer(current, invoice.updated_at):
        return UUID(str(current["id"]))
    quotes = await repository.ids_by_pennylane(session, "billing_quotes", [invoice.quote.id] if invoice.quote else [])
    subs = invoice.billing_subscription
    subscriptions = await repository.ids_by_pennylane(session, "billing_subscriptions", [subs.id] if subs else [])
    credited = invoice.credited_invoice
    invoices = await repository.ids_by_pennylane(session, "billing_invoices", [credited.id] if credited else [])
    amount = invoice.currency_amount if invoice.currency_amount is not None else invoice.amount
    credit_note = invoice.status == "credit_note" or credited is not None or amount < 0
    issue, due = _dates(invoice.date, invoice.deadline)
    row = await repository.upsert_row(
        session, "billing_invoices", "pennylane_id",
        {
            "pennylane_id": invoice.id, "client_id": client_id, "kind": "credit_note" if credit_note else "invoice",
            "invoice_number": invoice.invoice_number[:100],
            "status": invoice.status if invoice.status.replace("_", "").isalpha() else "draft",
            "draft": invoice.draft, "paid": invoice.paid, "label": (invoice.label or "")[:200],
            "currency": invoice.currency, "issue_date": issue, "due_date": due,
            "amount_before_tax": invoice.currency_amount_before_tax or Decimal(0),
            "tax": invoice.currency_tax or Decimal(0), "amount": amount,
            "remaining_amount": invoice.remaining_amount_with_tax, "pdf_url": invoice.public_file_url,
            "quote_id": quotes.get(invoice.quote.id) if invoice.quote else None,
            "subscription_id": subscriptions.get(subs.id) if subs else None,
            "credited_invoice_id": invoices.get(credited.id) if credited and credit_note else None,
            "deleted_at": None, "pennylane_updated_at": invoice.updated_at,
        },
    )  # fmt: skip
    if lines is not None:
        await _mirror_lines(session, "invoice_id", row["id"], client_id, lines)
    await _audit_sync(session, "invoice", row, client_id)
    return UUID(str(row["id"]))


async def apply_pennylane_subscription(session: AnySession, subscription: BillingSubscription) -> UUID | None:
    """Refresh a subscription Foxeo created (status, next occurrence); None when it is not one of ours."""
    row = await repository.get(session, "billing_subscriptions", subscription.id, by="pennylane_id", lock=True)
    if row is None:
        return None
    status = subscription.status if subscription.status and subscription.status.replace("_", "").isalpha() else None
    updated = await repository.update_row(
        session, "billing_subscriptions", row["id"],
        {"status": status or row["status"], "next_occurrence": subscription.next_occurrence,
         "pennylane_updated_at": datetime.now(UTC)},
    )  # fmt: skip
    assert updated is not None
    await _audit_sync(session, "subscription", updated, row["client_id"])
    return UUID(str(row["id"]))


_DELETABLE = {"customer_invoices": "billing_invoices", "quotes": "billing_quotes", "products": "billing_products"}


async def apply_pennylane_deletion(session: AnySession, resource: str, pennylane_id: int) -> bool:
    """A changelog `delete`: the mirrored row is marked deleted (kept for the audit trail); a deleted
    customer unlinks its client (the next billing action creates or matches it again)."""
    if resource == "customers":
        row = await repository.update_row(
            session, "billing_customers", pennylane_id,
            {"pennylane_id": None, "push_state": "none", "pennylane_updated_at": None}, by="pennylane_id",
        )  # fmt: skip
        entity, key = "customer", None if row is None else row["client_id"]
    else:
        row = await repository.update_row(
            session, _DELETABLE[resource], pennylane_id, {"deleted_at": datetime.now(UTC)}, by="pennylane_id"
        )
        entity, key = resource.rstrip("s").removeprefix("customer_"), None if row is None else row["id"]
    if row is None:
        return False
    await audit.record(
        session, action=f"billing.{entity}_deleted", entity_type=f"billing_{entity}", entity_id=key,
        client_id=row.get("client_id"), before={"pennylane_id": pennylane_id},
    )  # fmt: skip
    return True


# ---------------------------------------------------------------- what the jobs send


async def pennylane_lines(session: AnySession, rows: Sequence[asyncpg.Record]) -> list[InvoiceLineInput]:
    """Stored lines as Pennylane invoice lines (a product line names the Pennylane product and keeps our
    label, price and VAT, so the document says what the operator wrote)."""
    ids = [row["product_id"] for row in rows if row["product_id"] is not None]
    products = await repository.products(session, ids) if ids else {}
    result = []
    for row in rows:
        product = products.get(row["product_id"]) if row["product_id"] else None
        discount = (
            DiscountInput(type=row["discount_type"], value=row["discount_value"]) if row["discount_type"] else None
        )
        extra: dict[str, Any] = {"discount": discount} if discount else {}
        if row["description"]:
            extra["description"] = row["description"]
        if product is not None:
            extra["product_id"] = product["pennylane_id"]
        result.append(
            InvoiceLineInput(
                quantity=row["quantity"], label=row["label"], raw_currency_unit_price=row["unit_price"],
                unit=row["unit"], vat_rate=row["vat_rate"], **extra,
            )
        )  # fmt: skip
    return result


def acceptance_key(settings: Settings) -> bytes:
    """The HMAC key of quote decisions, derived from the server's signing secret (never stored)."""
    return hashlib.sha256(b"foxeo-quote-acceptance:" + settings.signing_key()).digest()


def canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(settings: Settings, payload: dict[str, Any]) -> str:
    """HMAC-SHA256 over the canonical JSON of a decision record (sorted keys, no spaces, UTF-8)."""
    return hmac.new(acceptance_key(settings), canonical(payload), hashlib.sha256).hexdigest()
