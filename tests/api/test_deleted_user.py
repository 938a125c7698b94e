"""A validly signed token whose user was deleted from auth.users is refused (401) on every path,
and no database text reaches the response."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.conftest import Tenant, User


async def _delete(sql: asyncpg.Connection, user: User, *, soft: bool) -> None:
    if soft:  # Supabase's soft delete
        await sql.execute("update auth.users set deleted_at = now() where id = $1", user.id)
    else:
        await sql.execute("delete from public.client_members where user_id = $1", user.id)
        await sql.execute("delete from public.profiles where user_id = $1", user.id)
        await sql.execute("delete from auth.users where id = $1", user.id)


def _assert_refused(r: httpx.Response) -> None:
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "no longer exists" in r.json()["detail"]
    assert "violates" not in r.text and "constraint" not in r.text


@pytest.mark.parametrize("soft", [False, True])
async def test_a_deleted_operator_cannot_create_clients(
    client: httpx.AsyncClient, operator: User, sql: asyncpg.Connection, soft: bool
) -> None:
    assert (await client.get("/api/v1/me", headers=operator.headers)).status_code == 200  # seen before
    await _delete(sql, operator, soft=soft)
    r = await client.post("/api/v1/clients", headers=operator.headers, json={"company_name": "Ghost SARL"})
    _assert_refused(r)
    assert await sql.fetchval("select count(*) from clients where company_name = 'Ghost SARL'") == 0


@pytest.mark.parametrize("soft", [False, True])
async def test_a_deleted_member_cannot_post_in_the_chat(
    client: httpx.AsyncClient, tenant_a: Tenant, sql: asyncpg.Connection, soft: bool
) -> None:
    r = await client.put(f"/api/v1/chat/clients/{tenant_a.id}/conversation", headers=tenant_a.member.headers)
    assert r.status_code == 200, r.text
    conversation = r.json()["id"]
    await _delete(sql, tenant_a.member, soft=soft)
    r = await client.post(
        f"/api/v1/chat/conversations/{conversation}/messages", headers=tenant_a.member.headers, json={"body": "hi"}
    )
    _assert_refused(r)
    assert await sql.fetchval("select count(*) from chat_messages") == 0


async def test_a_deleted_user_is_refused_on_the_hot_reads_too(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    await _delete(sql, operator, soft=False)
    _assert_refused(await client.get(f"/api/v1/clients/{tenant_a.id}", headers=operator.headers))
    _assert_refused(await client.get("/api/v1/clients", headers=operator.headers))
