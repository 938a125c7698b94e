"""Stripe through the real SDK (its httpx transport), HTTP mocked with respx; webhooks signed like Stripe."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
import stripe

from integrations.errors import (
    NotConfiguredError,
    NotFoundError,
    RequestError,
    TransientError,
    WebhookSignatureError,
)
from integrations.stripe_payments import (
    INVOICE_ID_KEY,
    ChargeRefundedEvent,
    CheckoutSessionEvent,
    PaymentIntentEvent,
    StripeEvent,
    StripePayments,
    to_minor_units,
)

SESSIONS_URL = "https://api.stripe.com/v1/checkout/sessions"
SECRET = "whsec_test_secret"


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """`Stripe-Signature` exactly as Stripe computes it: HMAC-SHA256(secret, f"{t}.{body}")."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def session_object(**overrides: Any) -> dict[str, Any]:
    """A `checkout.session` as the API returns it (trimmed to stable fields)."""
    return {
        "id": "cs_test_a1B2c3",
        "object": "checkout.session",
        "mode": "payment",
        "status": "open",
        "payment_status": "unpaid",
        "amount_subtotal": 123450,
        "amount_total": 123450,
        "currency": "eur",
        "client_reference_id": "inv-42",
        "customer": None,
        "customer_email": "client@example.com",
        "expires_at": 1767348000,
        "livemode": False,
        "metadata": {INVOICE_ID_KEY: "inv-42", "client_id": "c-7"},
        "payment_intent": None,
        "success_url": "https://app.foxeo.test/paid",
        "cancel_url": "https://app.foxeo.test/cancel",
        "url": "https://checkout.stripe.com/c/pay/cs_test_a1B2c3",
    } | overrides


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
async def payments() -> AsyncIterator[StripePayments]:
    client = StripePayments("sk_test_123", SECRET, max_network_retries=0)
    yield client
    await client.aclose()


# ------------------------------------------------------------------------------------ minor units


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("1234.50", "EUR", 123450), ("0.5", "eur", 50), ("500", "JPY", 500), ("1.230", "KWD", 1230)],
)
def test_to_minor_units(amount: str, currency: str, minor: int) -> None:
    assert to_minor_units(Decimal(amount), currency) == minor


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("10.005", "EUR"), ("500.5", "JPY"), ("0", "EUR"), ("-3", "EUR"), ("1.234", "KWD"), ("NaN", "EUR")],
)
def test_to_minor_units_refuses(amount: str, currency: str) -> None:
    with pytest.raises((ValueError, TypeError)):
        to_minor_units(Decimal(amount), currency)


def test_to_minor_units_refuses_floats() -> None:
    with pytest.raises(TypeError):
        to_minor_units(12.5, "EUR")  # type: ignore[arg-type]


# -------------------------------------------------------------------------------------- checkout


async def test_create_checkout_session(router: respx.MockRouter, payments: StripePayments) -> None:
    route = router.post(SESSIONS_URL).respond(200, json=session_object())

    session = await payments.create_checkout_session(
        invoice_id="inv-42",
        amount=Decimal("1234.50"),
        currency="EUR",
        description="Facture F-2026-042",
        success_url="https://app.foxeo.test/paid",
        cancel_url="https://app.foxeo.test/cancel",
        customer_email="client@example.com",
        metadata={"client_id": "c-7"},
        expires_at=datetime(2026, 1, 2, 10, 0, tzinfo=UTC),
        idempotency_key="checkout-inv-42-1",
    )

    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer sk_test_123"
    assert request.headers["idempotency-key"] == "checkout-inv-42-1"
    assert request.headers["stripe-version"] == stripe.api_version
    form = dict(parse_qsl(request.content.decode()))
    assert form == {
        "mode": "payment",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "eur",
        "line_items[0][price_data][unit_amount]": "123450",
        "line_items[0][price_data][product_data][name]": "Facture F-2026-042",
        "success_url": "https://app.foxeo.test/paid",
        "cancel_url": "https://app.foxeo.test/cancel",
        "client_reference_id": "inv-42",
        f"metadata[{INVOICE_ID_KEY}]": "inv-42",
        "metadata[client_id]": "c-7",
        f"payment_intent_data[metadata][{INVOICE_ID_KEY}]": "inv-42",
        "payment_intent_data[metadata][client_id]": "c-7",
        "customer_email": "client@example.com",
        "expires_at": str(int(datetime(2026, 1, 2, 10, 0, tzinfo=UTC).timestamp())),
    }
    assert session.id == "cs_test_a1B2c3"
    assert session.url == "https://checkout.stripe.com/c/pay/cs_test_a1B2c3"
    assert session.amount_total == 123450
    assert session.invoice_id == "inv-42"
    assert session.expires_at == datetime.fromtimestamp(1767348000, UTC)


