"""Sessions without BEGIN or COMMIT (services/core/db.py): reads (GET and HEAD) and one-statement
writes set the user's identity for the connection. Reads must stay read-only, a one-statement write
must commit as its statement ends and run no second one, and none may leak one user's identity into
another's session or reach the service pool. Sessions wait for a connection in the order they asked."""

from __future__ import annotations

import asyncio
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


async def test_a_one_statement_session_commits_as_its_statement_ends_and_runs_no_second(
    one_connection: Database, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    db, member = one_connection, principal_of(tenant_a.member)
    async with db.user_session(member):  # first sight: the profile is written in a transaction
        pass
    read = await db.begin_user_session(member, read_only=True)  # leaves the connection read-only
    await db.end_user_session(read, commit=True)

    write = await db.begin_user_session(member, one_statement=True)
    assert not write.in_transaction
    await write.execute(RENAME)
    # Visible to everyone before the session ends: the statement committed, and released its locks.
    assert await sql.fetchval("select display_name from profiles where user_id = $1", tenant_a.member.id) == "changed"
    with pytest.raises(RuntimeError, match="second statement"):
        await write.fetchrow(WHO)
    await db.end_user_session(write, commit=True)

    read = await db.begin_user_session(member, read_only=True)
    assert await who(read) == (str(tenant_a.member.id), "authenticated", "on")
    await db.end_user_session(read, commit=True)


async def test_a_one_statement_session_that_fails_writes_nothing(
    one_connection: Database, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    db, member = one_connection, principal_of(tenant_a.member)
    async with db.user_session(member):
        pass
    write = await db.begin_user_session(member, one_statement=True)
    with pytest.raises(asyncpg.CheckViolationError):
        await write.execute(RENAME.replace("set ", "set theme = 'no-such-theme', "))
    await db.end_user_session(write, commit=False)
    assert await sql.fetchval("select display_name from profiles where user_id = $1", tenant_a.member.id) is None


async def test_a_first_sight_one_statement_session_is_a_transaction(one_connection: Database, operator: User) -> None:
    """A user's first session writes their profile: it runs as a transaction (begin_user_session)."""
    write = await one_connection.begin_user_session(principal_of(operator), one_statement=True)
    assert write.in_transaction
    await one_connection.end_user_session(write, commit=True)


async def test_sessions_get_a_connection_in_the_order_they_asked(one_connection: Database, tenant_a: Tenant) -> None:
    """A session that asks while others wait is served after them, whenever it arrives: asyncpg's
    pool alone lets one that asks just as a connection is released take it, and sends the waiter it
    was meant for to the back of the queue."""
    db, member = one_connection, principal_of(tenant_a.member)
    async with db.user_session(member):
        pass

    async def read(label: str, served: list[str], yields: int = 0) -> None:
        for _ in range(yields):  # arrive this many event-loop turns after the release starts
            await asyncio.sleep(0)
        session = await db.begin_user_session(member, read_only=True)
        served.append(label)
        await db.end_user_session(session, commit=True)

    for yields in range(8):
        served: list[str] = []
        holder = await db.begin_user_session(member, read_only=True)
        waiting = [asyncio.create_task(read(f"waiter {i}", served)) for i in range(3)]
        await asyncio.sleep(0.01)  # all three wait
        release = asyncio.create_task(db.end_user_session(holder, commit=True))
        await asyncio.gather(release, read("newcomer", served, yields), *waiting)
        assert served == ["waiter 0", "waiter 1", "waiter 2", "newcomer"], f"arriving after {yields} turns"
