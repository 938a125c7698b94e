"""Customer invoices and credit notes: drafted here, pushed to Pennylane as drafts by a job, finalized and
sent through jobs; payments (transfers, cheques, deposits, partial payments) recorded against them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from services.audit import service as audit
from services.billing import einvoicing, quotes, repository, service
from services.billing.errors import BillingInvalid, BillingStateConflict, InvoiceNotFound
from services.billing.schemas import (
    CreditNoteCreate,
    InvoiceCreate,
    InvoiceDetail,
    InvoiceRead,
    InvoiceWrite,
    LineRead,
    PaymentCreate,
    PaymentRead,
    PdfLink,
)
from services.clients import service as clients
from services.core import queue
from services.core.db import UserSession
from services.core.pagination import Page, next_page
from services.core.settings import Settings

PUSH_INVOICE_JOB = "billing.push_invoice"
FINALIZE_INVOICE_JOB = "billing.finalize_invoice"
SEND_INVOICE_JOB = "billing.send_invoice"
_LINE_COPY = (
    "position", "product_id", "label", "description", "quantity", "unit", "unit_price", "vat_rate", "discount_type",
    "discount_value", "amount_before_tax", "tax", "amount",
)  # fmt: skip


async def load(session: UserSession, invoice_id: UUID, *, lock: bool = False) -> asyncpg.Record:
    row = await repository.get(session, "billing_invoices", invoice_id, lock=lock)
    if row is None:
        raise InvoiceNotFound()
    return row


async def detail(session: UserSession, row: asyncpg.Record) -> InvoiceDetail:
    lines = [LineRead(**dict(line)) for line in await repository.lines(session, "invoice_id", row["id"])]
    payments = [PaymentRead(**dict(p)) for p in await repository.invoice_payments(session, row["id"])]
    return InvoiceDetail(**dict(row), lines=lines, payments=payments)


async def _audited(
    session: UserSession, action: str, row: asyncpg.Record, before: asyncpg.Record | None = None
) -> InvoiceRead:
    after = service.invoice_read(row)
    await audit.record(
        session, action=f"billing.{action}", entity_type="billing_invoice", entity_id=row["id"],
        client_id=row["client_id"], before=None if before is None else service.invoice_read(before), after=after,
    )  # fmt: skip
    return after


async def _push(session: UserSession, kind: str, row: asyncpg.Record) -> None:
    await queue.enqueue(session, kind, {"invoice_id": str(row["id"])}, client_id=row["client_id"])


def _document(data: InvoiceWrite) -> dict[str, Any]:
    issue = data.issue_date or service.today()
    if data.due_date < issue:
        raise BillingInvalid("due_date is before issue_date", field="due_date")
    return {
        "label": data.label, "issue_date": issue, "due_date": data.due_date,
        "operation_nature": data.operation_nature, "vat_on_debits": data.vat_on_debits,
        "special_mention": data.special_mention,
    }  # fmt: skip


async def _ready(session: UserSession, client_id: UUID, operation_nature: str | None) -> None:
    """The e-invoicing mentions are there (before anything is written, so a 422 leaves nothing behind)."""
    einvoicing.check(await repository.get(session, "billing_customers", client_id), operation_nature)


async def create_invoice(session: UserSession, settings: Settings, data: InvoiceCreate) -> InvoiceDetail:
    """A draft invoice, created as a draft in Pennylane by a job."""
    quotes.require_pennylane(settings)
    client = await clients.require_client(session, data.client_id)
    values = _document(data)
    await _ready(session, client.id, data.operation_nature)
    lines = await service.priced_lines(session, client.id, data.lines)
    row = await repository.insert_row(
        session, "billing_invoices",
        {**values, **service.totals(lines), "client_id": client.id, "push_state": "pending",
         "created_by": session.principal.user_id},
    )  # fmt: skip
    await repository.replace_lines(session, "invoice_id", row["id"], lines)
    await _push(session, PUSH_INVOICE_JOB, row)
    await _audited(session, "invoice_created", row)
    return await detail(session, row)


async def update_invoice(
    session: UserSession, settings: Settings, invoice_id: UUID, data: InvoiceWrite
) -> InvoiceDetail:
    """Edit a draft; the job sends it with `PUT /customer_invoices/{id}`."""
    quotes.require_pennylane(settings)
    before = await load(session, invoice_id, lock=True)
    if not before["draft"] or before["finalized_at"] is not None:
        raise BillingStateConflict("only a draft can be edited: issue a credit note instead")
    if before["kind"] == "credit_note":
        raise BillingStateConflict("a credit note is edited by issuing another one")
    values = _document(data)
    await _ready(session, before["client_id"], data.operation_nature)
    lines = await service.priced_lines(session, before["client_id"], data.lines)
    values = {**values, **service.totals(lines), "push_state": "pending", "push_error": None}
    row = await repository.update_row(session, "billing_invoices", invoice_id, values)
    assert row is not None
    await repository.replace_lines(session, "invoice_id", invoice_id, lines)
    await _push(session, PUSH_INVOICE_JOB, row)
    await _audited(session, "invoice_updated", row, before)
    return await detail(session, row)


async def finalize_invoice(session: UserSession, settings: Settings, invoice_id: UUID) -> InvoiceRead:
    """Pennylane numbers the draft (in a job); it can no longer change."""
    quotes.require_pennylane(settings)
    before = await load(session, invoice_id, lock=True)
    if not before["draft"]:
        raise BillingStateConflict("this invoice is already finalized")
    await _ready(session, before["client_id"], before["operation_nature"])
    row = await repository.update_row(
        session, "billing_invoices", invoice_id, {"push_state": "pending", "push_error": None}
    )
    assert row is not None
    await _push(session, FINALIZE_INVOICE_JOB, row)
    return await _audited(session, "invoice_finalize_requested", row, before)


async def send_invoice(session: UserSession, settings: Settings, invoice_id: UUID) -> InvoiceRead:
    """E-mail the finalized invoice's PDF from Pennylane (a job; retried while the PDF is being made)."""
    quotes.require_pennylane(settings)
    before = await load(session, invoice_id, lock=True)
    if before["draft"] or before["pennylane_id"] is None:
        raise BillingStateConflict("finalize the invoice before sending it")
    row = await repository.update_row(
        session, "billing_invoices", invoice_id, {"push_state": "pending", "push_error": None}
    )
    assert row is not None
    await _push(session, SEND_INVOICE_JOB, row)
    return await _audited(session, "invoice_send_requested", row, before)


