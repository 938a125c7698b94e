"""Validation Hub tables under RLS, in SQL: members read their own client's requests and rounds, never
write them directly, and submit only their own client's steps through private.submit_step."""

from __future__ import annotations

import uuid
from typing import NamedTuple
from uuid import UUID

import asyncpg
import pytest

from tests.conftest import Tenant, User
from tests.rls.conftest import AsUser, Denied


class Arranged(NamedTuple):
    """A journey project, its two steps, and the validation request submitted for the first."""

    project: UUID
    steps: list[UUID]
    request: UUID


async def arrange(sql: asyncpg.Connection, tenant: Tenant) -> Arranged:
    project: UUID = await sql.fetchval(
        "insert into projects (client_id, kind, phase, name, status) values ($1, 'journey', 'lab', 'P', 'active')"
        " returning id",
        tenant.id,
    )
    steps: list[UUID] = [
        await sql.fetchval(
            "insert into project_steps (client_id, project_id, position, title) values ($1, $2, $3, 'S') returning id",
            tenant.id,
            project,
            position,
        )
        for position in (1, 2)
    ]
    request: UUID = await sql.fetchval(
        "insert into validation_requests (client_id, project_id, step_id, submitted_by) values ($1, $2, $3, $4)"
        " returning id",
        tenant.id,
        project,
        steps[0],
        tenant.member.id,
    )
    await sql.execute(
        "insert into validation_rounds (request_id, client_id, round, submitted_by) values ($1, $2, 1, $3)",
        request,
        tenant.id,
        tenant.member.id,
    )
    await sql.execute("update project_steps set status = 'submitted' where id = $1", steps[0])
    return Arranged(project, steps, request)


@pytest.fixture
async def arranged(sql: asyncpg.Connection, tenant_a: Tenant, tenant_b: Tenant) -> dict[UUID, Arranged]:
    return {tenant.id: await arrange(sql, tenant) for tenant in (tenant_a, tenant_b)}


@pytest.mark.isolates("validation_requests", "validation_rounds")
@pytest.mark.parametrize("table", ["validation_requests", "validation_rounds"])
async def test_member_sees_only_own_client_rows_and_writes_none(
    arranged: dict[UUID, Arranged],
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


async def test_member_cannot_decide_nor_forge_a_request(
    arranged: dict[UUID, Arranged], as_user: AsUser, denied: Denied, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    project, steps, request = arranged[tenant_a.id]
    async with as_user(tenant_a.member) as conn:
        assert await denied(conn, "update public.validation_requests set status = 'approved' where id = $1", request)
        assert await denied(
            conn,
            "update public.validation_rounds set decision = 'approved', decided_at = now() where request_id = $1",
            request,
        )
        assert await denied(
            conn,
            "insert into public.validation_requests (client_id, project_id, step_id,"
            " submitted_by) values ($1, $2, $3, $4)",
            tenant_a.id,
            project,
            steps[1],
            tenant_a.member.id,
        )
        assert await denied(
            conn,
            "insert into public.validation_rounds (request_id, client_id, round, submitted_by) values ($1, $2, 2, $3)",
            request,
            tenant_a.id,
            tenant_a.member.id,
        )


async def test_submit_step_only_for_the_callers_own_active_steps(
    arranged: dict[UUID, Arranged],
    as_user: AsUser,
    sql: asyncpg.Connection,
    tenant_a: Tenant,
    tenant_b: Tenant,
    operator: User,
) -> None:
    _, steps_a, _ = arranged[tenant_a.id]
    _, steps_b, _ = arranged[tenant_b.id]
    async with as_user(tenant_a.member) as conn:
        with pytest.raises(asyncpg.PostgresError) as refused:
            await conn.execute("select private.submit_step($1, 'x', '{}')", steps_b[1])
        assert refused.value.sqlstate == "FX404"
    async with as_user(tenant_a.member) as conn:
        with pytest.raises(asyncpg.PostgresError) as refused:
            await conn.execute("select private.submit_step($1, 'x', '{}')", steps_a[0])  # already submitted
        assert refused.value.sqlstate == "FX409"
    async with as_user(operator) as conn:
        with pytest.raises(asyncpg.PostgresError) as refused:  # no membership: not the operator's to submit
            await conn.execute("select private.submit_step($1, 'x', '{}')", steps_a[1])
        assert refused.value.sqlstate == "FX404"
    async with as_user(tenant_a.member) as conn:
        row = await conn.fetchrow("select * from private.submit_step($1, 'x', '{}')", steps_a[1])
        assert row["round"] == 1
        assert await conn.fetchval("select status from public.project_steps where id = $1", steps_a[1]) == "submitted"
    assert await sql.fetchval("select status from project_steps where id = $1", steps_b[1]) == "todo"


async def test_submit_step_attaches_only_the_clients_shared_documents(
    arranged: dict[UUID, Arranged], as_user: AsUser, sql: asyncpg.Connection, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    _, steps_a, _ = arranged[tenant_a.id]

    async def document(client_id: UUID, visibility: str = "shared") -> UUID:
        found: UUID = await sql.fetchval(
            "insert into documents (client_id, title, phase, visibility) values ($1, 'Doc', 'lab', $2) returning id",
            client_id,
            visibility,
        )
        return found

    own = await document(tenant_a.id)
    for bad in (await document(tenant_b.id), await document(tenant_a.id, "internal"), uuid.uuid4()):
        async with as_user(tenant_a.member) as conn:
            with pytest.raises(asyncpg.PostgresError) as refused:
                await conn.execute("select private.submit_step($1, 'x', $2)", steps_a[1], [own, bad])
            assert refused.value.sqlstate == "FX422"
    assert await sql.fetchval("select count(*) from validation_rounds where $1 = any(document_ids)", own) == 0
    async with as_user(tenant_a.member) as conn:
        row = await conn.fetchrow("select * from private.submit_step($1, 'x', $2)", steps_a[1], [own, own])
        assert row["round"] == 1
        assert await conn.fetchval(
            "select document_ids from public.validation_rounds r join"
            " public.validation_requests q on q.id = r.request_id where q.step_id = $1",
            steps_a[1],
        ) == [own]
