"""Queue handlers of the billing module: every Pennylane call a request decided. Each handler is
idempotent (a lease can expire under a run): what Pennylane returned is stored as soon as it exists,
and a rerun picks up from there. A refusal (4xx) or the last failed attempt marks the row's
`push_state` failed with the reason; Pennylane's PDF-not-ready 409 is retried with the queue's backoff."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from integrations.errors import NotConfiguredError, RequestError
from integrations.pennylane import (
    BillingSubscriptionCreate,
    BillingSubscriptionUpdate,
    CustomerInvoice,
    CustomerInvoiceCreate,
    CustomerInvoiceUpdate,
    EmailSettingsInput,
    Filter,
    InvoiceLineInput,
    PennylaneClient,
    QuoteCreate,
    RecurringRuleInput,
    SubscriptionInvoiceData,
    SubscriptionModeInput,
)
from services.billing import customers, einvoicing, invoices, quotes, repository, service, subscriptions
from services.billing.sync import jobs as sync_jobs
from services.core.db import Database
from services.core.errors import FoxeoError
from services.core.queue import Job, JobContext, JobHandler, PermanentJobError
from services.notifications import service as notifications

Step = Callable[[Database, PennylaneClient, UUID], Awaitable[None]]
# Pennylane calls a declined quote `denied`.
PENNYLANE_QUOTE_STATUS = {"accepted": "accepted", "declined": "denied"}
# UNVERIFIED: see BillingSubscriptionUpdate.
PENNYLANE_SUBSCRIPTION_STATUS = {"paused": "paused", "cancelled": "stopped", "in_progress": "in_progress"}


def _tracked(table: str, key: str, step: Step) -> JobHandler:
    """Run `step`; when it fails for good, say so on the row (push_state failed, push_error)."""

    async def handler(ctx: JobContext, job: Job) -> None:
        row_id = UUID(job.payload[key])
        try:
            await step(ctx.db, ctx.resources.get(PennylaneClient), row_id)
        except (NotConfiguredError, RequestError, FoxeoError, PermanentJobError) as exc:
            await _failed(ctx.db, table, row_id, exc)
            raise PermanentJobError(str(exc)) from exc
        except Exception as exc:
            if job.attempts >= job.max_attempts:
                await _failed(ctx.db, table, row_id, exc)
            raise

    return handler


async def _failed(db: Database, table: str, row_id: UUID, exc: BaseException) -> None:
    async with db.service_session() as session:
        await repository.update_row(session, table, row_id, {"push_state": "failed", "push_error": str(exc)[:4000]})


async def _row(db: Database, table: str, row_id: UUID) -> asyncpg.Record | None:
    async with db.service_session() as session:
        return await repository.get(session, table, row_id)


async def _store(db: Database, table: str, row_id: UUID, values: dict[str, Any]) -> None:
    async with db.service_session() as session:
        await repository.update_row(session, table, row_id, values)


async def _document_parts(
    db: Database, parent: str, row: asyncpg.Record
) -> tuple[asyncpg.Record, list[InvoiceLineInput], str]:
    """The customer row, the lines as Pennylane lines and the special mention (mentions re-checked)."""
    async with db.service_session() as session:
        customer = await repository.get(session, "billing_customers", row["client_id"])
        einvoicing.check(customer, row["operation_nature"])
        lines = await service.pennylane_lines(session, await repository.lines(session, parent, row["id"]))
    assert customer is not None
    mention = einvoicing.special_mention(
        customer, row["operation_nature"], row["vat_on_debits"], row["special_mention"]
    )
    return customer, lines, mention


async def _notify(db: Database, client_id: UUID, title: str, entity_type: str, entity_id: UUID) -> None:
    async with db.service_session() as session:
        await notifications.notify_client_members(
            session, client_id, source="system", title=title, entity_type=entity_type, entity_id=str(entity_id),
            link=f"/billing/{entity_type.removeprefix('billing_')}s/{entity_id}",
        )  # fmt: skip


def _recipients(customer: asyncpg.Record) -> list[str]:
    if not customer["emails"]:
        raise PermanentJobError("the client's billing identity has no e-mail to send the document to")
    return list(customer["emails"])


# ---------------------------------------------------------------- customers and quotes


async def push_customer(db: Database, pennylane: PennylaneClient, client_id: UUID) -> None:
    await customers.push(db, pennylane, client_id)


async def send_quote(db: Database, pennylane: PennylaneClient, quote_id: UUID) -> None:
    quote = await _row(db, "billing_quotes", quote_id)
    if quote is None or quote["deleted_at"] is not None:
        return
    customer_id = await customers.ensure_linked(db, pennylane, quote["client_id"])
    customer, lines, mention = await _document_parts(db, "quote_id", quote)
    if quote["pennylane_id"] is None:
        created = await pennylane.create_quote(
            QuoteCreate(
                customer_id=customer_id, date=quote["issue_date"], deadline=quote["valid_until"], invoice_lines=lines,
                label=quote["label"] or None, special_mention=mention, external_reference=f"foxeo:{quote_id}",
            )
        )  # fmt: skip
        values = {
            "pennylane_id": created.id, "quote_number": created.quote_number, "status": created.status,
            "pdf_url": created.public_file_url, "pennylane_updated_at": created.updated_at,
            # Pennylane's totals are the document's (its rounding may differ from ours by a cent).
            "amount": created.currency_amount or created.amount,
            "amount_before_tax": created.currency_amount_before_tax or quote["amount_before_tax"],
            "tax": created.currency_tax or quote["tax"],
        }  # fmt: skip
        await _store(db, "billing_quotes", quote_id, values)
        quote = await _row(db, "billing_quotes", quote_id)
        assert quote is not None
    if quote["sent_at"] is None:
        await pennylane.send_quote_by_email(quote["pennylane_id"], _recipients(customer))
        await _store(db, "billing_quotes", quote_id, {"sent_at": datetime.now(UTC)})
    if quote["pdf_sha256"] is None and quote["pdf_url"]:
        # What the client will accept is this exact file: its hash goes into every decision record.
        digest = hashlib.sha256(await pennylane.download_public_file(quote["pdf_url"])).hexdigest()
        await _store(db, "billing_quotes", quote_id, {"pdf_sha256": digest, "push_state": "done", "push_error": None})
        title = f"Nouveau devis {quote['quote_number'] or quote['label']}".strip()
        await _notify(db, quote["client_id"], title, "billing_quote", quote_id)


async def push_quote_status(db: Database, pennylane: PennylaneClient, quote_id: UUID) -> None:
    quote = await _row(db, "billing_quotes", quote_id)
    if quote is None or quote["status"] not in PENNYLANE_QUOTE_STATUS or quote["pennylane_id"] is None:
        return
    updated = await pennylane.update_quote_status(quote["pennylane_id"], PENNYLANE_QUOTE_STATUS[quote["status"]])  # type: ignore[arg-type]
    await _store(
        db,
        "billing_quotes",
        quote_id,
        {"pennylane_updated_at": updated.updated_at, "push_state": "done", "push_error": None},
    )


# ---------------------------------------------------------------- invoices


def _invoice_values(invoice: CustomerInvoice) -> dict[str, Any]:
    return {
        "pennylane_id": invoice.id, "invoice_number": invoice.invoice_number[:100], "status": invoice.status,
        "draft": invoice.draft, "paid": invoice.paid, "remaining_amount": invoice.remaining_amount_with_tax,
        "pdf_url": invoice.public_file_url, "pennylane_updated_at": invoice.updated_at,
    }  # fmt: skip


async def _existing(pennylane: PennylaneClient, invoice_id: UUID) -> CustomerInvoice | None:
    """The invoice an earlier run created but could not record (found by our external reference)."""
    page = await pennylane.list_customer_invoices([Filter("external_reference", "eq", f"foxeo:{invoice_id}")], limit=1)
    return page.items[0] if page.items else None


async def push_invoice(db: Database, pennylane: PennylaneClient, invoice_id: UUID) -> None:
    """Create the draft (or credit note) in Pennylane, or send the edited draft with PUT."""
    invoice = await _row(db, "billing_invoices", invoice_id)
    if invoice is None or invoice["deleted_at"] is not None or not invoice["draft"]:
        return
    customer_id = await customers.ensure_linked(db, pennylane, invoice["client_id"])
    _, lines, mention = await _document_parts(db, "invoice_id", invoice)
    document: dict[str, Any] = {
        "date": invoice["issue_date"], "deadline": invoice["due_date"], "invoice_lines": lines,
        "label": invoice["label"] or None, "special_mention": mention, "currency": invoice["currency"],
    }  # fmt: skip
    if invoice["pennylane_id"] is None:
        result = await _existing(pennylane, invoice_id) or await pennylane.create_customer_invoice(
            CustomerInvoiceCreate(
                customer_id=customer_id, draft=True, external_reference=f"foxeo:{invoice_id}", **document
            )
        )
        await _store(db, "billing_invoices", invoice_id, _invoice_values(result))
        if invoice["credited_invoice_id"] is not None:
            credited = await _row(db, "billing_invoices", invoice["credited_invoice_id"])
            assert credited is not None and credited["pennylane_id"] is not None  # finalized before crediting
            await pennylane.link_credit_note(credited["pennylane_id"], result.id)
    else:
        result = await pennylane.update_customer_invoice(invoice["pennylane_id"], CustomerInvoiceUpdate(**document))
    await _store(
        db, "billing_invoices", invoice_id, {**_invoice_values(result), "push_state": "done", "push_error": None}
    )


async def invoice_from_quote(db: Database, pennylane: PennylaneClient, invoice_id: UUID) -> None:
    invoice = await _row(db, "billing_invoices", invoice_id)
    if invoice is None or invoice["pennylane_id"] is not None or invoice["quote_id"] is None:
        return
    quote = await _row(db, "billing_quotes", invoice["quote_id"])
    assert quote is not None and quote["pennylane_id"] is not None
    created = await pennylane.create_customer_invoice_from_quote(quote["pennylane_id"], draft=True)
    await _store(db, "billing_invoices", invoice_id, {**_invoice_values(created), "push_state": "done"})
    await _store(db, "billing_quotes", quote["id"], {"status": "invoiced"})


async def finalize_invoice(db: Database, pennylane: PennylaneClient, invoice_id: UUID) -> None:
    invoice = await _row(db, "billing_invoices", invoice_id)
    if invoice is None or not invoice["draft"]:
        return
    # What is finalized is the draft's latest content: an edit's own push may not have run yet.
    await push_invoice(db, pennylane, invoice_id)
    invoice = await _row(db, "billing_invoices", invoice_id)
    assert invoice is not None
    finalized = await pennylane.finalize_customer_invoice(invoice["pennylane_id"])
    values = {**_invoice_values(finalized), "finalized_at": datetime.now(UTC), "push_state": "done", "push_error": None}
    await _store(db, "billing_invoices", invoice_id, values)


async def send_invoice(db: Database, pennylane: PennylaneClient, invoice_id: UUID) -> None:
    invoice = await _row(db, "billing_invoices", invoice_id)
    if invoice is None or invoice["pennylane_id"] is None:
        return
    customer = await _row(db, "billing_customers", invoice["client_id"])
    assert customer is not None
    await pennylane.send_customer_invoice_by_email(invoice["pennylane_id"], _recipients(customer))
    await _store(
        db, "billing_invoices", invoice_id, {"sent_at": datetime.now(UTC), "push_state": "done", "push_error": None}
    )
    noun = "Nouvel avoir" if invoice["kind"] == "credit_note" else "Nouvelle facture"
    await _notify(
        db, invoice["client_id"], f"{noun} {invoice['invoice_number']}".strip(), "billing_invoice", invoice_id
    )


async def mark_invoice_paid(db: Database, pennylane: PennylaneClient, invoice_id: UUID) -> None:
    invoice = await _row(db, "billing_invoices", invoice_id)
    if invoice is None or invoice["pennylane_id"] is None or invoice["paid"]:
        return
    await pennylane.mark_customer_invoice_as_paid(invoice["pennylane_id"])
    await _store(db, "billing_invoices", invoice_id, {"paid": True})


# ---------------------------------------------------------------- subscriptions


async def create_subscription(db: Database, pennylane: PennylaneClient, subscription_id: UUID) -> None:
    row = await _row(db, "billing_subscriptions", subscription_id)
    if row is None or row["pennylane_id"] is not None:
        return
    customer_id = await customers.ensure_linked(db, pennylane, row["client_id"])
    customer = await _row(db, "billing_customers", row["client_id"])
    assert customer is not None
    einvoicing.check(customer, row["operation_nature"])
    line = InvoiceLineInput(
        quantity=1, label=row["label"], raw_currency_unit_price=row["amount_before_tax"], unit="piece",
        vat_rate=row["vat_rate"],
    )  # fmt: skip
    mention = einvoicing.special_mention(customer, row["operation_nature"], row["vat_on_debits"], None)
    email = EmailSettingsInput(recipients=_recipients(customer))
    created = await pennylane.create_billing_subscription(
        BillingSubscriptionCreate(
            customer_id=customer_id, start=row["start_date"], payment_conditions=row["payment_conditions"],
            mode=SubscriptionModeInput(type="email", email_settings=email),
            payment_method="offline",
            recurring_rule=RecurringRuleInput(type="monthly", interval=row["interval_months"]),
            customer_invoice_data=SubscriptionInvoiceData(
                invoice_lines=[line], currency=row["currency"], special_mention=mention
            ),
        )
    )  # fmt: skip
    await _store(
        db, "billing_subscriptions", subscription_id,
        {"pennylane_id": created.id, "status": created.status or "in_progress",
         "next_occurrence": created.next_occurrence, "pennylane_updated_at": datetime.now(UTC), "push_state": "done",
         "push_error": None},
    )  # fmt: skip


async def update_subscription(db: Database, pennylane: PennylaneClient, subscription_id: UUID) -> None:
    row = await _row(db, "billing_subscriptions", subscription_id)
    if row is None or row["status"] not in PENNYLANE_SUBSCRIPTION_STATUS:
        return
    if row["pennylane_id"] is None:
        raise RuntimeError("the subscription is not in Pennylane yet: retry once it is created")
    update = BillingSubscriptionUpdate(status=PENNYLANE_SUBSCRIPTION_STATUS[row["status"]])
    await pennylane.update_billing_subscription(row["pennylane_id"], update)
    await _store(db, "billing_subscriptions", subscription_id, {"push_state": "done", "push_error": None})


HANDLERS: dict[str, JobHandler] = {
    customers.PUSH_CUSTOMER_JOB: _tracked("billing_customers", "client_id", push_customer),
    quotes.SEND_QUOTE_JOB: _tracked("billing_quotes", "quote_id", send_quote),
    quotes.PUSH_QUOTE_STATUS_JOB: _tracked("billing_quotes", "quote_id", push_quote_status),
    quotes.INVOICE_FROM_QUOTE_JOB: _tracked("billing_invoices", "invoice_id", invoice_from_quote),
    invoices.PUSH_INVOICE_JOB: _tracked("billing_invoices", "invoice_id", push_invoice),
    invoices.FINALIZE_INVOICE_JOB: _tracked("billing_invoices", "invoice_id", finalize_invoice),
    invoices.SEND_INVOICE_JOB: _tracked("billing_invoices", "invoice_id", send_invoice),
    service.MARK_PAID_JOB: _tracked("billing_invoices", "invoice_id", mark_invoice_paid),
    subscriptions.CREATE_SUBSCRIPTION_JOB: _tracked("billing_subscriptions", "subscription_id", create_subscription),
    subscriptions.UPDATE_SUBSCRIPTION_JOB: _tracked("billing_subscriptions", "subscription_id", update_subscription),
}

# The sync and payment half (services/billing/sync/jobs.py): changelog sync, payment links, reminders, exports.
HANDLERS |= sync_jobs.HANDLERS
JOBS = sync_jobs.JOBS
