"""Client A's user sees none of client B's rows and cannot write them, table by table, in SQL."""

from __future__ import annotations

import importlib.util
import inspect
import re
import uuid
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import Tenant, User
from tests.rls.conftest import AsUser, Denied


@pytest.fixture
async def arranged(
    sql: asyncpg.Connection, tenant_a: Tenant, tenant_b: Tenant, operator: User
) -> tuple[Tenant, Tenant]:
    for tenant in (tenant_a, tenant_b):
        await sql.execute("insert into client_crm_profiles (client_id, notes) values ($1, 'private')", tenant.id)
        await sql.execute("insert into profiles (user_id) values ($1)", tenant.member.id)
        await sql.execute(
            "insert into audit_log (actor_role, client_id, action, entity_type) values"
            " ('operator', $1, 'client.created', 'client')",
            tenant.id,
        )
    return tenant_a, tenant_b


TENANT_TABLES = {
    # table: the column holding the client id
    "clients": "id",
    "client_members": "client_id",
    "client_configs": "client_id",
}


@pytest.mark.isolates(*TENANT_TABLES)
@pytest.mark.parametrize("table, column", TENANT_TABLES.items())
async def test_member_sees_only_own_client_rows(
    arranged: tuple[Tenant, Tenant], as_user: AsUser, table: str, column: str
) -> None:
    tenant_a, _ = arranged
    async with as_user(tenant_a.member) as conn:
        visible = {r[0] for r in await conn.fetch(f"select {column} from public.{table}")}
        assert visible == {tenant_a.id}


@pytest.mark.parametrize("table, column", TENANT_TABLES.items())
async def test_member_cannot_update_or_delete_any_rows(
    arranged: tuple[Tenant, Tenant], as_user: AsUser, denied: Denied, table: str, column: str
) -> None:
    tenant_a, tenant_b = arranged
    async with as_user(tenant_a.member) as conn:
        for tenant in (tenant_b, tenant_a):  # not even their own: only the operator manages these
            assert await denied(conn, f"delete from public.{table} where {column} = $1", tenant.id)
        assert await denied(conn, f"update public.{table} set {column} = {column} where {column} = $1", tenant_b.id)


async def test_member_cannot_insert_into_another_client(
    arranged: tuple[Tenant, Tenant], as_user: AsUser, denied: Denied
) -> None:
    tenant_a, tenant_b = arranged
    async with as_user(tenant_a.member) as conn:
        assert await denied(conn, "insert into public.clients (company_name) values ('intruder')")
        assert await denied(
            conn,
            "insert into public.client_members (client_id, user_id, email) values ($1, $2, 'x@example.com')",
            tenant_b.id,
            tenant_a.member.id,
        )
        assert await denied(conn, "insert into public.client_configs (client_id) values ($1)", uuid.uuid4())


@pytest.mark.isolates("client_crm_profiles", "audit_log")
async def test_crm_profiles_and_audit_are_operator_only(
    arranged: tuple[Tenant, Tenant], as_user: AsUser, denied: Denied, operator: User
) -> None:
    tenant_a, _ = arranged
    async with as_user(tenant_a.member) as conn:
        assert await conn.fetchval("select count(*) from public.client_crm_profiles") == 0
        assert await conn.fetchval("select count(*) from public.audit_log") == 0
        assert await denied(conn, "update public.client_crm_profiles set notes = 'x'")
        assert await denied(
            conn, "insert into public.audit_log (actor_role, action, entity_type) values ('member', 'forged', 'x')"
        )
    async with as_user(operator) as conn:
        assert await conn.fetchval("select count(*) from public.client_crm_profiles") == 2
        assert await conn.fetchval("select count(*) from public.audit_log") == 2


@pytest.mark.isolates("profiles")
async def test_profiles_are_private_to_their_user(
    arranged: tuple[Tenant, Tenant], as_user: AsUser, denied: Denied
) -> None:
    tenant_a, tenant_b = arranged
    async with as_user(tenant_a.member) as conn:
        assert [r[0] for r in await conn.fetch("select user_id from public.profiles")] == [tenant_a.member.id]
        assert await denied(conn, "update public.profiles set theme = 'dark' where user_id = $1", tenant_b.member.id)


