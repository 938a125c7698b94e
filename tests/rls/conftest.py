"""SQL-level tenant isolation: connect as `authenticated` with a user's claims, exactly as PostgREST and
the API do, and look at the tables directly."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import asyncpg
import pytest

from tests.conftest import User

AsUser = Callable[[User], AbstractAsyncContextManager[asyncpg.Connection]]


class Denied(Protocol):
    """`await denied(conn, statement, *args)`: True when RLS refuses the write."""

    async def __call__(self, conn: asyncpg.Connection, statement: str, *args: object) -> bool: ...


def claims_for(user: User) -> dict[str, Any]:
    app_metadata = {"provider": "email", **({"role": "operator"} if user.operator else {})}
    return {
        "sub": str(user.id),
        "aud": "authenticated",
        "role": "authenticated",
        "email": user.email,
        "exp": int(time.time()) + 600,
        "app_metadata": app_metadata,
    }


@pytest.fixture
def as_user(database_url: str) -> AsUser:
    """`async with as_user(user) as conn:` a transaction under RLS as that user, rolled back after."""

    @asynccontextmanager
    async def open_as(user: User) -> AsyncIterator[asyncpg.Connection]:
        conn = await asyncpg.connect(database_url)
        try:
            tx = conn.transaction()
            await tx.start()
            await conn.execute("select set_config('request.jwt.claims', $1, true)", json.dumps(claims_for(user)))
            await conn.execute("set local role authenticated")
            try:
                yield conn
            finally:
                await tx.rollback()
        finally:
            await conn.close()

    return open_as


async def _denied(conn: asyncpg.Connection, statement: str, *args: object) -> bool:
    """True when RLS refuses the write: an error, or no row touched."""
    try:
        async with conn.transaction():  # a savepoint: the outer transaction survives the error
            result = await conn.execute(statement, *args)
    except (asyncpg.InsufficientPrivilegeError, asyncpg.CheckViolationError, asyncpg.ForeignKeyViolationError):
        return True
    status: str = result
    return status.split()[-1] == "0"


@pytest.fixture
def denied() -> Denied:
    return _denied


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "isolates(*tables): this test checks, as a user under RLS, that those tables keep tenants apart"
        " (tests/rls/test_foundation.py requires one for every tenant table)",
    )
