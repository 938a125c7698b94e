"""Stripe: Checkout Sessions to pay an invoice online, and signed webhooks as typed events.

Named `stripe_payments` so that it never shadows the `stripe` SDK it wraps.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, get_args

import stripe
from pydantic import BaseModel, ConfigDict, Field

from integrations._http import parse_retry_after
from integrations.errors import (
    IntegrationError,
    NotConfiguredError,
    NotFoundError,
    RequestError,
    TransientError,
    WebhookSignatureError,
)

VENDOR = "stripe"
INVOICE_ID_KEY = "foxeo_invoice_id"
WEBHOOK_TOLERANCE = 300  # seconds, Stripe's own default

# https://docs.stripe.com/currencies#zero-decimal and #three-decimal (amounts for three-decimal
# currencies must end in 0). Special cases (ISK, HUF, TWD, UGX payouts) are not needed for EUR invoices.
ZERO_DECIMAL_CURRENCIES = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())
THREE_DECIMAL_CURRENCIES = frozenset("bhd jod kwd omr tnd".split())


def to_minor_units(amount: Decimal, currency: str) -> int:
    """`Decimal("1234.50")`, "eur" -> 123450. Refuses floats, non-positive amounts and sub-unit precision."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise TypeError("amount must be a finite Decimal")
    currency = currency.lower()
    exponent = 0 if currency in ZERO_DECIMAL_CURRENCIES else 3 if currency in THREE_DECIMAL_CURRENCIES else 2
    minor = amount.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} {currency.upper()} has more than {exponent} decimals")
    if minor <= 0:
        raise ValueError("amount must be positive")
    if exponent == 3 and minor % 10:
        raise ValueError(f"Stripe needs {currency.upper()} amounts rounded to 2 decimals")
    return int(minor)


def _datetime(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int) and value > 0 else None


