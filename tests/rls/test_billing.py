"""Billing tables under RLS, in SQL: a member reads only their own client's identity, sent quotes,
finalized invoices, payments, subscriptions and quote decisions; drafts stay the operator's; members
write nothing directly (a decision goes through private.decide_billing_quote, for their own quote only)."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests.conftest import Tenant, User

TABLES = (
    "billing_customers", "billing_quotes", "billing_quote_lines", "billing_invoices", "billing_invoice_lines",
    "billing_payments", "billing_subscriptions", "billing_quote_acceptances",
)  # fmt: skip
LINE = (
    "insert into public.{table} (client_id, {parent}, position, label, quantity, unit_price, vat_rate,"
    " amount_before_tax, tax, amount) values ($1, $2, $3, 'Ligne', 1, 100, 'FR_200', 100, 20, 120)"
)
SHA = "0" * 64


async def _arrange(sql: asyncpg.Connection, tenant: Tenant) -> dict[str, Any]:
    await sql.execute(
        "insert into public.billing_customers (client_id, kind, legal_name, siren, billing_address)"
        " values ($1, 'company', 'Client', '732829320', '{\"address\": \"1 rue\"}')",
        tenant.id,
    )
    ids: dict[str, Any] = {}
    for status in ("draft", "pending"):
        ids[f"quote_{status}"] = quote = await sql.fetchval(
            "insert into public.billing_quotes (client_id, status, issue_date, valid_until, amount, pdf_sha256)"
            " values ($1, $2, current_date, current_date + 30, 120, $3) returning id",
            tenant.id, status, SHA,
        )  # fmt: skip
        await sql.execute(LINE.format(table="billing_quote_lines", parent="quote_id"), tenant.id, quote, 0)
    for draft in (True, False):
        ids[f"invoice_{draft}"] = invoice = await sql.fetchval(
            "insert into public.billing_invoices (client_id, draft, issue_date, due_date, amount)"
            " values ($1, $2, current_date, current_date + 30, 120) returning id",
            tenant.id, draft,
        )  # fmt: skip
        await sql.execute(LINE.format(table="billing_invoice_lines", parent="invoice_id"), tenant.id, invoice, 0)
    await sql.execute(
        "insert into public.billing_payments (client_id, invoice_id, method, amount, paid_on, reference)"
        " values ($1, $2, 'transfer', 50, current_date, 'VIR')",
        tenant.id, ids["invoice_False"],
    )  # fmt: skip
    await sql.execute(
        "insert into public.billing_subscriptions (client_id, label, amount_before_tax, vat_rate, start_date,"
        " operation_nature) values ($1, 'Maintenance', 300, 'FR_200', current_date, 'services')",
        tenant.id,
    )
    await sql.execute(
        "insert into public.billing_quote_acceptances (client_id, quote_id, decision, user_id, pdf_sha256, amount,"
        " currency, decided_at, payload, signature) values ($1, $2, 'accepted', $3, $4, 120, 'EUR', now(), '{}', $4)",
        tenant.id, ids["quote_pending"], tenant.member.id, SHA,
    )  # fmt: skip
    return ids


@pytest.fixture
async def arranged(sql: asyncpg.Connection, tenant_a: Tenant, tenant_b: Tenant) -> dict[str, dict[str, Any]]:
    await sql.execute(
        "insert into public.billing_products (pennylane_id, label, price_before_tax, vat_rate)"
        " values (1, 'P', 1, 'FR_200')"
    )
    return {"a": await _arrange(sql, tenant_a), "b": await _arrange(sql, tenant_b)}


@pytest.mark.isolates(*TABLES)
@pytest.mark.parametrize("table", TABLES)
async def test_member_reads_only_their_own_clients_rows(
    arranged: dict[str, dict[str, Any]], as_user: Any, tenant_a: Tenant, table: str
) -> None:
    async with as_user(tenant_a.member) as conn:
        assert {r[0] for r in await conn.fetch(f"select client_id from public.{table}")} == {tenant_a.id}


async def test_member_sees_no_drafts_nor_products(
    arranged: dict[str, dict[str, Any]], as_user: Any, tenant_a: Tenant
) -> None:
    async with as_user(tenant_a.member) as conn:
        assert [r[0] for r in await conn.fetch("select id from public.billing_quotes")] == [
            arranged["a"]["quote_pending"]
        ]
        assert [r[0] for r in await conn.fetch("select id from public.billing_invoices")] == [
            arranged["a"]["invoice_False"]
        ]
        assert await conn.fetchval("select count(*) from public.billing_quote_lines") == 1
        assert await conn.fetchval("select count(*) from public.billing_invoice_lines") == 1
        assert await conn.fetchval("select count(*) from public.billing_products") == 0


async def test_operator_reads_everything(arranged: dict[str, dict[str, Any]], as_user: Any, operator: User) -> None:
    async with as_user(operator) as conn:
        assert await conn.fetchval("select count(*) from public.billing_quotes") == 4
        assert await conn.fetchval("select count(*) from public.billing_invoices") == 4
        assert await conn.fetchval("select count(*) from public.billing_products") == 1


async def test_member_writes_nothing_directly(
    arranged: dict[str, dict[str, Any]], as_user: Any, denied: Any, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    own = arranged["a"]
    async with as_user(tenant_a.member) as conn:
        assert await denied(
            conn, "update public.billing_quotes set status = 'accepted' where id = $1", own["quote_pending"]
        )
        assert await denied(conn, "update public.billing_invoices set paid = true where id = $1", own["invoice_False"])
        assert await denied(
            conn, "update public.billing_customers set legal_name = 'X' where client_id = $1", tenant_a.id
        )
        assert await denied(
            conn,
            "insert into public.billing_payments (client_id, invoice_id, method, amount, paid_on)"
            " values ($1, $2, 'cash', 1, current_date)",
            tenant_a.id, own["invoice_False"],
        )  # fmt: skip
        assert await denied(conn, "delete from public.billing_quote_lines where client_id = $1", tenant_a.id)


async def test_a_member_decides_only_their_own_clients_quote(
    arranged: dict[str, dict[str, Any]], as_user: Any, sql: asyncpg.Connection, tenant_a: Tenant
) -> None:
    other = await sql.fetchval(
        "insert into public.billing_quotes (client_id, status, issue_date, valid_until, amount, pdf_sha256)"
        " select client_id, 'pending', current_date, current_date + 30, 120, $2 from public.billing_quotes"
        " where id = $1 returning id",
        arranged["b"]["quote_draft"], SHA,
    )  # fmt: skip
    decide = (
        "select private.decide_billing_quote($1, 'accepted', null, null, null, null, $2, 120, 'EUR', now(), '{}',"
        " $3, null)"
    )
    async with as_user(tenant_a.member) as conn:
        with pytest.raises(asyncpg.PostgresError) as refused:
            await conn.fetchval(decide, other, SHA, "f" * 64)
        assert refused.value.sqlstate == "FX404"
