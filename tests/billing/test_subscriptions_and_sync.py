"""Subscriptions through Pennylane billing subscriptions, and the entry points the changelog sync and
the Stripe webhook call (upserts by Pennylane id, deletions, payments idempotent on their external id)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import respx

from integrations.pennylane import Customer, CustomerInvoice, Product
from services.billing import service
from tests.billing.conftest import API, mock_customer_link, ok, recorded, run_jobs, set_identity
from tests.conftest import Tenant, User

SUBSCRIPTION = {"id": 777001, "status": "in_progress", "start": "2099-01-01", "next_occurrence": "2099-02-01"}


async def test_a_retainer_is_created_paused_and_cancelled_in_pennylane(
    app: Any, client: httpx.AsyncClient, operator: User, tenant_a: Tenant, pennylane: respx.MockRouter
) -> None:
    await set_identity(client, operator, tenant_a)
    mock_customer_link(pennylane)
    create = pennylane.post("/billing_subscriptions").mock(return_value=httpx.Response(200, json=SUBSCRIPTION))
    body = {
        "client_id": str(tenant_a.id), "label": "Maintenance mensuelle", "amount_before_tax": "350.00",
        "start_date": "2099-01-01", "operation_nature": "services",
    }  # fmt: skip
    created = ok(await client.post(f"{API}/subscriptions", json=body, headers=operator.headers), 201)
    assert (created["status"], created["push_state"]) == ("pending", "pending")
    await run_jobs(app)
    sent = json.loads(create.calls.last.request.content)
    assert sent["recurring_rule"] == {"type": "monthly", "interval": 1}
    assert sent["customer_invoice_data"]["invoice_lines"][0]["raw_currency_unit_price"] == "350.00"
    assert sent["mode"] == {"type": "email", "email_settings": {"recipients": ["compta@alpha.example"]}}
    url = f"{API}/subscriptions/{created['id']}"
    live = ok(await client.get(url, headers=tenant_a.member.headers))
    assert (live["pennylane_id"], live["status"], live["next_occurrence"]) == (777001, "in_progress", "2099-02-01")

    update = pennylane.put("/billing_subscriptions/777001").mock(return_value=httpx.Response(200, json=SUBSCRIPTION))
    paused = ok(await client.post(f"{url}/pause", headers=operator.headers), 202)
    assert paused["status"] == "paused" and paused["paused_at"] is not None
    await run_jobs(app)
    assert json.loads(update.calls.last.request.content) == {"status": "paused"}
    assert (await client.post(f"{url}/pause", headers=operator.headers)).status_code == 409
    ok(await client.post(f"{url}/cancel", headers=operator.headers), 202)
    await run_jobs(app)
    assert json.loads(update.calls.last.request.content) == {"status": "stopped"}
    assert (await client.post(f"{url}/resume", headers=operator.headers)).status_code == 409
    assert (await client.post(f"{url}/cancel", headers=tenant_a.member.headers)).status_code == 403


async def test_the_sync_upserts_by_pennylane_id_and_links_subscription_invoices(
    app: Any, client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    await set_identity(client, operator, tenant_a)
    customer = recorded("pennylane_customers_list")["items"][0]
    await sql.execute(
        "update public.billing_customers set pennylane_id = $1",
        recorded("pennylane_customer_invoice_create")["customer"]["id"],
    )
    subscription_id = await sql.fetchval(
        "insert into public.billing_subscriptions (client_id, pennylane_id, label, amount_before_tax, vat_rate,"
        " start_date, operation_nature) values ($1, 555, 'Maintenance', 300, 'FR_200', '2026-01-01', 'services')"
        " returning id",
        tenant_a.id,
    )
    payload = recorded("pennylane_customer_invoice_get_finalized_upcoming")
    payload["billing_subscription"] = {"id": 555}
    invoice = CustomerInvoice.model_validate(payload)
    async with app.state.db.service_session() as session:
        product_id = await service.apply_pennylane_product(
            session, Product.model_validate(recorded("pennylane_product_get"))
        )
        first = await service.apply_pennylane_invoice(session, invoice)
        again = await service.apply_pennylane_invoice(session, invoice)  # replayed change: same row, no change
        assert await service.apply_pennylane_customer(session, Customer.model_validate(customer)) is False
    assert first is not None and first == again and product_id is not None
    row = await sql.fetchrow("select * from public.billing_invoices where id = $1", first)
    assert (row["client_id"], row["subscription_id"], row["kind"], row["draft"]) == (
        tenant_a.id,
        subscription_id,
        "invoice",
        False,
    )
    assert (row["amount"], row["remaining_amount"], row["invoice_number"]) == (
        Decimal("600.00"),
        Decimal("600.00"),
        "TEST-001",
    )
    listed = ok(
        await client.get(f"{API}/invoices", params={"client_id": str(tenant_a.id)}, headers=tenant_a.member.headers)
    )
    assert [i["subscription_id"] for i in listed["items"]] == [str(subscription_id)]

    async with app.state.db.service_session() as session:
        paid, created = await service.record_payment(
            session, first, {"method": "stripe", "kind": "payment", "amount": Decimal("600.00"), "currency": "EUR",
                             "paid_on": date(2026, 11, 30)}, external_id="pi_123",
        )  # fmt: skip
        again_paid, created_again = await service.record_payment(
            session, first, {"method": "stripe", "kind": "payment", "amount": Decimal("600.00"), "currency": "EUR",
                             "paid_on": date(2026, 11, 30)}, external_id="pi_123",
        )  # fmt: skip
    assert (created, created_again, paid.id) == (True, False, again_paid.id)
    assert await sql.fetchval("select paid_amount from public.billing_invoices where id = $1", first) == Decimal(
        "600.00"
    )
    assert await sql.fetchval("select count(*) from public.jobs where kind = 'billing.mark_invoice_paid'") == 1

    async with app.state.db.service_session() as session:
        assert await service.apply_pennylane_deletion(session, "customer_invoices", invoice.id) is True
    r = await client.get(f"{API}/invoices/{first}", headers=tenant_a.member.headers)
    assert r.status_code == 404  # a deleted invoice leaves the client's view; the row stays for the audit trail
    assert await sql.fetchval("select deleted_at is not null from public.billing_invoices where id = $1", first)