def _id(value: Any) -> str | None:
    """An expandable field: either an id or the expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


class _StripeModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CheckoutSession(_StripeModel):
    id: str
    url: str | None = None
    status: str | None = None  # open | complete | expired
    payment_status: str | None = None  # paid | unpaid | no_payment_required
    amount_total: int | None = None
    currency: str | None = None
    client_reference_id: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    payment_intent: str | None = None
    expires_at: datetime | None = None

    @classmethod
    def from_stripe(cls, data: Mapping[str, Any]) -> CheckoutSession:
        return cls.model_validate(
            {
                **data,
                "payment_intent": _id(data.get("payment_intent")),
                "expires_at": _datetime(data.get("expires_at")),
                "metadata": data.get("metadata") or {},
            }
        )

    @property
    def invoice_id(self) -> str | None:
        return self.metadata.get(INVOICE_ID_KEY) or self.client_reference_id


class PaymentIntent(_StripeModel):
    id: str
    status: str | None = None
    amount: int | None = None
    amount_received: int | None = None
    currency: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    latest_charge: str | None = None
    failure_message: str | None = None
    failure_code: str | None = None

    @classmethod
    def from_stripe(cls, data: Mapping[str, Any]) -> PaymentIntent:
        error = data.get("last_payment_error") or {}
        return cls.model_validate(
            {
                **data,
                "latest_charge": _id(data.get("latest_charge")),
                "metadata": data.get("metadata") or {},
                "failure_message": error.get("message"),
                "failure_code": error.get("code"),
            }
        )

    @property
    def invoice_id(self) -> str | None:
        return self.metadata.get(INVOICE_ID_KEY)


class Charge(_StripeModel):
    id: str
    amount: int | None = None
    amount_refunded: int | None = None
    currency: str | None = None
    refunded: bool = False
    payment_intent: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def from_stripe(cls, data: Mapping[str, Any]) -> Charge:
        return cls.model_validate(
            {**data, "payment_intent": _id(data.get("payment_intent")), "metadata": data.get("metadata") or {}}
        )


class StripeEvent(_StripeModel):
    """Any verified event; the subclasses below type the ones Foxeo acts on. Dedupe on `id`."""

    id: str
    type: str
    created: datetime | None = None
    livemode: bool = False
    api_version: str | None = None
    object: dict[str, Any] = Field(default_factory=dict)  # data.object as sent
    previous_attributes: dict[str, Any] | None = None


CheckoutEventType = Literal[
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
]
PaymentIntentEventType = Literal[
    "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.processing", "payment_intent.canceled"
]
CHECKOUT_EVENTS = frozenset(get_args(CheckoutEventType))
PAYMENT_INTENT_EVENTS = frozenset(get_args(PaymentIntentEventType))


class CheckoutSessionEvent(StripeEvent):
    type: CheckoutEventType
    session: CheckoutSession


class PaymentIntentEvent(StripeEvent):
    type: PaymentIntentEventType
    payment_intent: PaymentIntent


class ChargeRefundedEvent(StripeEvent):
    type: Literal["charge.refunded"]
    charge: Charge


def event_from_payload(payload: Mapping[str, Any]) -> StripeEvent:
    data = payload.get("data") or {}
    obj = data.get("object") or {}
    kind = str(payload.get("type") or "")
    base = {
        "id": payload["id"],
        "type": kind,
        "created": _datetime(payload.get("created")),
        "livemode": bool(payload.get("livemode")),
        "api_version": payload.get("api_version"),
        "object": obj,
        "previous_attributes": data.get("previous_attributes"),
    }
    if kind in CHECKOUT_EVENTS:
        return CheckoutSessionEvent.model_validate({**base, "session": CheckoutSession.from_stripe(obj)})
    if kind in PAYMENT_INTENT_EVENTS:
        return PaymentIntentEvent.model_validate({**base, "payment_intent": PaymentIntent.from_stripe(obj)})
    if kind == "charge.refunded":
        return ChargeRefundedEvent.model_validate({**base, "charge": Charge.from_stripe(obj)})
    return StripeEvent.model_validate(base)


def map_stripe_error(exc: stripe.StripeError) -> IntegrationError:
    message = exc.user_message or exc.__class__.__name__
    status = exc.http_status
    retry_after = parse_retry_after((exc.headers or {}).get("retry-after"))
    if isinstance(exc, stripe.APIConnectionError):
        return TransientError(VENDOR, f"connection failed: {message}")
    if isinstance(exc, stripe.RateLimitError) or status == 429:
        return TransientError(VENDOR, message, status_code=429, retry_after=retry_after)
    if status is None or status >= 500 or isinstance(exc, stripe.APIError):
        return TransientError(VENDOR, message, status_code=status, retry_after=retry_after)
    cls = NotFoundError if status == 404 else RequestError
    return cls(VENDOR, status, message, exc.json_body)


class StripePayments:
    """One per process (built in the lifespan). Missing keys make only the calls that need them fail."""

    def __init__(
        self,
        secret_key: str | None,
        webhook_secret: str | None = None,
        *,
        timeout: float = 30.0,
        max_network_retries: int = 2,
        stripe_version: str | None = None,
        http_client: stripe.HTTPClient | None = None,
        webhook_tolerance: int = WEBHOOK_TOLERANCE,
    ) -> None:
        self.webhook_secret = webhook_secret or None
        self.webhook_tolerance = webhook_tolerance
        self._client: stripe.StripeClient | None = None
        self._own_http_client: stripe.HTTPClient | None = None
        if secret_key:
            if http_client is None:
                # httpx-based transport with async support (the SDK's default is requests, sync only).
                http_client = self._own_http_client = stripe.HTTPXClient(timeout=timeout)
            self._client = stripe.StripeClient(
                secret_key,
                http_client=http_client,
                max_network_retries=max_network_retries,
                stripe_version=stripe_version,
            )

    @property
    def configured(self) -> bool:
        return self._client is not None

    def _sdk(self) -> stripe.StripeClient:
        if self._client is None:
            raise NotConfiguredError(VENDOR, "STRIPE_SECRET_KEY")
        return self._client

    async def aclose(self) -> None:
        if self._own_http_client is not None:  # an injected client belongs to the caller
            await self._own_http_client.close_async()  # type: ignore[no-untyped-call]  # untyped in stripe

    async def create_checkout_session(
        self,
        *,
        invoice_id: str,
        amount: Decimal,
        currency: str,
        description: str,
        success_url: str,
        cancel_url: str,
        customer_email: str | None = None,
        metadata: Mapping[str, str] | None = None,
        expires_at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> CheckoutSession:
        """A hosted payment page for `amount` of one invoice; its `url` is the payment link to send.

        The invoice id travels as `client_reference_id` and in the metadata of both the session and the
        PaymentIntent, so every webhook about this payment can be traced back to the invoice.
        """
        client = self._sdk()
        if expires_at is not None and expires_at.tzinfo is None:
            # A naive time would be read in the server's zone and move the deadline by hours.
            raise ValueError("expires_at must be timezone-aware")
        tags = {**(metadata or {}), INVOICE_ID_KEY: invoice_id}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency.lower(),
                        "unit_amount": to_minor_units(amount, currency),
                        "product_data": {"name": description},
                    },
                }
            ],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": invoice_id,
            "metadata": tags,
            "payment_intent_data": {"metadata": tags},
        }
        if customer_email:
            params["customer_email"] = customer_email
        if expires_at is not None:
            params["expires_at"] = int(expires_at.timestamp())
        options: stripe.RequestOptions = {}
        if idempotency_key:
            options["idempotency_key"] = idempotency_key
        try:
            session = await client.v1.checkout.sessions.create_async(params, options)  # type: ignore[arg-type]
        except stripe.StripeError as exc:
            raise map_stripe_error(exc) from exc
        return CheckoutSession.from_stripe(session.to_dict())

    async def get_checkout_session(self, session_id: str) -> CheckoutSession:
        client = self._sdk()
        try:
            session = await client.v1.checkout.sessions.retrieve_async(session_id)
        except stripe.StripeError as exc:
            raise map_stripe_error(exc) from exc
        return CheckoutSession.from_stripe(session.to_dict())

    async def expire_checkout_session(self, session_id: str) -> CheckoutSession:
        """Close an open session (e.g. the invoice was paid another way or cancelled)."""
        client = self._sdk()
        try:
            session = await client.v1.checkout.sessions.expire_async(session_id)
        except stripe.StripeError as exc:
            raise map_stripe_error(exc) from exc
        return CheckoutSession.from_stripe(session.to_dict())

    def parse_webhook(self, payload: bytes | str, signature: str | None) -> StripeEvent:
        """Verify `Stripe-Signature` over the raw body (tolerance 300 s) and type the event."""
        if not self.webhook_secret:
            raise NotConfiguredError(VENDOR, "STRIPE_WEBHOOK_SECRET")
        if not signature:
            raise WebhookSignatureError(VENDOR, "missing Stripe-Signature header")
        try:
            stripe.Webhook.construct_event(payload, signature, self.webhook_secret, tolerance=self.webhook_tolerance)
        except stripe.SignatureVerificationError as exc:
            raise WebhookSignatureError(VENDOR, exc.user_message or "invalid signature") from exc
        except ValueError as exc:  # signed but not a JSON v1 event (or not UTF-8)
            raise WebhookSignatureError(VENDOR, f"unreadable payload: {exc}") from exc
        body = json.loads(payload)
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise WebhookSignatureError(VENDOR, "payload is not an event")
        return event_from_payload(body)
