"""appointments, client_companies and prospect_statuses under RLS, in SQL: a member reads their own
client's appointments and company identity only, writes none of them, and never sees the operator's
prospect statuses; the operator reads and writes them all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from tests.conftest import Tenant, User


@pytest.fixture
async def arranged(sql: asyncpg.Connection, tenant_a: Tenant, tenant_b: Tenant, operator: User) -> None:
    for tenant in (tenant_a, tenant_b):
        await sql.execute(
            "insert into appointments (client_id, title, starts_at, ends_at, source)"
            " values ($1, 'Visio', now(), now() + interval '1 hour', 'manual')",
            tenant.id,
        )
        await sql.execute(
            "insert into client_companies (client_id, siret, siren, lookup_status)"
            " values ($1, '73282932000074', '732829320', 'not_found_kept_as_typed')",
            tenant.id,
        )
        await sql.execute(
            "insert into prospect_statuses (client_id, temperature, note, set_by) values ($1, 'hot', 'private', $2)",
            tenant.id,
            operator.id,
        )


@pytest.mark.isolates("appointments", "client_companies", "prospect_statuses")
async def test_member_reads_own_appointments_and_company_never_statuses(
    arranged: None, as_user: Callable[[Any], Any], tenant_a: Tenant
) -> None:
    async with as_user(tenant_a.member) as conn:
        for table in ("appointments", "client_companies"):
            assert {r[0] for r in await conn.fetch(f"select client_id from public.{table}")} == {tenant_a.id}, table
        assert await conn.fetchval("select count(*) from public.prospect_statuses") == 0


async def test_member_writes_none_of_them(
    arranged: None, as_user: Callable[[Any], Any], denied: Callable[..., Any], tenant_a: Tenant, tenant_b: Tenant
) -> None:
    async with as_user(tenant_a.member) as conn:
        for tenant in (tenant_a, tenant_b):
            for table in ("appointments", "client_companies", "prospect_statuses"):
                assert await denied(
                    conn, f"update public.{table} set client_id = client_id where client_id = $1", tenant.id
                )
                assert await denied(conn, f"delete from public.{table} where client_id = $1", tenant.id)
            assert await denied(
                conn,
                "insert into public.appointments (client_id, starts_at, ends_at, source)"
                " values ($1, now(), now() + interval '1 hour', 'manual')",
                tenant.id,
            )
            assert await denied(
                conn,
                "insert into public.prospect_statuses (client_id, temperature) values ($1, 'hot')",
                tenant.id,
            )


async def test_operator_reads_and_writes_all(
    arranged: None, as_user: Callable[[Any], Any], denied: Callable[..., Any], operator: User, tenant_b: Tenant
) -> None:
    async with as_user(operator) as conn:
        for table in ("appointments", "client_companies", "prospect_statuses"):
            assert await conn.fetchval(f"select count(*) from public.{table}") == 2, table
        assert not await denied(
            conn, "update public.appointments set title = 'Moved' where client_id = $1", tenant_b.id
        )
        assert not await denied(
            conn, "insert into public.prospect_statuses (client_id, temperature) values ($1, 'cold')", tenant_b.id
        )