async def list_invoices(
    session: UserSession,
    client_id: UUID | None,
    state: str | None,
    kind: str | None,
    cursor: str | None,
    limit: int,
) -> Page[InvoiceRead]:
    if client_id is not None:
        await clients.require_client(session, client_id)
    rows = await repository.list_rows(
        session, "billing_invoices", repository.INVOICE_KEYSET, cursor=cursor, limit=limit, client_id=client_id,
        state=state, kind=kind,
    )  # fmt: skip
    page, next_cursor = next_page(rows, limit, lambda row: [row["created_at"], row["id"]])
    return Page[InvoiceRead](items=[service.invoice_read(r) for r in page], next_cursor=next_cursor)


async def get_invoice(session: UserSession, invoice_id: UUID) -> InvoiceDetail:
    return await detail(session, await load(session, invoice_id))


async def pdf_link(session: UserSession, invoice_id: UUID) -> PdfLink:
    row = await load(session, invoice_id)
    if row["pdf_url"] is None:
        raise BillingStateConflict("the invoice has no PDF yet (it is made once Pennylane has the invoice)")
    return PdfLink(url=row["pdf_url"])


async def add_payment(session: UserSession, invoice_id: UUID, data: PaymentCreate) -> PaymentRead:
    """A transfer, cheque, deposit or partial payment received (the balance is derived from them)."""
    await load(session, invoice_id)
    payment, _ = await service.record_payment(session, invoice_id, data)
    return payment


async def list_payments(session: UserSession, client_id: UUID, cursor: str | None, limit: int) -> Page[PaymentRead]:
    """The client's payment history, newest first."""
    await clients.require_client(session, client_id)
    rows = await repository.list_rows(
        session, "billing_payments", repository.PAYMENT_KEYSET, cursor=cursor, limit=limit, client_id=client_id
    )
    page, next_cursor = next_page(rows, limit, lambda row: [row["created_at"], row["id"]])
    return Page[PaymentRead](items=[PaymentRead(**dict(r)) for r in page], next_cursor=next_cursor)


