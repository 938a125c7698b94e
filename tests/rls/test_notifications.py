"""Notifications in SQL under `authenticated`: each user reads and marks only their own; creation goes
through private.create_notifications, which refuses recipients outside the actor's reach."""

from __future__ import annotations

import json
from uuid import UUID

import asyncpg
import pytest

from tests.conftest import Tenant, User
from tests.rls.conftest import AsUser, Denied


def _row(user_id: UUID, client_id: UUID | None = None, title: str = "x") -> str:
    return json.dumps(
        [
            {
                "user_id": str(user_id),
                "client_id": str(client_id) if client_id else None,
                "source": "chat",
                "priority": "normal",
                "title": title,
                "sound": True,
                "badge": True,
            }
        ]
    )


@pytest.fixture
async def notes(sql: asyncpg.Connection, tenant_a: Tenant, tenant_b: Tenant) -> tuple[Tenant, Tenant]:
    for tenant in (tenant_a, tenant_b):
        await sql.execute("select private.create_notifications($1::jsonb)", _row(tenant.member.id, tenant.id))
    return tenant_a, tenant_b


@pytest.mark.isolates("notifications")
async def test_users_see_and_mark_only_their_own(
    notes: tuple[Tenant, Tenant], as_user: AsUser, denied: Denied, operator: User
) -> None:
    tenant_a, tenant_b = notes
    async with as_user(tenant_a.member) as conn:
        visible = [r[0] for r in await conn.fetch("select user_id from public.notifications")]
        assert visible == [tenant_a.member.id]
        assert await denied(
            conn, "update public.notifications set read_at = now() where user_id = $1", tenant_b.member.id
        )
        assert await denied(conn, "delete from public.notifications")
        assert await denied(conn, "update public.notifications set title = 'forged'")
        assert await denied(
            conn,
            "insert into public.notifications (user_id, source, priority, title, sound,"
            " badge) values ($1, 'chat', 'low', 'x', true, true)",
            tenant_b.member.id,
        )
    async with as_user(operator) as conn:  # the operator is no exception: notifications are personal
        assert await conn.fetchval("select count(*) from public.notifications") == 0


async def test_create_notifications_refuses_recipients_out_of_reach(
    notes: tuple[Tenant, Tenant], as_user: AsUser, operator: User
) -> None:
    tenant_a, tenant_b = notes
    async with as_user(tenant_a.member) as conn:
        for recipient, client in (
            (tenant_b.member.id, tenant_b.id),
            (tenant_b.member.id, tenant_a.id),
            (operator.id, None),
            (operator.id, tenant_b.id),
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with conn.transaction():
                    await conn.execute("select private.create_notifications($1::jsonb)", _row(recipient, client))
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with conn.transaction():
                    await conn.fetch("select * from private.notification_recipients($1, $2)", [recipient], client)
    async with as_user(operator) as conn:
        await conn.execute("select private.create_notifications($1::jsonb)", _row(tenant_b.member.id))


async def test_member_may_notify_the_operator_about_their_client(
    sql: asyncpg.Connection, notes: tuple[Tenant, Tenant], as_user: AsUser, operator: User
) -> None:
    tenant_a, _ = notes
    await sql.execute('update auth.users set raw_app_meta_data = \'{"role": "operator"}\' where id = $1', operator.id)
    async with as_user(tenant_a.member) as conn:
        assert await conn.fetchval("select private.operator_ids()") == [operator.id]
        await conn.execute("select private.create_notifications($1::jsonb)", _row(operator.id, tenant_a.id))
        assert await conn.fetchval("select count(*) from public.notifications") == 1  # still only their own
        await conn.execute("reset role")
        assert (
            await conn.fetchval("select actor_id from public.notifications where user_id = $1", operator.id)
            == tenant_a.member.id
        )


async def test_anonymous_role_cannot_use_the_helpers(sql: asyncpg.Connection, notes: tuple[Tenant, Tenant]) -> None:
    conn = sql
    async with conn.transaction():
        await conn.execute("set local role anon")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("select private.create_notifications('[]'::jsonb)")
    async with conn.transaction():  # `authenticated` without claims is not a service session
        await conn.execute("set local role authenticated")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("select private.create_notifications($1::jsonb)", _row(notes[0].member.id))


async def test_client_members_are_listed_only_to_the_operator_and_that_clients_members(
    sql: asyncpg.Connection, as_user: AsUser, operator: User, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    async with as_user(tenant_a.member) as conn:
        assert await conn.fetchval("select private.client_member_ids($1)", tenant_a.id) == [tenant_a.member.id]
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetchval("select private.client_member_ids($1)", tenant_b.id)
    async with as_user(operator) as conn:
        assert await conn.fetchval("select private.client_member_ids($1)", tenant_b.id) == [tenant_b.member.id]
    async with sql.transaction():  # `authenticated` without claims is not a service session
        await sql.execute("set local role authenticated")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await sql.fetchval("select private.client_member_ids($1)", tenant_b.id)
    assert await sql.fetchval("select private.client_member_ids($1)", tenant_b.id) == [tenant_b.member.id]
