"""The request transaction (api/middleware.py RequestContext): committed only behind a success that
really committed, rolled back otherwise, and every 500 carries the request id."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from api.deps import Session
from services.core.errors import Conflict
from tests.conftest import Tenant, User

RENAME = "update public.profiles set display_name = 'changed' where user_id = (select auth.uid())"


@pytest.fixture
def routes(app: FastAPI) -> None:
    async def swallows_a_database_error(session: Session) -> dict[str, bool]:
        await session.execute(RENAME)
        try:
            await session.execute("select 1 / 0")
        except asyncpg.DivisionByZeroError:
            pass  # the transaction is aborted: its COMMIT will be a ROLLBACK
        return {"ok": True}

    async def writes_then_refuses(session: Session) -> dict[str, bool]:
        await session.execute(RENAME)
        raise Conflict("refused after writing")

    async def crashes_after_writing(session: Session) -> dict[str, bool]:
        await session.execute(RENAME)
        raise RuntimeError("bug")

    app.add_api_route("/test/swallow", swallows_a_database_error, methods=["POST"])
    app.add_api_route("/test/crash", crashes_after_writing, methods=["POST"])
    app.add_api_route("/test/refuse", writes_then_refuses, methods=["POST"])


async def display_name(sql: asyncpg.Connection, user: User) -> str | None:
    name: str | None = await sql.fetchval("select display_name from profiles where user_id = $1", user.id)
    return name


async def test_a_commit_that_rolled_back_is_a_500_not_a_200(
    client: httpx.AsyncClient, routes: None, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    r = await client.post("/test/swallow", headers={**tenant_a.member.headers, "X-Request-ID": "tx-1"})
    assert r.status_code == 500, r.text
    assert r.json()["code"] == "commit_failed" and r.headers["x-request-id"] == "tx-1"
    assert await display_name(sql, tenant_a.member) is None


async def test_an_error_after_a_write_rolls_it_back(
    client: httpx.AsyncClient, routes: None, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    r = await client.post("/test/refuse", headers=tenant_a.member.headers)
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert await display_name(sql, tenant_a.member) is None


async def test_an_unexpected_error_is_a_500_problem_with_the_request_id_and_nothing_written(
    app: FastAPI, routes: None, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        r = await http.post("/test/crash", headers={**tenant_a.member.headers, "X-Request-ID": "crash-500"})
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json" and r.headers["x-request-id"] == "crash-500"
    assert r.json()["request_id"] == "crash-500" and r.json()["code"] == "internal_error"
    assert await display_name(sql, tenant_a.member) is None
