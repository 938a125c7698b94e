"""Projects tables under RLS, in SQL: a member sees only their client's rows and writes none of them
(except their own comments); tasks and journey templates are the operator's alone."""

from __future__ import annotations

import uuid
from typing import NamedTuple
from uuid import UUID

import asyncpg
import pytest

from tests.conftest import Tenant, User
from tests.rls.conftest import AsUser, Denied


class Arranged(NamedTuple):
    project: UUID
    step: UUID


async def arrange_projects(sql: asyncpg.Connection, tenant: Tenant) -> Arranged:
    project: UUID = await sql.fetchval(
        "insert into projects (client_id, kind, phase, name, status) values ($1, 'journey', 'lab', 'P', 'active')"
        " returning id",
        tenant.id,
    )
    step: UUID = await sql.fetchval(
        "insert into project_steps (client_id, project_id, position, title) values ($1, $2, 1, 'S') returning id",
        tenant.id,
        project,
    )
    await sql.execute(
        "insert into project_tasks (client_id, project_id, title) values ($1, $2, 'T')", tenant.id, project
    )
    await sql.execute(
        "insert into timeline_events (client_id, project_id, kind, actor_role) values"
        " ($1, $2, 'project_created', 'operator')",
        tenant.id,
        project,
    )
    return Arranged(project, step)


@pytest.fixture
async def arranged(sql: asyncpg.Connection, tenant_a: Tenant, tenant_b: Tenant) -> dict[UUID, Arranged]:
    await sql.execute("insert into journey_templates (name, steps) values ('T', '[]')")
    return {tenant.id: await arrange_projects(sql, tenant) for tenant in (tenant_a, tenant_b)}


TABLES = ["projects", "project_steps", "timeline_events"]
OPERATOR_ONLY = ["project_tasks", "journey_templates"]


@pytest.mark.isolates(*TABLES)
@pytest.mark.parametrize("table", TABLES)
async def test_member_sees_only_own_client_rows(
    arranged: dict[UUID, Arranged], as_user: AsUser, tenant_a: Tenant, table: str
) -> None:
    async with as_user(tenant_a.member) as conn:
        assert {r[0] for r in await conn.fetch(f"select client_id from public.{table}")} == {tenant_a.id}


@pytest.mark.isolates(*OPERATOR_ONLY)
@pytest.mark.parametrize("table", OPERATOR_ONLY)
async def test_operator_only_tables_are_invisible_to_members(
    arranged: dict[UUID, Arranged], as_user: AsUser, denied: Denied, tenant_a: Tenant, operator: User, table: str
) -> None:
    async with as_user(tenant_a.member) as conn:
        assert await conn.fetchval(f"select count(*) from public.{table}") == 0
        assert await denied(conn, f"delete from public.{table}")
        assert await denied(
            conn,
            f"update public.{table} set title = 'x'"
            if table == "project_tasks"
            else f"update public.{table} set name = 'x'",
        )
    async with as_user(operator) as conn:
        assert await conn.fetchval(f"select count(*) from public.{table}") >= 1


@pytest.mark.parametrize("table", [*TABLES, "project_tasks"])
async def test_member_cannot_update_or_delete_any_rows(
    arranged: dict[UUID, Arranged], as_user: AsUser, denied: Denied, tenant_a: Tenant, tenant_b: Tenant, table: str
) -> None:
    async with as_user(tenant_a.member) as conn:
        for tenant in (tenant_b, tenant_a):  # not even their own: the operator edits steps and projects
            assert await denied(conn, f"delete from public.{table} where client_id = $1", tenant.id)
            assert await denied(
                conn, f"update public.{table} set client_id = client_id where client_id = $1", tenant.id
            )