async def _credited_so_far(session: UserSession, invoice_id: UUID, client_id: UUID) -> Decimal:
    rows = await repository.list_rows(
        session, "billing_invoices", repository.INVOICE_KEYSET, cursor=None, limit=1000, client_id=client_id,
        kind="credit_note",
    )  # fmt: skip
    return sum((-r["amount"] for r in rows if r["credited_invoice_id"] == invoice_id), Decimal(0))


async def issue_credit_note(
    session: UserSession, settings: Settings, invoice_id: UUID, data: CreditNoteCreate
) -> InvoiceDetail:
    """A credit note against a finalized invoice, for all of it or the lines given; never more than what
    remains uncredited."""
    quotes.require_pennylane(settings)
    invoice = await load(session, invoice_id, lock=True)
    if invoice["kind"] != "invoice" or invoice["draft"]:
        raise BillingStateConflict("credit notes are issued against a finalized invoice")
    if data.lines is None:
        originals = await repository.lines(session, "invoice_id", invoice_id)
        lines = [
            {**{k: line[k] for k in _LINE_COPY}, "client_id": invoice["client_id"], "quantity": -line["quantity"],
             "amount_before_tax": -line["amount_before_tax"], "tax": -line["tax"], "amount": -line["amount"]}
            for line in originals
        ]  # fmt: skip
    else:
        lines = await service.priced_lines(session, invoice["client_id"], data.lines, sign=-1)
    total = service.totals(lines)
    if -total["amount"] + await _credited_so_far(session, invoice_id, invoice["client_id"]) > invoice["amount"]:
        raise BillingInvalid("the credit notes would exceed the invoice's amount", field="lines")
    row = await repository.insert_row(
        session, "billing_invoices",
        {"client_id": invoice["client_id"], "kind": "credit_note", "status": "credit_note",
         "label": data.label or f"Avoir sur {invoice['invoice_number']}", "currency": invoice["currency"],
         "issue_date": service.today(), "due_date": service.today(), **total,
         "operation_nature": invoice["operation_nature"], "vat_on_debits": invoice["vat_on_debits"],
         "credited_invoice_id": invoice_id, "push_state": "pending", "created_by": session.principal.user_id},
    )  # fmt: skip
    await repository.replace_lines(session, "invoice_id", row["id"], lines)
    await _push(session, PUSH_INVOICE_JOB, row)
    await _audited(session, "credit_note_created", row)
    return await detail(session, row)


async def invoice_from_quote(session: UserSession, settings: Settings, quote_id: UUID) -> InvoiceDetail:
    """The accepted quote becomes a draft invoice (Pennylane's create_from_quote, in a job)."""
    quotes.require_pennylane(settings)
    quote = await quotes.load(session, quote_id, lock=True)
    if quote["status"] != "accepted" or quote["pennylane_id"] is None:
        raise BillingStateConflict("only an accepted quote becomes an invoice")
    existing = await repository.get(session, "billing_invoices", quote_id, by="quote_id")
    if existing is not None and existing["deleted_at"] is None:
        raise BillingStateConflict("this quote was already invoiced", invoice_id=str(existing["id"]))
    issue = service.today()
    row = await repository.insert_row(
        session, "billing_invoices",
        {"client_id": quote["client_id"], "label": quote["label"], "currency": quote["currency"], "issue_date": issue,
         "due_date": issue + timedelta(days=30), "amount_before_tax": quote["amount_before_tax"],
         "tax": quote["tax"], "amount": quote["amount"], "operation_nature": quote["operation_nature"],
         "vat_on_debits": quote["vat_on_debits"], "special_mention": quote["special_mention"], "quote_id": quote_id,
         "push_state": "pending", "created_by": session.principal.user_id},
    )  # fmt: skip
    originals = await repository.lines(session, "quote_id", quote_id)
    lines = [{**{k: line[k] for k in _LINE_COPY}, "client_id": quote["client_id"]} for line in originals]
    await repository.replace_lines(session, "invoice_id", row["id"], lines)
    await queue.enqueue(
        session, quotes.INVOICE_FROM_QUOTE_JOB, {"invoice_id": str(row["id"]), "quote_id": str(quote_id)},
        idempotency_key=f"{quotes.INVOICE_FROM_QUOTE_JOB}:{row['id']}", client_id=quote["client_id"],
    )  # fmt: skip
    await _audited(session, "invoice_from_quote", row)
    return await detail(session, row)
