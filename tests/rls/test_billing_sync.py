"""billing_payment_links, billing_payment_reminders, billing_sync_state and billing_exports under RLS,
in SQL: a member reads their own invoices' payment links only; reminders, the sync state and the
exports are the operator's; nobody writes them but the service role (jobs and webhooks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from tests.billing_sync.conftest import add_invoice
from tests.conftest import Tenant, User

Arranged = tuple[Tenant, Tenant]


@pytest.fixture
async def arranged(sql: asyncpg.Connection, tenant_a: Tenant, tenant_b: Tenant) -> Arranged:
    for n, tenant in enumerate((tenant_a, tenant_b)):
        invoice_id = await add_invoice(sql, tenant.id)
        await sql.execute(
            "insert into billing_payment_links (client_id, invoice_id, stripe_session_id, url, amount, currency,"
            " expires_at) values ($1, $2, $3, 'https://checkout.stripe.com/c/pay/x', 600, 'EUR', now())",
            tenant.id, invoice_id, f"cs_{n}",
        )  # fmt: skip
        await sql.execute(
            "insert into billing_payment_reminders (client_id, invoice_id, step, due_date) values ($1, $2, 'after:1',"
            " current_date)",
            tenant.id, invoice_id,
        )  # fmt: skip
    await sql.execute("insert into billing_sync_state (resource, cursor_at) values ('quotes', now())")
    await sql.execute("insert into billing_exports (period_start, period_end) values ('2026-01-01', '2026-06-30')")
    return tenant_a, tenant_b


@pytest.mark.isolates("billing_payment_links")
async def test_a_member_reads_only_their_own_invoices_payment_links(
    arranged: Arranged, as_user: Callable[[Any], Any], denied: Callable[..., Any]
) -> None:
    tenant_a, tenant_b = arranged
    async with as_user(tenant_a.member) as conn:
        rows = await conn.fetch("select client_id from public.billing_payment_links")
        assert [r["client_id"] for r in rows] == [tenant_a.id]
        for tenant in (tenant_a, tenant_b):
            assert await denied(conn, "update public.billing_payment_links set status = 'expired' where client_id = $1",
                                tenant.id)  # fmt: skip
            assert await denied(conn, "delete from public.billing_payment_links where client_id = $1", tenant.id)


@pytest.mark.isolates("billing_payment_reminders")
async def test_reminders_sync_state_and_exports_are_the_operators(
    arranged: Arranged, as_user: Callable[[Any], Any], denied: Callable[..., Any], operator: User
) -> None:
    tenant_a, _ = arranged
    async with as_user(tenant_a.member) as conn:
        for table in ("billing_payment_reminders", "billing_sync_state", "billing_exports"):
            assert await conn.fetchval(f"select count(*) from public.{table}") == 0
        assert await denied(conn, "insert into public.billing_exports (period_start, period_end)"
                                  " values ('2026-01-01', '2026-01-31')")  # fmt: skip
        assert await denied(conn, "update public.billing_sync_state set cursor_at = null")
    async with as_user(operator) as conn:
        assert await conn.fetchval("select count(*) from public.billing_payment_reminders") == 2
        assert await conn.fetchval("select count(*) from public.billing_payment_links") == 2
        assert await conn.fetchval("select count(*) from public.billing_sync_state") == 1
        assert await denied(conn, "update public.billing_sync_state set cursor_at = null")
        assert await denied(conn, "insert into public.billing_payment_reminders (client_id, invoice_id, step,"
                                  " due_date) select client_id, invoice_id, 'after:2', due_date"
                                  " from public.billing_payment_reminders limit 1")  # fmt: skip
        exported = await conn.execute(
            "insert into public.billing_exports (period_start, period_end) values ('2026-01-01', '2026-01-31')"
        )
        assert exported == "INSERT 0 1"