async def test_naive_expires_at_is_refused_before_any_call(router: respx.MockRouter, payments: StripePayments) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await payments.create_checkout_session(
            invoice_id="inv-42",
            amount=Decimal("10"),
            currency="EUR",
            description="Facture",
            success_url="https://app.foxeo.test/paid",
            cancel_url="https://app.foxeo.test/cancel",
            expires_at=datetime(2026, 1, 2, 10, 0),
        )
    assert not router.calls  # and any call would have hit no route (assert_all_mocked)


async def test_get_and_expire_checkout_session(router: respx.MockRouter, payments: StripePayments) -> None:
    router.get(f"{SESSIONS_URL}/cs_test_a1B2c3").respond(
        200, json=session_object(status="complete", payment_status="paid", payment_intent="pi_1")
    )
    router.post(f"{SESSIONS_URL}/cs_test_a1B2c3/expire").respond(200, json=session_object(status="expired"))

    got = await payments.get_checkout_session("cs_test_a1B2c3")
    expired = await payments.expire_checkout_session("cs_test_a1B2c3")

    assert (got.status, got.payment_status, got.payment_intent) == ("complete", "paid", "pi_1")
    assert expired.status == "expired"


def stripe_error(kind: str, message: str, code: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "type": kind,
            "message": message,
            "code": code,
            "request_log_url": "https://dashboard.stripe.com/test/logs/req_1",
        }
    }


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, stripe_error("invalid_request_error", "Invalid integer: abc", "parameter_invalid_integer"), RequestError),
        (401, stripe_error("invalid_request_error", "Invalid API Key provided: sk_test_***123"), RequestError),
        (404, stripe_error("invalid_request_error", "No such checkout.session", "resource_missing"), NotFoundError),
        (429, stripe_error("invalid_request_error", "Too many requests", "rate_limit"), TransientError),
        (500, stripe_error("api_error", "Something went wrong"), TransientError),
    ],
)
async def test_errors_are_mapped(
    router: respx.MockRouter, payments: StripePayments, status: int, body: dict[str, Any], error: type[Exception]
) -> None:
    router.get(f"{SESSIONS_URL}/cs_x").respond(status, json=body, headers={"request-id": "req_1"})
    with pytest.raises(error) as caught:
        await payments.get_checkout_session("cs_x")
    assert type(caught.value) is error
    if isinstance(caught.value, RequestError):
        assert caught.value.status_code == status
        assert caught.value.vendor_message == body["error"]["message"]


async def test_connection_error_is_transient(router: respx.MockRouter, payments: StripePayments) -> None:
    router.get(f"{SESSIONS_URL}/cs_x").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(TransientError):
        await payments.get_checkout_session("cs_x")


async def test_not_configured() -> None:
    client = StripePayments(None)
    assert not client.configured
    with pytest.raises(NotConfiguredError) as caught:
        await client.get_checkout_session("cs_x")
    assert caught.value.setting == "STRIPE_SECRET_KEY"
    with pytest.raises(NotConfiguredError) as caught:
        client.parse_webhook(b"{}", "t=1,v1=00")
    assert caught.value.setting == "STRIPE_WEBHOOK_SECRET"


# --------------------------------------------------------------------------------------- webhooks


def event_body(kind: str, obj: dict[str, Any]) -> str:
    return json.dumps(
        {
            "id": "evt_1Q",
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": 1767261600,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
            "data": {"object": obj},
        },
        indent=2,
    )


def test_signature_helper_matches_stripe() -> None:
    payload = event_body("checkout.session.completed", session_object())
    assert sign(payload, SECRET, 1767261600) == stripe.WebhookSignature.generate_signature_header(
        payload, SECRET, timestamp=1767261600
    )


def test_recorded_fixture_header(payments: StripePayments, fixture_json: Callable[[str], Any]) -> None:
    recorded = fixture_json("stripe_webhook_signed_dummy_event.json")
    body, header = recorded["_raw_body"], recorded["_headers"]["Stripe-Signature"]
    # Signed on 2026-01-01: far outside the 300 s tolerance...
    with pytest.raises(WebhookSignatureError, match="tolerance"):
        payments.parse_webhook(body, header)
    # ...and valid once the timestamp check is off.
    lenient = StripePayments(None, recorded["_webhook_secret"], webhook_tolerance=0)
    event = lenient.parse_webhook(body.encode(), header)
    assert type(event) is StripeEvent
    assert event.id == "evt_test_webhook"
    assert event.object == {"id": "rdr_123", "object": "terminal.reader"}


