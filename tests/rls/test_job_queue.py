"""public.jobs in SQL under `authenticated`: the operator reads (and may update, to retry) every job;
members see no job, not even one about their own client, and cannot write the table; everyone
enqueues through private.enqueue_job only."""

from __future__ import annotations

import asyncpg
import pytest

from tests.conftest import Tenant, User
from tests.rls.conftest import AsUser, Denied


@pytest.fixture
async def queued(sql: asyncpg.Connection, tenant_a: Tenant, tenant_b: Tenant) -> tuple[Tenant, Tenant]:
    for tenant in (tenant_a, tenant_b):
        await sql.execute(
            "select private.enqueue_job('tests.record', '{\"secret\": 1}'::jsonb, null, null, $1, null)", tenant.id
        )
    return tenant_a, tenant_b


@pytest.mark.isolates("jobs")
async def test_members_see_no_job_and_cannot_write_jobs(
    queued: tuple[Tenant, Tenant], as_user: AsUser, denied: Denied
) -> None:
    tenant_a, tenant_b = queued
    async with as_user(tenant_a.member) as conn:
        assert await conn.fetchval("select count(*) from public.jobs") == 0
        for tenant in (tenant_a, tenant_b):
            assert await denied(conn, "update public.jobs set status = 'done' where client_id = $1", tenant.id)
            assert await denied(conn, "delete from public.jobs where client_id = $1", tenant.id)
        assert await denied(conn, "insert into public.jobs (kind, client_id) values ('tests.record', $1)", tenant_a.id)


async def test_the_operator_reads_and_may_requeue_jobs_but_not_insert_or_delete(
    queued: tuple[Tenant, Tenant], as_user: AsUser, denied: Denied, operator: User
) -> None:
    async with as_user(operator) as conn:
        assert await conn.fetchval("select count(*) from public.jobs") == 2
        assert await conn.execute("update public.jobs set run_after = now()") == "UPDATE 2"
        assert await denied(conn, "delete from public.jobs")
        assert await denied(conn, "insert into public.jobs (kind) values ('tests.record')")


async def test_a_member_request_enqueues_through_the_function_only(
    queued: tuple[Tenant, Tenant], as_user: AsUser, sql: asyncpg.Connection
) -> None:
    tenant_a, _ = queued
    async with as_user(tenant_a.member) as conn:
        job_id = await conn.fetchval(
            "select private.enqueue_job('tests.record', '{}'::jsonb, 'k1', null, $1, null)", tenant_a.id
        )
        assert job_id is not None
        assert await conn.fetchval("select count(*) from public.jobs") == 0  # still invisible to them
        await conn.execute("reset role")
        assert await conn.fetchval("select client_id from public.jobs where id = $1", job_id) == tenant_a.id


async def test_anonymous_cannot_enqueue(sql: asyncpg.Connection) -> None:
    import asyncpg

    async with sql.transaction():
        await sql.execute("set local role anon")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await sql.execute("select private.enqueue_job('tests.record', '{}'::jsonb, null, null, null, null)")
