"""The operator's job endpoints: list with filters and keyset pages, detail, retry (audited); members
get 403, anonymous callers 401."""

from __future__ import annotations

import uuid
from uuid import UUID

import asyncpg
import httpx
import pytest

from services.core import queue
from services.core.db import Database
from tests.conftest import Tenant, User
from tests.jobs.kit import KIND


@pytest.fixture
async def jobs(db: Database, sql: asyncpg.Connection, tenant_a: Tenant) -> list[UUID | None]:
    async with db.service_session() as session:
        ids = [await queue.enqueue(session, KIND, {"i": i}, client_id=tenant_a.id if i % 2 else None) for i in range(5)]
        await queue.enqueue(session, "tests.other", {"secret": "payload"})
    await sql.execute("update jobs set status = 'dead', attempts = 3, last_error = 'boom' where id = $1", ids[0])
    await sql.execute("update jobs set status = 'done', attempts = 1, finished_at = now() where id = $1", ids[1])
    return ids


async def test_operator_lists_jobs_newest_first_in_keyset_pages(
    client: httpx.AsyncClient, operator: User, jobs: list[UUID | None]
) -> None:
    seen, cursor = [], None
    while True:
        params: dict[str, str | int] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/api/v1/jobs", headers=operator.headers, params=params)
        assert r.status_code == 200, r.text
        seen += [item["id"] for item in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 6
    assert "payload" not in r.json()["items"][0]  # the list stays small: payloads are in the detail


async def test_list_filters_by_status_kind_and_client(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, jobs: list[UUID | None]
) -> None:
    async def ids(**params: str) -> set[uuid.UUID]:
        r = await client.get("/api/v1/jobs", headers=operator.headers, params=params)
        assert r.status_code == 200, r.text
        return {uuid.UUID(item["id"]) for item in r.json()["items"]}

    assert await ids(status="dead") == {jobs[0]}
    assert await ids(status="queued", kind=KIND) == set(jobs[2:])
    assert len(await ids(kind="tests.other")) == 1
    assert await ids(client_id=str(tenant_a.id)) == {jobs[1], jobs[3]}
    bad = await client.get("/api/v1/jobs", headers=operator.headers, params={"status": "lost"})
    assert bad.status_code == 422
    forged = await client.get("/api/v1/jobs", headers=operator.headers, params={"cursor": "bm9wZQ"})
    assert forged.status_code == 422


async def test_job_detail_shows_payload_and_last_error(
    client: httpx.AsyncClient, operator: User, jobs: list[UUID | None]
) -> None:
    r = await client.get(f"/api/v1/jobs/{jobs[0]}", headers=operator.headers)
    assert r.status_code == 200
    body = r.json()
    assert (body["status"], body["attempts"], body["last_error"], body["payload"]) == ("dead", 3, "boom", {"i": 0})
    missing = await client.get(f"/api/v1/jobs/{uuid.uuid4()}", headers=operator.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "job_not_found"


async def test_retry_queues_a_dead_job_now_with_attempts_reset_and_is_audited(
    client: httpx.AsyncClient, operator: User, jobs: list[UUID | None], sql: asyncpg.Connection
) -> None:
    r = await client.post(f"/api/v1/jobs/{jobs[0]}/retry", headers=operator.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["attempts"]) == ("queued", 0)
    row = await sql.fetchrow("select status, attempts, run_after <= now() as due from jobs where id = $1", jobs[0])
    assert dict(row) == {"status": "queued", "attempts": 0, "due": True}
    audit = await sql.fetchrow(
        "select action, entity_id, actor_id, before, after from audit_log order by id desc limit 1"
    )
    assert (audit["action"], audit["entity_id"], audit["actor_id"]) == ("job.retried", str(jobs[0]), operator.id)
    assert '"dead"' in audit["before"] and '"queued"' in audit["after"]


async def test_only_dead_or_failed_jobs_can_be_retried(
    client: httpx.AsyncClient, operator: User, jobs: list[UUID | None], sql: asyncpg.Connection
) -> None:
    for job_id in (jobs[1], jobs[2]):  # done, queued
        r = await client.post(f"/api/v1/jobs/{job_id}/retry", headers=operator.headers)
        assert r.status_code == 409 and r.json()["code"] == "job_not_retryable"
    r = await client.post(f"/api/v1/jobs/{uuid.uuid4()}/retry", headers=operator.headers)
    assert r.status_code == 404
    assert await sql.fetchval("select count(*) from audit_log where action = 'job.retried'") == 0


async def test_members_get_403_and_anonymous_callers_401(
    client: httpx.AsyncClient, tenant_a: Tenant, jobs: list[UUID | None], sql: asyncpg.Connection
) -> None:
    for method, path in (
        ("GET", "/api/v1/jobs"),
        ("GET", f"/api/v1/jobs/{jobs[0]}"),
        ("POST", f"/api/v1/jobs/{jobs[0]}/retry"),
    ):
        assert (await client.request(method, path, headers=tenant_a.member.headers)).status_code == 403
        anonymous = await client.request(method, path)
        assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthorized"
    assert await sql.fetchval("select status from jobs where id = $1", jobs[0]) == "dead"
