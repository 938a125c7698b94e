"""The migration runner: ordered, checksummed, idempotent, safe when replicas start together."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from services.core.migrations import MIGRATIONS_DIR, MigrationError, migrate, pending
from tests.conftest import PgServer


@pytest.fixture
async def empty_database(pg_server: PgServer) -> AsyncIterator[str]:
    name = f"m_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(pg_server.admin_dsn)
    await conn.execute(f'create database "{name}"')
    await conn.close()
    yield pg_server.dsn(name)
    conn = await asyncpg.connect(pg_server.admin_dsn)
    await conn.execute(f'drop database "{name}" with (force)')
    await conn.close()


async def test_concurrent_runs_apply_each_migration_once(empty_database: str) -> None:
    results = await asyncio.gather(migrate(empty_database), migrate(empty_database))
    applied = sorted(results, key=len)
    assert applied[0] == [] and applied[1] == [p.stem for p in sorted(MIGRATIONS_DIR.glob("*.sql"))]
    assert await migrate(empty_database) == []
    conn = await asyncpg.connect(empty_database)
    try:
        assert await pending(conn) == []
        assert await conn.fetchval("select count(*) from foxeo_meta.schema_migrations") == len(applied[1])
    finally:
        await conn.close()


async def test_an_edited_applied_migration_is_refused(empty_database: str, tmp_path: Path) -> None:
    for path in sorted(MIGRATIONS_DIR.glob("*.sql"))[:1]:
        shutil.copy(path, tmp_path / path.name)
    await migrate(empty_database, tmp_path)
    first = next(tmp_path.glob("*.sql"))
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match="edited after it was applied"):
        await migrate(empty_database, tmp_path)
    conn = await asyncpg.connect(empty_database)
    try:
        with pytest.raises(MigrationError):
            await pending(conn, tmp_path)
    finally:
        await conn.close()


async def test_a_failing_migration_is_rolled_back_and_not_recorded(empty_database: str, tmp_path: Path) -> None:
    (tmp_path / "0001_ok.sql").write_text("create table public.ok_t (id int);")
    (tmp_path / "0002_bad.sql").write_text("create table public.bad_t (id int); select 1/0;")
    with pytest.raises(asyncpg.DivisionByZeroError):
        await migrate(empty_database, tmp_path)
    conn = await asyncpg.connect(empty_database)
    try:
        assert await pending(conn, tmp_path) == ["0002_bad"]
        assert await conn.fetchval("select to_regclass('public.bad_t')") is None
    finally:
        await conn.close()


async def test_bootstrap_gives_plain_postgres_what_supabase_has(empty_database: str) -> None:
    await migrate(empty_database)
    conn = await asyncpg.connect(empty_database)
    try:
        roles = {r[0] for r in await conn.fetch("select rolname from pg_roles")}
        assert {"anon", "authenticated", "service_role", "authenticator"} <= roles
        assert await conn.fetchval("select count(*) from pg_publication where pubname = 'supabase_realtime'") == 1
        await conn.execute(
            "select set_config('request.jwt.claims', $1, false)",
            '{"sub": "0b3b5a3c-54a4-4b7e-8d4e-6ad0b34b0a11", "role": "authenticated"}',
        )
        assert str(await conn.fetchval("select auth.uid()")) == "0b3b5a3c-54a4-4b7e-8d4e-6ad0b34b0a11"
        assert await conn.fetchval("select auth.role()") == "authenticated"
        assert await conn.fetchval("select auth.jwt()")  # jsonb
    finally:
        await conn.close()