async def test_member_cannot_insert_projects_steps_or_tasks(
    arranged: dict[UUID, Arranged], as_user: AsUser, denied: Denied, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    project_a, _ = arranged[tenant_a.id]
    project_b, _ = arranged[tenant_b.id]
    async with as_user(tenant_a.member) as conn:
        for client_id in (tenant_a.id, tenant_b.id):
            assert await denied(
                conn,
                "insert into public.projects (client_id, kind, phase, name) values ($1, 'delivery', 'lab', 'x')",
                client_id,
            )
        for client_id, project in ((tenant_a.id, project_a), (tenant_b.id, project_b)):
            assert await denied(
                conn,
                "insert into public.project_steps (client_id, project_id, position, title) values ($1, $2, 9, 'x')",
                client_id,
                project,
            )
            assert await denied(
                conn,
                "insert into public.project_tasks (client_id, project_id, title) values ($1, $2, 'x')",
                client_id,
                project,
            )
        assert await denied(
            conn,
            "update public.project_steps set status = 'validated', completed_at = now() where client_id = $1",
            tenant_a.id,
        )


async def test_member_timeline_writes_are_their_own_comments_on_their_own_client(
    arranged: dict[UUID, Arranged], as_user: AsUser, denied: Denied, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    project_a, _ = arranged[tenant_a.id]
    project_b, _ = arranged[tenant_b.id]
    me = tenant_a.member.id
    insert = (
        "insert into public.timeline_events (client_id, project_id, kind, actor_id, actor_role, body)"
        " values ($1, $2, $3, $4, $5, 'x')"
    )
    async with as_user(tenant_a.member) as conn:
        assert await denied(conn, insert, tenant_b.id, project_b, "comment", me, "member")
        assert await denied(conn, insert, tenant_a.id, project_b, "comment", me, "member")  # B's project
        assert await denied(conn, insert, tenant_a.id, project_a, "step_validated", me, "member")
        assert await denied(conn, insert, tenant_a.id, project_a, "comment", tenant_b.member.id, "member")
        assert await denied(conn, insert, tenant_a.id, project_a, "comment", me, "operator")
        assert not await denied(conn, insert, tenant_a.id, project_a, "comment", me, "member")


async def test_operator_sees_every_client(arranged: dict[UUID, Arranged], as_user: AsUser, operator: User) -> None:
    async with as_user(operator) as conn:
        for table in TABLES:
            assert await conn.fetchval(f"select count(distinct client_id) from public.{table}") == 2


async def test_a_document_cannot_point_at_another_clients_project(
    arranged: dict[UUID, Arranged], sql: asyncpg.Connection, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    import asyncpg

    project_b, _ = arranged[tenant_b.id]
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await sql.execute(
            "insert into documents (client_id, project_id, title, phase) values ($1, $2, 'D', 'lab')",
            tenant_a.id,
            project_b,
        )
    project_a, _ = arranged[tenant_a.id]
    doc = await sql.fetchval(
        "insert into documents (client_id, project_id, title, phase) values ($1, $2, 'D', 'lab') returning id",
        tenant_a.id,
        project_a,
    )
    await sql.execute("delete from projects where id = $1", project_a)
    assert await sql.fetchrow("select client_id, project_id from documents where id = $1", doc) == (tenant_a.id, None)
    assert uuid.UUID(str(doc))


async def test_member_timeline_writes_cannot_be_backdated_nor_point_at_a_foreign_step(
    arranged: dict[UUID, Arranged],
    as_user: AsUser,
    denied: Denied,
    tenant_a: Tenant,
    tenant_b: Tenant,
    sql: asyncpg.Connection,
) -> None:
    project_a, step_a = arranged[tenant_a.id]
    _, step_b = arranged[tenant_b.id]
    other_project = await sql.fetchval(
        "insert into projects (client_id, kind, phase, name) values ($1, 'delivery', 'lab', 'Q') returning id",
        tenant_a.id,
    )
    me = tenant_a.member.id
    insert = (
        "insert into public.timeline_events (client_id, project_id, step_id, kind, actor_id, actor_role)"
        " values ($1, $2, $3, $4, $5, 'member')"
    )
    async with as_user(tenant_a.member) as conn:
        assert await denied(
            conn,
            "insert into public.timeline_events (client_id, project_id, kind, actor_id,"
            " actor_role, at) values ($1, $2, 'comment', $3, 'member', now() - interval '1 year')",
            tenant_a.id,
            project_a,
            me,
        )
        assert await denied(conn, insert, tenant_a.id, project_a, step_b, "comment", me)
        assert await denied(conn, insert, tenant_a.id, other_project, step_a, "comment", me)  # not that project's
        assert await denied(conn, insert, tenant_a.id, None, None, "comment", me)  # a comment is on a project
        assert await denied(conn, insert, tenant_a.id, project_a, None, "step_submitted", me)
        assert await denied(conn, insert, tenant_a.id, project_a, None, "evolution_requested", me)
        assert not await denied(conn, insert, tenant_a.id, project_a, step_a, "comment", me)
        assert not await denied(conn, insert, tenant_a.id, None, None, "evolution_requested", me)
