"""Stripe webhooks, applied once per event id: a paid Checkout Session or a succeeded PaymentIntent
records the payment against its invoice (one SQL call, idempotent on the PaymentIntent), closes the
link, queues the same fact for Pennylane, and tells the operator and the client's members."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from integrations.stripe_payments import CheckoutSessionEvent, PaymentIntentEvent, StripeEvent
from services.billing import service
from services.billing.errors import BillingInvalid, BillingStateConflict, InvoiceNotFound
from services.billing.stripe_links import from_minor_units
from services.billing.sync import repository
from services.core.db import ServiceSession
from services.notifications import service as notifications

log = logging.getLogger(__name__)
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
    payment = {
        "method": "stripe", "kind": "payment", "amount": amount, "currency": currency.upper(),
        "paid_on": (at or datetime.now(UTC)).date(), "reference": payment_intent, "note": "Stripe",
    }  # fmt: skip
    try:
        async with repository.savepoint(session):
            _, created = await service.record_payment(session, invoice["id"], payment, external_id=payment_intent)
    except (InvoiceNotFound, BillingStateConflict, BillingInvalid) as exc:
        # Money arrived that the invoice cannot take (overpaid, cancelled): the operator settles it;
        # the reconciliation view lists it as paid in Stripe, open in Foxeo.
        await notifications.notify_operators(
            session, source="system", priority="high", title="Paiement Stripe à rapprocher",
            body=f"{amount} {currency.upper()} ({payment_intent}) : {exc.detail}", entity_type="billing_invoice",
            entity_id=str(invoice["id"]), client_id=invoice["client_id"],
        )  # fmt: skip
        return
    if created:  # else the other event of the same payment (session and intent) recorded it already
        await _announce(session, invoice, amount, currency.upper())


async def _announce(session: ServiceSession, invoice: asyncpg.Record, amount: object, currency: str) -> None:
    """Pennylane is told by the core's mark-paid job (queued by record_payment once fully paid)."""
    number = invoice["invoice_number"] or invoice["label"] or "brouillon"
    title, entity = f"Facture {number} : paiement de {amount} {currency} reçu", str(invoice["id"])
    await notifications.notify_operators(
        session, source="system", title=title, entity_type="billing_invoice", entity_id=entity,
        client_id=invoice["client_id"],
    )  # fmt: skip
    await notifications.notify_client_members(
        session, invoice["client_id"], source="system", title=title, entity_type="billing_invoice", entity_id=entity
    )
