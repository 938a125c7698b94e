"""Stripe webhooks: `Stripe-Signature` verified on the raw body (timestamp tolerance), applied once
per event id."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import Db
from api.problems import responses
from api.webhooks.ack import WebhookAck
from integrations.errors import WebhookSignatureError
from integrations.stripe_payments import StripePayments
from services.billing.stripe_events import apply_stripe_event
from services.core.context import request_id_var
from services.core.errors import Unauthorized
from services.core.queue import Resources

router = APIRouter(prefix="/webhooks", tags=["webhooks"], max_body_size=1024 * 1024)


@router.post("/stripe", response_model=WebhookAck, responses=responses(401, 503))
async def stripe_webhook(request: Request, db: Db) -> WebhookAck:
    """Receive a Stripe event (signed `t=…,v1=…` over the raw body, within the tolerance)."""
    resources: Resources = request.app.state.job_context.resources
    stripe = resources.get(StripePayments)
    body = await request.body()
    try:  # signature and timestamp first: a forged or replayed event reads and writes nothing
        event = stripe.parse_webhook(body, request.headers.get("stripe-signature"))
    except WebhookSignatureError as exc:
        raise Unauthorized(f"webhook rejected: {exc.message}") from exc
    async with db.service_session(request_id_var.get()) as session:
        applied = await apply_stripe_event(session, event)
    return WebhookAck(duplicate=not applied)
