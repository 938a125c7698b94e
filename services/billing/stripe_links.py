"""Stripe payment links: one Checkout Session per unpaid invoice, made by a queue job (never inside a
request transaction); the client's members read it through their invoice."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import asyncpg

from integrations.errors import NotConfiguredError, RequestError
from integrations.stripe_payments import THREE_DECIMAL_CURRENCIES, ZERO_DECIMAL_CURRENCIES, StripePayments
from services.billing.errors import InvoiceNotFound
from services.billing.sync import repository
from services.billing.sync.errors import InvoiceNotPayable
from services.billing.sync.schemas import PaymentLinkRead
from services.core import queue
from services.core.db import AnySession, UserSession
from services.core.errors import IntegrationNotConfigured
from services.core.queue import Job, JobContext, PermanentJobError
from services.core.settings import Settings

log = logging.getLogger(__name__)
PAYMENT_LINK_JOB = "billing.payment_link"
# A link about to expire is replaced rather than handed out.
FRESH_FOR = timedelta(minutes=10)


def balance(invoice: asyncpg.Record) -> Decimal:
    return Decimal(invoice["amount"]) - Decimal(invoice["paid_amount"])


def payable(invoice: asyncpg.Record) -> bool:
    """A finalized, live invoice (not a credit note) with money still owed."""
    return (
        invoice["kind"] == "invoice"
        and not invoice["draft"]
        and not invoice["paid"]
        and invoice["deleted_at"] is None
        and balance(invoice) > 0
    )


def from_minor_units(amount: int, currency: str) -> Decimal:
    code = currency.lower()
    exponent = 0 if code in ZERO_DECIMAL_CURRENCIES else 3 if code in THREE_DECIMAL_CURRENCIES else 2
    return Decimal(amount).scaleb(-exponent)


def _usable(link: asyncpg.Record | None, invoice: asyncpg.Record, now: datetime) -> bool:
    return (
        link is not None
        and link["status"] == "open"
        and link["expires_at"] > now + FRESH_FOR
        and Decimal(link["amount"]) == balance(invoice)
    )


async def payment_link(session: UserSession, settings: Settings, invoice_id: UUID) -> PaymentLinkRead:
    """The invoice's open link, or `pending` while a job makes one (the client asks again)."""
    invoice = await repository.invoice(session, invoice_id)
    if invoice is None:
        raise InvoiceNotFound()
    if not payable(invoice):
        raise InvoiceNotPayable("this invoice has nothing left to pay online")
    if settings.stripe_secret_key is None:
        raise IntegrationNotConfigured("stripe", "STRIPE_SECRET_KEY")
    link = await repository.payment_link(session, invoice_id)
    now = datetime.now(UTC)
    if link is not None and _usable(link, invoice, now):
        return PaymentLinkRead.from_link(link)
    # One job per invoice, balance and hour: asking again while it runs queues nothing more.
    key = f"{PAYMENT_LINK_JOB}:{invoice_id}:{balance(invoice)}:{now:%Y%m%d%H}"
    await queue.enqueue(session, PAYMENT_LINK_JOB, {"invoice_id": str(invoice_id)}, idempotency_key=key,
                        client_id=invoice["client_id"])  # fmt: skip
    return PaymentLinkRead(
        invoice_id=invoice_id, status="pending", url=None, amount=balance(invoice), currency=invoice["currency"],
        expires_at=None,
    )  # fmt: skip


def _url(settings: Settings, path: str) -> str:
    return path if path.startswith("https://") else settings.public_base_url.rstrip("/") + path


async def make_payment_link(ctx: JobContext, job: Job) -> None:
    """Queue handler: a Checkout Session for the invoice's balance, replacing a stale one."""
    invoice_id = UUID(job.payload["invoice_id"])
    async with ctx.db.service_session() as session:
        invoice = await repository.invoice(session, invoice_id)
        link = await repository.payment_link(session, invoice_id)
    now = datetime.now(UTC)
    if invoice is None or not payable(invoice) or _usable(link, invoice, now):
        return
    stripe = ctx.resources.get(StripePayments)
    amount, hours = balance(invoice), ctx.settings.billing_payment_link_hours
    try:
        checkout = await stripe.create_checkout_session(
            invoice_id=str(invoice_id), amount=amount, currency=invoice["currency"],
            description=f"Facture {invoice['invoice_number'] or invoice['label'] or invoice_id}"[:250],
            success_url=_url(ctx.settings, ctx.settings.stripe_success_path),
            cancel_url=_url(ctx.settings, ctx.settings.stripe_cancel_path),
            metadata={"client_id": str(invoice["client_id"])}, expires_at=now + timedelta(hours=hours),
            idempotency_key=f"foxeo-{invoice_id}-{amount}-{now:%Y%m%d%H}",
        )  # fmt: skip
    except (NotConfiguredError, RequestError) as exc:
        raise PermanentJobError(str(exc)) from exc
    if checkout.url is None:
        raise PermanentJobError(f"Stripe returned checkout session {checkout.id} without a URL")
    async with ctx.db.service_session() as session:
        await repository.save_payment_link(
            session, client_id=invoice["client_id"], invoice_id=invoice_id, session_id=checkout.id, url=checkout.url,
            amount=amount, currency=invoice["currency"], expires_at=checkout.expires_at or now + timedelta(hours=hours),
        )  # fmt: skip
    if link is not None and link["status"] == "open" and link["stripe_session_id"] != checkout.id:
        await _expire_quietly(stripe, link["stripe_session_id"])


async def _expire_quietly(stripe: StripePayments, session_id: str) -> None:
    """Close the replaced session so an old link cannot collect a stale amount; it may be gone already."""
    try:
        await stripe.expire_checkout_session(session_id)
    except RequestError as exc:
        log.info("stale checkout session not expired", extra={"session": session_id, "error": str(exc)})


async def enqueue_payment_link(session: AnySession, invoice_id: UUID, client_id: UUID) -> None:
    """Ask for a link ahead of the client (a reminder is about to point at it)."""
    key = f"{PAYMENT_LINK_JOB}:{invoice_id}:{datetime.now(UTC):%Y%m%d%H}"
    await queue.enqueue(session, PAYMENT_LINK_JOB, {"invoice_id": str(invoice_id)}, idempotency_key=key,
                        client_id=client_id)  # fmt: skip
