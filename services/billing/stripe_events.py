"""Stripe webhooks, applied once per event id: a paid Checkout Session or a succeeded PaymentIntent
records the payment against its invoice (one SQL call, idempotent on the PaymentIntent), closes the
link, queues the same fact for Pennylane, and tells the operator and the client's members."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from integrations.errors import NotConfiguredError, RequestError
from integrations.pennylane import PennylaneClient
from integrations.stripe_payments import CheckoutSessionEvent, PaymentIntentEvent, StripeEvent
from services.billing.stripe_links import balance, from_minor_units
from services.billing.sync import repository
from services.core import queue
from services.core.db import ServiceSession
from services.core.queue import Job, JobContext, PermanentJobError
from services.notifications import service as notifications

log = logging.getLogger(__name__)
MARK_PAID_JOB = "billing.pennylane_mark_paid"
PAID_SESSION_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})


async def apply_stripe_event(session: ServiceSession, event: StripeEvent) -> bool:
    """Apply a verified event; False when it was already handled (a redelivery changes nothing)."""
    if not await repository.record_stripe_event(session, event.id, event.type):
        return False
    if isinstance(event, CheckoutSessionEvent):
        checkout = event.session
        if event.type in PAID_SESSION_EVENTS and checkout.payment_status == "paid":
            await repository.set_payment_link_status(session, checkout.id, "complete", checkout.payment_intent)
            await _paid(session, checkout.invoice_id, checkout.amount_total, checkout.currency,
                        checkout.payment_intent or checkout.id, event.created)  # fmt: skip
        elif event.type == "checkout.session.expired":
            await repository.set_payment_link_status(session, checkout.id, "expired")
    elif isinstance(event, PaymentIntentEvent) and event.type == "payment_intent.succeeded":
        intent = event.payment_intent
        await _paid(session, intent.invoice_id, intent.amount_received or intent.amount, intent.currency,
                    intent.id, event.created)  # fmt: skip
    return True


def _uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


async def _paid(
    session: ServiceSession,
    invoice_ref: str | None,
    minor: int | None,
    currency: str | None,
    payment_intent: str,
    at: datetime | None,
) -> None:
    invoice_id = _uuid(invoice_ref)
    invoice = await repository.invoice(session, invoice_id) if invoice_id else None
    if invoice is None or minor is None or currency is None:
        log.info("stripe payment for no invoice of ours", extra={"payment_intent": payment_intent})
        return
    amount = from_minor_units(minor, currency)
    paid_on = (at or datetime.now(UTC)).date()
    try:
        row = await repository.record_stripe_payment(
            session, invoice["id"], amount, currency.upper(), paid_on, reference=payment_intent,
            payment_intent_id=payment_intent, note="Stripe", request_id=session.request_id,
        )  # fmt: skip
    except asyncpg.PostgresError as exc:
        if not (exc.sqlstate or "").startswith("FX"):
            raise
        # Money arrived that the invoice cannot take (overpaid, cancelled): the operator settles it;
        # the reconciliation view lists it as paid in Stripe, open in Foxeo.
        await notifications.notify_operators(
            session, source="system", priority="high", title="Paiement Stripe à rapprocher",
            body=f"{amount} {currency.upper()} ({payment_intent}) : {exc}", entity_type="billing_invoice",
            entity_id=str(invoice["id"]), client_id=invoice["client_id"],
        )  # fmt: skip
        return
    if not row["created"]:
        return  # the other event of the same payment (session and intent) recorded it already
    await _announce(session, invoice, amount, currency.upper())


async def _announce(session: ServiceSession, invoice: asyncpg.Record, amount: object, currency: str) -> None:
    number = invoice["invoice_number"] or invoice["label"] or "brouillon"
    await queue.enqueue(
        session, MARK_PAID_JOB, {"invoice_id": str(invoice["id"])},
        idempotency_key=f"{MARK_PAID_JOB}:{invoice['id']}:{datetime.now(UTC):%Y%m%d%H%M%S%f}",
        client_id=invoice["client_id"],
    )  # fmt: skip
    title, entity = f"Facture {number} : paiement de {amount} {currency} reçu", str(invoice["id"])
    await notifications.notify_operators(
        session, source="system", title=title, entity_type="billing_invoice", entity_id=entity,
        client_id=invoice["client_id"],
    )  # fmt: skip
    await notifications.notify_client_members(
        session, invoice["client_id"], source="system", title=title, entity_type="billing_invoice", entity_id=entity
    )


async def mark_paid_in_pennylane(ctx: JobContext, job: Job) -> None:
    """Queue handler: once Foxeo holds the whole amount, mark the invoice paid in Pennylane (204)."""
    async with ctx.db.service_session() as session:
        invoice = await repository.invoice(session, UUID(job.payload["invoice_id"]))
    if invoice is None or invoice["paid"] or balance(invoice) > 0:
        return  # gone, already paid there, or a partial payment (Pennylane's own matching settles it)
    if invoice["pennylane_id"] is None:
        raise RuntimeError("the invoice is not in Pennylane yet: retry once it has been pushed")
    try:
        await ctx.resources.get(PennylaneClient).mark_customer_invoice_as_paid(invoice["pennylane_id"])
    except (NotConfiguredError, RequestError) as exc:
        raise PermanentJobError(str(exc)) from exc
