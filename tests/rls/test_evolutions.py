"""Evolution tables under RLS, in SQL: a member reads their own client's requests and history and may
only open a fresh request for their own client, in their own name."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import asyncpg
import pytest

from tests.conftest import Tenant, User
from tests.rls.conftest import AsUser, Denied


@pytest.fixture
async def arranged(sql: asyncpg.Connection, tenant_a: Tenant, tenant_b: Tenant) -> dict[UUID, UUID]:
    """Each client's evolution request, by client id."""
    ids: dict[UUID, UUID] = {}
    for tenant in (tenant_a, tenant_b):
        evolution: UUID = await sql.fetchval(
            "insert into evolution_requests (client_id, title, requested_by) values ($1, 'E', $2) returning id",
            tenant.id,
            tenant.member.id,
        )
        await sql.execute(
            "insert into evolution_events (evolution_id, client_id, to_status, actor_id, actor_role)"
            " values ($1, $2, 'requested', $3, 'member')",
            evolution,
            tenant.id,
            tenant.member.id,
        )
        ids[tenant.id] = evolution
    return ids


@pytest.mark.isolates("evolution_requests", "evolution_events")
@pytest.mark.parametrize("table", ["evolution_requests", "evolution_events"])
async def test_member_sees_only_own_rows_and_cannot_change_them(
    arranged: dict[UUID, UUID],
    as_user: AsUser,
    denied: Denied,
    tenant_a: Tenant,
    tenant_b: Tenant,
    operator: User,
    table: str,
) -> None:
    async with as_user(tenant_a.member) as conn:
        assert {r[0] for r in await conn.fetch(f"select client_id from public.{table}")} == {tenant_a.id}
        for tenant in (tenant_a, tenant_b):
            assert await denied(conn, f"delete from public.{table} where client_id = $1", tenant.id)
            assert await denied(
                conn, f"update public.{table} set client_id = client_id where client_id = $1", tenant.id
            )
    async with as_user(operator) as conn:
        assert await conn.fetchval(f"select count(distinct client_id) from public.{table}") == 2


async def test_member_inserts_only_fresh_requests_for_their_client(
    arranged: dict[UUID, UUID], as_user: AsUser, denied: Denied, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    me = tenant_a.member.id
    insert = "insert into public.evolution_requests (client_id, title, requested_by, status) values ($1, 'x', $2, $3)"
    async with as_user(tenant_a.member) as conn:
        assert await denied(conn, insert, tenant_b.id, me, "requested")
        assert await denied(conn, insert, tenant_a.id, tenant_b.member.id, "requested")
        assert await denied(conn, insert, tenant_a.id, me, "accepted")
        assert await denied(
            conn,
            "insert into public.evolution_requests (client_id, title, requested_by,"
            " quote_reference) values ($1, 'x', $2, 'D-1')",
            tenant_a.id,
            me,
        )
        assert not await denied(conn, insert, tenant_a.id, me, "requested")


async def test_member_history_rows_are_only_their_own_request_events(
    arranged: dict[UUID, UUID], as_user: AsUser, denied: Denied, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    me = tenant_a.member.id
    insert = (
        "insert into public.evolution_events (evolution_id, client_id, from_status, to_status, actor_id,"
        " actor_role) values ($1, $2, $3, $4, $5, 'member')"
    )
    async with as_user(tenant_a.member) as conn:
        assert await denied(conn, insert, arranged[tenant_b.id], tenant_b.id, None, "requested", me)
        assert await denied(conn, insert, arranged[tenant_b.id], tenant_a.id, None, "requested", me)
        assert await denied(conn, insert, arranged[tenant_a.id], tenant_a.id, "quoted", "accepted", me)
        assert not await denied(conn, insert, arranged[tenant_a.id], tenant_a.id, None, "requested", me)


async def test_member_requests_and_history_are_written_now(
    arranged: dict[UUID, UUID], as_user: AsUser, denied: Denied, sql: asyncpg.Connection, tenant_b: Tenant
) -> None:
    """Requests and history rows cannot be backdated, nor history forged on a request moving along."""
    insert = "insert into public.evolution_requests (client_id, title, requested_by) values ($1, 'x', $2)"
    me, evolution = tenant_b.member.id, arranged[tenant_b.id]
    event = (
        "insert into public.evolution_events (evolution_id, client_id, to_status, actor_id, actor_role, at)"
        " values ($1, $2, 'requested', $3, 'member', now() - $4::interval)"
    )
    async with as_user(tenant_b.member) as conn:
        assert await denied(
            conn,
            "insert into public.evolution_requests (client_id, title, requested_by,"
            " created_at) values ($1, 'x', $2, now() - interval '1 year')",
            tenant_b.id,
            me,
        )
        assert await denied(conn, event, evolution, tenant_b.id, me, timedelta(days=1))
        assert not await denied(conn, insert, tenant_b.id, me)
    await sql.execute("update evolution_requests set status = 'estimating' where id = $1", evolution)
    async with as_user(tenant_b.member) as conn:  # no "requested" rows on a request already moving along
        assert await denied(conn, event, evolution, tenant_b.id, me, timedelta(0))
