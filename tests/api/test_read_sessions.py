"""Read sessions (GET and HEAD) set the user's identity for the connection and run without BEGIN or
COMMIT (services/core/db.py): they must stay read-only, never leak one user's identity into another's
session, and never reach the service pool."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from api.deps import Session
from services.core.db import AnySession, Database
from tests.conftest import Tenant, User
from tests.jobs.kit import principal_of

RENAME = "update public.profiles set display_name = 'changed' where user_id = (select auth.uid())"
WHO = "select auth.uid()::text, current_user::text, current_setting('transaction_read_only')"


@pytest.fixture
def writing_get(app: FastAPI) -> None:
    async def writes_in_a_get(session: Session) -> dict[str, bool]:
        await session.execute(RENAME)
        return {"ok": True}

    app.add_api_route("/test/writes-in-a-get", writes_in_a_get, methods=["GET"])


@pytest.fixture
async def one_connection(database_url: str) -> AsyncIterator[Database]:
    """A database whose pools hold one connection each, so sessions follow each other on it."""
    db = Database(database_url, pool_size=1)
    await db.open()
    yield db
    await db.close()


async def test_a_get_that_writes_fails_and_writes_nothing(
    app: FastAPI, writing_get: None, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        r = await http.get("/api/v1/me", headers=tenant_a.member.headers)  # the profile exists: reads are read-only
        assert r.status_code == 200
        r = await http.get("/test/writes-in-a-get", headers=tenant_a.member.headers)
    assert r.status_code == 500 and r.json()["code"] == "internal_error"
    assert await sql.fetchval("select display_name from profiles where user_id = $1", tenant_a.member.id) is None


async def test_a_first_request_that_fails_leaves_the_profile_to_the_next(
    client: httpx.AsyncClient, operator: User, sql: asyncpg.Connection
) -> None:
    """The first request writes the profile in its setup; its rollback takes the profile away, and the
    next read repairs it in a transaction of its own (a read session cannot write)."""
    r = await client.get("/api/v1/agenda/appointments", headers=operator.headers, params={"tz": "Mars/Olympus"})
    assert r.status_code == 422
    assert await sql.fetchval("select count(*) from profiles where user_id = $1", operator.id) == 0
    r = await client.get("/api/v1/me", headers=operator.headers)
    assert r.status_code == 200
    assert await sql.fetchval("select count(*) from profiles where user_id = $1", operator.id) == 1


async def who(session: AnySession) -> tuple[object, ...]:
    """The session's user id, role and read-only setting."""
    row = await session.fetchrow(WHO)
    assert row is not None
    return tuple(row)


async def test_sessions_on_one_connection_each_see_only_their_own_user(
    one_connection: Database, operator: User, tenant_a: Tenant
) -> None:
    db, member, op = one_connection, principal_of(tenant_a.member), principal_of(operator)
    async with db.user_session(member):  # first sight: the profile is written in a transaction
        pass
    read = await db.begin_user_session(member, read_only=True)
    assert await who(read) == (str(tenant_a.member.id), "authenticated", "on")
    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        await read.execute(RENAME)
    await db.end_user_session(read, commit=True)

    async with db.user_session(op) as write:  # the same connection, now read-write as the operator
        assert await who(write) == (str(operator.id), "authenticated", "off")
        await write.execute(RENAME)

    read = await db.begin_user_session(member, read_only=True)
    assert await who(read) == (str(tenant_a.member.id), "authenticated", "on")
    await db.end_user_session(read, commit=True)

    async with db.service_session() as service:  # never a connection that carried a user
        assert await who(service) == (None, "postgres", "off")