async def test_audit_entries_are_written_with_the_real_actor(arranged: tuple[Tenant, Tenant], as_user: AsUser) -> None:
    tenant_a, _ = arranged
    async with as_user(tenant_a.member) as conn:
        await conn.execute("select private.write_audit($1, 'x.done', 'x', null, null, null, null)", tenant_a.id)
        assert await conn.fetchval("select count(*) from public.audit_log") == 0  # still unreadable
        await conn.execute("reset role")
        actor = await conn.fetchrow("select actor_id, actor_role from public.audit_log where action = 'x.done'")
        assert (actor["actor_id"], actor["actor_role"]) == (tenant_a.member.id, "member")


async def test_private_helpers_have_a_fixed_search_path(sql: asyncpg.Connection) -> None:
    mutable = await sql.fetch(
        "select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
        " where n.nspname in ('public', 'private') and p.prokind = 'f'"
        " and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')"
    )
    assert [r[0] for r in mutable] == []


async def test_every_public_table_has_rls_enabled(sql: asyncpg.Connection) -> None:
    without = await sql.fetch(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and c.relkind = 'r' and not c.relrowsecurity"
    )
    assert [r[0] for r in without] == []


async def test_every_tenant_table_has_an_isolation_test(sql: asyncpg.Connection) -> None:
    """A table with a client_id column is a tenant table: a test marked `isolates(<table>)` must check
    it as a user under RLS (it takes `as_user`) and really touch it (its code or parameters name it)."""
    tables = {
        r[0]
        for r in await sql.fetch(
            "select table_name from information_schema.columns where table_schema = 'public'"
            " and column_name = 'client_id'"
        )
    } | {"clients"}
    covered = isolation_tests(sorted(Path(__file__).parent.glob("test_*.py")))
    assert sorted(tables - covered.keys()) == []


def isolation_tests(paths: list[Path]) -> dict[str, list[str]]:
    """Table → the tests marked as isolating it, each checked to be a real isolation test."""
    covered: dict[str, list[str]] = {}
    for path in paths:
        spec = importlib.util.spec_from_file_location(f"_rls_guard_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name, test in vars(module).items():
            marks = getattr(test, "pytestmark", [])
            for mark in (m for m in marks if m.name == "isolates"):
                where = f"{path.name}::{name}"
                assert name.startswith("test_") and "as_user" in inspect.signature(test).parameters, where
                source = inspect.getsource(test)
                body = source[source.index("def ") :]  # not the decorators: the marker itself names the table
                touched = body + repr([m.args for m in marks if m.name == "parametrize"])
                for table in mark.args:
                    assert re.search(rf"\b{table}\b", touched), f"{where} is marked for {table} but never uses it"
                    covered.setdefault(table, []).append(where)
    return covered


def _module(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"test_{name}.py"
    path.write_text("import pytest\n\n" + body)
    return path


def test_the_isolation_guard_wants_a_marked_test_that_uses_the_table(tmp_path: Path) -> None:
    mention = _module(tmp_path, "mention", "# chat_messages\nasync def test_x(as_user):\n    'chat_messages'\n")
    assert isolation_tests([mention]) == {}
    no_rls = _module(
        tmp_path, "no_rls", "@pytest.mark.isolates('chat_messages')\nasync def test_x(sql):\n    'chat_messages'\n"
    )
    with pytest.raises(AssertionError):
        isolation_tests([no_rls])
    unused = _module(tmp_path, "unused", "@pytest.mark.isolates('chat_messages')\nasync def test_x(as_user):\n    1\n")
    with pytest.raises(AssertionError, match="never uses it"):
        isolation_tests([unused])
    real = _module(
        tmp_path, "real", "@pytest.mark.isolates('chat_messages')\nasync def test_x(as_user):\n    'chat_messages'\n"
    )
    assert isolation_tests([real]) == {"chat_messages": ["test_real.py::test_x"]}


@pytest.mark.parametrize(
    "statement",
    [
        "update public.profiles set quiet_hours = '\"always\"'::jsonb",
        "update public.profiles set notification_prefs = '[]'::jsonb",
        "update public.profiles set onboarding = 'null'::jsonb",
        "update public.profiles set avatar_url = 'javascript:alert(1)'",
    ],
)
async def test_own_profile_written_in_sql_keeps_its_shape(
    arranged: tuple[Tenant, Tenant], as_user: AsUser, statement: str
) -> None:
    """The profiles_self_update policy lets supabase-js write the row: the table guards its shape."""
    tenant_a, _ = arranged
    async with as_user(tenant_a.member) as conn:
        assert await conn.fetchval("update public.profiles set theme = 'dark' returning theme") == "dark"
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(statement)
