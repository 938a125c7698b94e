"""Lifecycle events and the Élio Lab switch under RLS, in SQL."""

from __future__ import annotations

import asyncpg
import pytest

from tests.conftest import Tenant, User
from tests.rls.conftest import AsUser, Denied


@pytest.fixture
async def arranged(sql: asyncpg.Connection, tenant_a: Tenant, tenant_b: Tenant) -> None:
    for tenant in (tenant_a, tenant_b):
        await sql.execute(
            "insert into client_lifecycle_events (client_id, kind, from_status, to_status, lab_cycle)"
            " values ($1, 'graduated', 'lab', 'one', 1)",
            tenant.id,
        )


@pytest.mark.isolates("client_lifecycle_events")
async def test_member_reads_only_own_events_and_writes_none(
    arranged: None, as_user: AsUser, denied: Denied, tenant_a: Tenant, tenant_b: Tenant, operator: User
) -> None:
    async with as_user(tenant_a.member) as conn:
        assert {r[0] for r in await conn.fetch("select client_id from public.client_lifecycle_events")} == {tenant_a.id}
        for tenant in (tenant_a, tenant_b):
            assert await denied(conn, "delete from public.client_lifecycle_events where client_id = $1", tenant.id)
            assert await denied(
                conn, "update public.client_lifecycle_events set note = 'x' where client_id = $1", tenant.id
            )
            assert await denied(
                conn,
                "insert into public.client_lifecycle_events (client_id, kind, from_status,"
                " to_status, lab_cycle) values ($1, 'lab_reactivated', 'one', 'lab', 2)",
                tenant.id,
            )
    async with as_user(operator) as conn:
        assert await conn.fetchval("select count(*) from public.client_lifecycle_events") == 2


async def test_member_cannot_switch_elio_lab_on(
    arranged: None, as_user: AsUser, denied: Denied, sql: asyncpg.Connection, tenant_a: Tenant
) -> None:
    await sql.execute("update client_configs set elio_lab_enabled = false where client_id = $1", tenant_a.id)
    async with as_user(tenant_a.member) as conn:
        assert await conn.fetchval("select elio_lab_enabled from public.client_configs") is False
        assert await denied(conn, "update public.client_configs set elio_lab_enabled = true")
    assert await sql.fetchval("select elio_lab_enabled from client_configs where client_id = $1", tenant_a.id) is False
