"""POST /api/v1/webhooks/stripe signed with the stripe package's own scheme (t=…,v1=HMAC-SHA256 of
"{t}.{body}"), and the Stripe payment link a client asks for."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
import respx
import stripe
from pydantic import SecretStr

from integrations.stripe_payments import INVOICE_ID_KEY
from services.core.jobs import registered_handlers
from services.core.settings import Settings
from services.core.worker import Worker
from tests.billing_sync.conftest import BASE, add_invoice
from tests.conftest import Tenant, User

SECRET = "whsec_test_secret"
WEBHOOK = "/api/v1/webhooks/stripe"
SESSIONS = "https://api.stripe.com/v1/checkout/sessions"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "stripe_secret_key": SecretStr("sk_test_123"),
            "stripe_webhook_secret": SecretStr(SECRET),
            "pennylane_api_token": SecretStr("pl-token"),
        }
    )


@pytest.fixture
def vendors() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=True) as router:
        yield router


def checkout_session(invoice_id: UUID, **changes: Any) -> dict[str, Any]:
    """A `checkout.session` as Stripe sends it (trimmed to stable fields), for one of our invoices."""
    return {
        "id": "cs_test_a1B2c3", "object": "checkout.session", "mode": "payment", "status": "complete",
        "payment_status": "paid", "amount_subtotal": 60000, "amount_total": 60000, "currency": "eur",
        "client_reference_id": str(invoice_id), "customer": None, "customer_email": None,
        "expires_at": int(time.time()) + 3600, "livemode": False,
        "metadata": {INVOICE_ID_KEY: str(invoice_id)}, "payment_intent": "pi_3Qabc",
        "url": None,
    } | changes  # fmt: skip


def event(kind: str, obj: dict[str, Any], event_id: str = "evt_1Q") -> str:
    return json.dumps(
        {
            "id": event_id, "object": "event", "api_version": "2026-10-28.endive", "created": int(time.time()),
            "livemode": False, "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
            "type": kind, "data": {"object": obj},
        },
        indent=2,
    )  # fmt: skip


async def deliver(
    client: httpx.AsyncClient, body: str, *, secret: str = SECRET, at: int | None = None
) -> httpx.Response:
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=at)
    return await client.post(WEBHOOK, content=body.encode(), headers={"Stripe-Signature": header})


async def counts(sql: asyncpg.Connection) -> tuple[int, int, int]:
    return (
        await sql.fetchval("select count(*) from webhook_events where sender = 'stripe'"),
        await sql.fetchval("select count(*) from billing_payments"),
        await sql.fetchval("select count(*) from notifications"),
    )


async def test_a_paid_checkout_marks_the_invoice_paid_once_and_tells_everyone(
    app: Any, client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant,
    vendors: respx.MockRouter,
) -> None:  # fmt: skip
    invoice_id = await add_invoice(sql, tenant_a.id, pennylane_id=25465638002688)
    body = event("checkout.session.completed", checkout_session(invoice_id))
    first = await deliver(client, body)
    assert first.status_code == 200 and first.json() == {"received": True, "duplicate": False}
    again = await deliver(client, body)  # Stripe redelivers
    assert again.status_code == 200 and again.json()["duplicate"] is True
    intent = {"id": "pi_3Qabc", "object": "payment_intent", "amount": 60000, "amount_received": 60000,
              "currency": "eur", "status": "succeeded", "metadata": {INVOICE_ID_KEY: str(invoice_id)}}  # fmt: skip
    second_event = await deliver(client, event("payment_intent.succeeded", intent, "evt_2Q"))
    assert second_event.status_code == 200 and second_event.json()["duplicate"] is False

    payment = await sql.fetchrow("select * from billing_payments")
    assert (payment["method"], payment["amount"], payment["external_id"]) == ("stripe", Decimal("600.00"), "pi_3Qabc")
    assert await sql.fetchval("select paid_amount from billing_invoices where id = $1", invoice_id) == 600
    assert await counts(sql) == (2, 1, 2)  # two events, one payment, one notice to the operator and one to the member
    notified = {r[0] for r in await sql.fetch("select user_id from notifications")}
    assert notified == {operator.id, tenant_a.member.id}

    mark_paid = vendors.put(f"{BASE}/customer_invoices/25465638002688/mark_as_paid").mock(
        return_value=httpx.Response(204)
    )
    await Worker(app.state.job_context, registered_handlers()).run_pending()  # the core's mark-paid job
    assert mark_paid.call_count == 1
    assert await sql.fetchval("select paid from billing_invoices where id = $1", invoice_id) is True


@pytest.mark.parametrize("case", ["forged", "replayed", "unsigned"])
async def test_forged_replayed_and_unsigned_events_are_refused(
    client: httpx.AsyncClient, sql: asyncpg.Connection, tenant_a: Tenant, case: str
) -> None:
    invoice_id = await add_invoice(sql, tenant_a.id)
    body = event("checkout.session.completed", checkout_session(invoice_id))
    if case == "unsigned":
        response = await client.post(WEBHOOK, content=body.encode())
    else:
        secret, at = ("whsec_someone_else", None) if case == "forged" else (SECRET, int(time.time()) - 301)
        response = await deliver(client, body, secret=secret, at=at)
    assert response.status_code == 401 and response.json()["code"] == "unauthorized"
    assert await counts(sql) == (0, 0, 0)


async def test_an_event_for_no_invoice_of_ours_is_acknowledged_and_ignored(
    client: httpx.AsyncClient, sql: asyncpg.Connection
) -> None:
    other = checkout_session(UUID(int=7)) | {"metadata": {}, "client_reference_id": "not-ours"}
    response = await deliver(client, event("checkout.session.completed", other))
    assert response.status_code == 200 and response.json()["duplicate"] is False
    assert await counts(sql) == (1, 0, 0)


async def test_an_overpayment_is_left_to_the_operator(
    client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    invoice_id = await add_invoice(sql, tenant_a.id)
    response = await deliver(
        client, event("checkout.session.completed", checkout_session(invoice_id, amount_total=90000))
    )
    assert response.status_code == 200
    assert await counts(sql) == (1, 0, 1)
    assert await sql.fetchval("select title from notifications") == "Paiement Stripe à rapprocher"


async def test_the_client_gets_a_payment_link_made_by_a_job(
    app: Any, client: httpx.AsyncClient, sql: asyncpg.Connection, tenant_a: Tenant, tenant_b: Tenant,
    vendors: respx.MockRouter,
) -> None:  # fmt: skip
    invoice_id = await add_invoice(sql, tenant_a.id, paid_amount=Decimal("100.00"))
    url = f"/api/v1/billing/invoices/{invoice_id}/payment-link"
    pending = await client.post(url, headers=tenant_a.member.headers)
    assert pending.status_code == 200
    assert pending.json() | {"expires_at": None} == {
        "invoice_id": str(invoice_id),
        "status": "pending",
        "url": None,
        "amount": "500.00",
        "currency": "EUR",
        "expires_at": None,
    }
    stranger = await client.post(url, headers=tenant_b.member.headers)
    assert stranger.status_code == 404

    made = checkout_session(invoice_id, status="open", payment_status="unpaid", amount_total=50000, payment_intent=None,
                            url="https://checkout.stripe.com/c/pay/cs_test_a1B2c3")  # fmt: skip
    create = vendors.post(SESSIONS).mock(return_value=httpx.Response(200, json=made))
    await Worker(app.state.job_context, registered_handlers()).run_pending()
    assert create.call_count == 1
    form = dict(httpx.QueryParams(create.calls[0].request.content.decode()))
    assert form["line_items[0][price_data][unit_amount]"] == "50000" and form["client_reference_id"] == str(invoice_id)

    ready = await client.post(url, headers=tenant_a.member.headers)
    assert ready.status_code == 200
    assert ready.json()["status"] == "open" and ready.json()["url"] == made["url"]


async def test_a_paid_or_draft_invoice_has_no_payment_link(
    client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    paid = await add_invoice(sql, tenant_a.id, paid=True)
    response = await client.post(f"/api/v1/billing/invoices/{paid}/payment-link", headers=operator.headers)
    assert response.status_code == 409 and response.json()["code"] == "billing_invoice_not_payable"


class TestNotConfigured:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"stripe_secret_key": None, "stripe_webhook_secret": None})

    async def test_the_webhook_and_the_link_answer_503_naming_the_setting(
        self, client: httpx.AsyncClient, sql: asyncpg.Connection, tenant_a: Tenant
    ) -> None:
        hook = await client.post(WEBHOOK, content=b"{}", headers={"Stripe-Signature": "t=1,v1=00"})
        assert hook.status_code == 503 and hook.json()["setting"] == "STRIPE_WEBHOOK_SECRET"
        invoice_id = await add_invoice(sql, tenant_a.id)
        link = await client.post(f"/api/v1/billing/invoices/{invoice_id}/payment-link", headers=tenant_a.member.headers)
        assert link.status_code == 503 and link.json()["setting"] == "STRIPE_SECRET_KEY"