def test_checkout_completed(payments: StripePayments) -> None:
    payload = event_body(
        "checkout.session.completed", session_object(status="complete", payment_status="paid", payment_intent="pi_3Q")
    )
    event = payments.parse_webhook(payload.encode(), sign(payload, SECRET))
    assert isinstance(event, CheckoutSessionEvent)
    assert event.id == "evt_1Q"
    assert event.created == datetime.fromtimestamp(1767261600, UTC)
    assert event.session.payment_status == "paid"
    assert event.session.invoice_id == "inv-42"
    assert event.session.payment_intent == "pi_3Q"


def test_payment_intent_events(payments: StripePayments) -> None:
    intent = {
        "id": "pi_3Q",
        "object": "payment_intent",
        "amount": 123450,
        "amount_received": 0,
        "currency": "eur",
        "status": "requires_payment_method",
        "metadata": {INVOICE_ID_KEY: "inv-42"},
        "latest_charge": {"id": "ch_1", "object": "charge"},
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
    }
    payload = event_body("payment_intent.payment_failed", intent)
    failed = payments.parse_webhook(payload, sign(payload, SECRET))
    assert isinstance(failed, PaymentIntentEvent)
    assert failed.payment_intent.invoice_id == "inv-42"
    assert failed.payment_intent.failure_code == "card_declined"
    assert failed.payment_intent.latest_charge == "ch_1"

    paid = intent | {"status": "succeeded", "amount_received": 123450, "last_payment_error": None}
    payload = event_body("payment_intent.succeeded", paid)
    succeeded = payments.parse_webhook(payload, sign(payload, SECRET))
    assert isinstance(succeeded, PaymentIntentEvent)
    assert succeeded.type == "payment_intent.succeeded"
    assert succeeded.payment_intent.amount_received == 123450
    assert succeeded.payment_intent.failure_message is None


def test_refund_and_unknown_events(payments: StripePayments) -> None:
    charge = {
        "id": "ch_1",
        "object": "charge",
        "amount": 5000,
        "amount_refunded": 5000,
        "currency": "eur",
        "refunded": True,
        "payment_intent": "pi_3Q",
        "metadata": {},
    }
    payload = event_body("charge.refunded", charge)
    refunded = payments.parse_webhook(payload, sign(payload, SECRET))
    assert isinstance(refunded, ChargeRefundedEvent)
    assert refunded.charge.amount_refunded == 5000

    payload = event_body("customer.created", {"id": "cus_1", "object": "customer"})
    other = payments.parse_webhook(payload, sign(payload, SECRET))
    assert type(other) is StripeEvent
    assert other.type == "customer.created"
    assert other.object["id"] == "cus_1"


@pytest.mark.parametrize(
    ("case", "match"),
    [
        ("tampered", "matching"),
        ("wrong_secret", "matching"),
        ("too_old", "tolerance"),
        ("missing", "missing"),
        ("garbage", "extract"),
    ],
)
def test_bad_signatures(payments: StripePayments, case: str, match: str) -> None:
    payload = event_body("checkout.session.completed", session_object())
    header: str | None = {
        "tampered": sign(payload, SECRET),
        "wrong_secret": sign(payload, "whsec_other"),
        "too_old": sign(payload, SECRET, int(time.time()) - 301),
        "missing": None,
        "garbage": "v1=abc",
    }[case]
    body = payload.replace("123450", "1") if case == "tampered" else payload
    with pytest.raises(WebhookSignatureError, match=match):
        payments.parse_webhook(body, header)


def test_just_inside_tolerance_is_accepted(payments: StripePayments) -> None:
    payload = event_body("checkout.session.expired", session_object(status="expired"))
    event = payments.parse_webhook(payload, sign(payload, SECRET, int(time.time()) - 290))
    assert isinstance(event, CheckoutSessionEvent)
    assert event.type == "checkout.session.expired"


def test_signed_non_json_is_refused(payments: StripePayments) -> None:
    with pytest.raises(WebhookSignatureError):
        payments.parse_webhook("not json", sign("not json", SECRET))
