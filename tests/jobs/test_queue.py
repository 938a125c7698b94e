"""Enqueue commits and rolls back with its transaction, once per idempotency key, and wakes listeners
only at commit; claims never hand a job to two workers; a lease decides whose result counts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from services.core import queue
from services.core.db import Database
from services.core.queue import Job
from tests.conftest import Tenant, User
from tests.jobs.kit import KIND, principal_of


class Boom(Exception):
    pass


async def test_a_job_enqueued_in_a_request_that_rolls_back_does_not_exist(
    db: Database, operator: User, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    with pytest.raises(Boom):
        async with db.user_session(principal_of(operator)) as session:
            assert await queue.enqueue(session, KIND, {"n": 1}) is not None
            raise Boom
    assert await sql.fetchval("select count(*) from jobs") == 0
    # a member's request may enqueue too (through the security definer function), and it commits
    async with db.user_session(principal_of(tenant_a.member)) as session:
        job_id = await queue.enqueue(session, KIND, {"n": 2}, client_id=tenant_a.id)
    row = await sql.fetchrow("select id, status, payload, client_id, attempts from jobs")
    assert dict(row) == {
        "id": job_id,
        "status": "queued",
        "payload": '{"n": 2}',
        "client_id": tenant_a.id,
        "attempts": 0,
    }


async def test_the_idempotency_key_makes_one_job(db: Database, sql: asyncpg.Connection) -> None:
    async with db.service_session() as session:
        first = await queue.enqueue(session, KIND, {}, idempotency_key="once")
        again = await queue.enqueue(session, KIND, {"other": True}, idempotency_key="once")
        unkeyed = [await queue.enqueue(session, KIND, {}) for _ in range(2)]
    assert first is not None and again is None and None not in unkeyed
    assert await sql.fetchval("select count(*) from jobs where idempotency_key = 'once'") == 1
    assert await sql.fetchval("select count(*) from jobs") == 3


async def test_workers_are_woken_at_commit_only(db: Database, database_url: str) -> None:
    listener = await asyncpg.connect(database_url)
    woken: asyncio.Queue[str] = asyncio.Queue()
    await listener.add_listener(queue.CHANNEL, lambda *args: woken.put_nowait(args[-1]))
    try:
        with pytest.raises(Boom):
            async with db.service_session() as session:
                await queue.enqueue(session, KIND, {})
                raise Boom
        async with db.service_session() as session:
            for _ in range(3):  # one wake-up per transaction, however many jobs
                await queue.enqueue(session, KIND, {})
            await queue.enqueue(session, KIND, {}, run_after=datetime.now(UTC) + timedelta(hours=1))
            await asyncio.sleep(0.2)
            assert woken.empty()  # not before the commit
        assert await asyncio.wait_for(woken.get(), 5) == ""
        await asyncio.sleep(0.2)
        assert woken.empty()
    finally:
        await listener.close()


async def _enqueue(db: Database, n: int, **options: Any) -> list[UUID]:
    async with db.service_session() as session:
        ids = [await queue.enqueue(session, KIND, {"i": i}, **options) for i in range(n)]
    # No idempotency key here, so every enqueue makes a job (None only answers a reused key).
    return [job_id for job_id in ids if job_id is not None]


def _claim(db: Database, owner: str, limit: int = 5, lease: float = 60) -> Awaitable[list[Job]]:
    return queue.claim(db.pool, limit=limit, owner=owner, lease_seconds=lease, default_max_attempts=3, kinds=[KIND])


async def test_concurrent_claims_never_hand_out_a_job_twice(db: Database) -> None:
    ids = set(await _enqueue(db, 60))
    batches = await asyncio.gather(*(_claim(db, f"w{i}", limit=7) for i in range(12)))
    claimed = [job.id for batch in batches for job in batch]
    assert len(claimed) == len(set(claimed)) == 60 and set(claimed) == ids
    assert await _claim(db, "late") == []


async def test_claims_skip_future_jobs_and_unknown_kinds(db: Database, sql: asyncpg.Connection) -> None:
    await _enqueue(db, 1, run_after=datetime.now(UTC) + timedelta(minutes=5))
    async with db.service_session() as session:
        await queue.enqueue(session, "tests.other", {})
    assert await _claim(db, "w") == []
    await sql.execute("update jobs set run_after = now() - interval '1 second'")
    assert [job.kind for job in await _claim(db, "w")] == [KIND]


async def test_an_expired_lease_is_claimed_again_and_the_stale_finish_is_ignored(
    db: Database, sql: asyncpg.Connection
) -> None:
    await _enqueue(db, 1)
    (ghost,) = await _claim(db, "ghost")  # a worker that is then killed -9: it never finishes in time
    assert ghost.attempts == 1
    assert await _claim(db, "w") == []  # the lease still holds
    await sql.execute("update jobs set lease_expires_at = now() - interval '1 second'")  # time passes
    (again,) = await _claim(db, "w")
    assert again.id == ghost.id and again.attempts == 2 and again.lease_token != ghost.lease_token
    assert not await queue.finish(db.pool, ghost, "failed", error="late")  # the stale worker wakes up
    assert not await queue.extend_lease(db.pool, ghost, 60)
    assert await queue.finish(db.pool, again, "done")
    row = await sql.fetchrow("select status, attempts, last_error, lease_token from jobs")
    assert dict(row) == {"status": "done", "attempts": 2, "last_error": None, "lease_token": None}
