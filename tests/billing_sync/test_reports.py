"""Operator views over the mirror: the sync status, the reconciliation and the revenue figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx

from tests.billing_sync.conftest import add_invoice, set_cursor
from tests.conftest import Tenant, User


async def add_payment(sql: asyncpg.Connection, invoice_id: Any, amount: str, method: str, paid_on: date) -> None:
    await sql.execute(
        "select private.record_billing_payment($1, $2, 'payment', $3, 'EUR', $4, null, $5, null, null)",
        invoice_id, method, Decimal(amount), paid_on, f"pi_{invoice_id}" if method == "stripe" else None,
    )  # fmt: skip


async def add_link(sql: asyncpg.Connection, tenant: Tenant, invoice_id: Any, status: str, amount: str) -> None:
    await sql.execute(
        "insert into billing_payment_links (client_id, invoice_id, stripe_session_id, url, amount, currency, status,"
        " expires_at) values ($1, $2, $5, 'https://checkout.stripe.com/c/pay/x', $3, 'EUR', $4,"
        " now() + interval '1 hour')",
        tenant.id, invoice_id, Decimal(amount), status, f"cs_{invoice_id}",
    )  # fmt: skip


async def test_sync_status_shows_lag_and_errors_to_the_operator_only(
    client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    await set_cursor(sql, "quotes", datetime.now(UTC) - timedelta(minutes=7))
    await sql.execute("update billing_sync_state set last_error = 'pennylane: HTTP 503', last_error_at = now()")
    response = await client.get("/api/v1/billing/sync/status", headers=operator.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["configured"] is False and body["interval_seconds"] == 300
    by_name = {r["resource"]: r for r in body["resources"]}
    assert set(by_name) == {"customers", "products", "quotes", "customer_invoices"}
    assert 420 <= by_name["quotes"]["lag_seconds"] < 480 and by_name["quotes"]["last_error"] == "pennylane: HTTP 503"
    assert by_name["products"]["cursor_at"] is None and by_name["products"]["lag_seconds"] is None
    member = await client.get("/api/v1/billing/sync/status", headers=tenant_a.member.headers)
    assert member.status_code == 403


async def test_reconciliation_lists_every_disagreement(
    client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    day = date(2026, 7, 1)
    agreed = await add_invoice(sql, tenant_a.id, pennylane_id=1, issue_date=day, paid=True, remaining_amount=0)
    await add_payment(sql, agreed, "600.00", "transfer", day)
    stripe_only = await add_invoice(sql, tenant_a.id, pennylane_id=2, issue_date=day + timedelta(days=1))
    await add_payment(sql, stripe_only, "600.00", "stripe", day)
    await add_link(sql, tenant_a, stripe_only, "complete", "600.00")
    pennylane_only = await add_invoice(sql, tenant_b.id, pennylane_id=3, issue_date=day + timedelta(days=2),
                                       paid=True, remaining_amount=0)  # fmt: skip
    unpushed = await add_invoice(sql, tenant_b.id, issue_date=day + timedelta(days=3))
    await add_link(sql, tenant_b, unpushed, "open", "550.00")
    await add_invoice(sql, tenant_b.id, issue_date=day, draft=True, status="draft", invoice_number="")  # not listed

    response = await client.get("/api/v1/billing/reconciliation", headers=operator.headers, params={"limit": 2})
    assert response.status_code == 200
    first = response.json()
    following = await client.get(
        "/api/v1/billing/reconciliation", headers=operator.headers, params={"limit": 2, "cursor": first["next_cursor"]}
    )
    assert following.status_code == 200 and following.json()["next_cursor"] is None
    rows = {r["invoice_id"]: r for r in first["items"] + following.json()["items"]}
    assert list(rows) == [str(unpushed), str(pennylane_only), str(stripe_only), str(agreed)]  # newest first
    assert rows[str(agreed)]["mismatches"] == []
    assert rows[str(stripe_only)]["mismatches"] == ["stripe_paid_pennylane_open", "foxeo_paid_pennylane_open",
                                                    "pennylane_balance_differs"]  # fmt: skip
    assert (
        rows[str(stripe_only)]["stripe_status"] == "paid" and rows[str(stripe_only)]["stripe_paid_amount"] == "600.00"
    )
    assert rows[str(pennylane_only)]["mismatches"] == ["pennylane_paid_foxeo_open"]
    assert rows[str(unpushed)]["pennylane_status"] == "missing"
    assert rows[str(unpushed)]["mismatches"] == ["not_in_pennylane", "stripe_link_amount_differs"]

    only = await client.get(
        "/api/v1/billing/reconciliation", headers=operator.headers,
        params={"only_mismatches": "true", "client_id": str(tenant_a.id)},
    )  # fmt: skip
    assert only.status_code == 200 and [r["invoice_id"] for r in only.json()["items"]] == [str(stripe_only)]
    member = await client.get("/api/v1/billing/reconciliation", headers=tenant_a.member.headers)
    assert member.status_code == 403


async def test_revenue_per_month_outstanding_and_per_client(
    client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    june, july = date(2026, 6, 10), date(2026, 7, 5)
    a1 = await add_invoice(sql, tenant_a.id, issue_date=june, due_date=june + timedelta(days=30))
    await add_payment(sql, a1, "600.00", "transfer", july)
    await add_invoice(sql, tenant_a.id, issue_date=july, due_date=date(2026, 8, 4), amount=Decimal("300.00"))
    b1 = await add_invoice(sql, tenant_b.id, issue_date=july, due_date=date(2020, 1, 1) + timedelta(days=2400))
    await add_payment(sql, b1, "100.00", "cheque", july)
    credit = {"amount": Decimal("-120.00"), "tax": Decimal("-20.00"), "amount_before_tax": Decimal("-100.00")}
    await add_invoice(sql, tenant_b.id, issue_date=july, kind="credit_note", status="credit_note", **credit)
    await add_invoice(sql, tenant_b.id, issue_date=july, draft=True, status="draft", amount=Decimal("999.00"))

    response = await client.get(
        "/api/v1/billing/revenue", headers=operator.headers, params={"start": "2026-05-01", "end": "2026-07-31"}
    )
    assert response.status_code == 200
    body = response.json()
    assert [(m["month"], m["invoiced"], m["collected"]) for m in body["months"]] == [
        ("2026-05-01", "0.00", "0.00"), ("2026-06-01", "600.00", "0.00"), ("2026-07-01", "780.00", "700.00"),
    ]  # fmt: skip
    assert body["outstanding"] == "800.00"  # 300 (a) + 500 (b)
    clients = {c["client_id"]: c for c in body["clients"]}
    assert clients[str(tenant_a.id)] == {"client_id": str(tenant_a.id), "invoiced": "900.00", "collected": "600.00",
                                         "outstanding": "300.00"}  # fmt: skip
    assert clients[str(tenant_b.id)]["invoiced"] == "480.00" and clients[str(tenant_b.id)]["outstanding"] == "500.00"
    too_long = await client.get(
        "/api/v1/billing/revenue", headers=operator.headers, params={"start": "2020-01-01", "end": "2026-07-31"}
    )
    assert too_long.status_code == 422 and too_long.json()["code"] == "billing_invalid_period"
