"""The worker: outcomes, retry schedule, dead jobs, leases (kill -9, slow handlers), concurrency,
wake-up on NOTIFY, graceful shutdown."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from services.core import queue
from services.core.db import Database
from services.core.queue import Job, JobContext, PermanentJobError
from services.core.worker import backoff_seconds
from tests.jobs.kit import KIND, Recorder


async def _enqueue(db: Database, n: int = 1, **options: Any) -> list[UUID]:
    async with db.service_session() as session:
        ids = [await queue.enqueue(session, KIND, {"i": i}, **options) for i in range(n)]
    # No idempotency key here, so every enqueue makes a job (None only answers a reused key).
    return [job_id for job_id in ids if job_id is not None]


async def _due_now(sql: asyncpg.Connection) -> None:
    """Let the retry delay pass."""
    await sql.execute("update jobs set run_after = now() where status = 'failed'")


def test_backoff_doubles_up_to_the_cap_with_jitter_that_never_comes_early() -> None:
    rng = random.Random(7)
    for attempts in range(1, 16):
        ceiling = min(3600.0, 10.0 * 2 ** (attempts - 1))
        delays = [backoff_seconds(attempts, 10.0, 3600.0, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 4  # jittered, not a fixed step
    assert backoff_seconds(10_000, 10.0, 3600.0, rng) <= 3600.0


async def test_a_successful_job_is_done(ctx: JobContext, recorder: Recorder, sql: asyncpg.Connection) -> None:
    await _enqueue(ctx.db)
    await recorder.worker(ctx).run_pending()
    assert [run.payload for run in recorder.runs] == [{"i": 0}]
    row = await sql.fetchrow("select status, attempts, started_at, finished_at, lease_token from jobs")
    assert row["status"] == "done" and row["attempts"] == 1 and row["lease_token"] is None
    assert row["finished_at"] >= row["started_at"]


async def test_failures_retry_with_backoff_then_the_job_is_dead(
    ctx: JobContext, recorder: Recorder, sql: asyncpg.Connection
) -> None:
    recorder.error = RuntimeError("vendor timed out")
    await _enqueue(ctx.db)
    worker = recorder.worker(ctx)
    expected = []
    for attempt in (1, 2):
        await worker.run_pending()
        row = await sql.fetchrow("select status, attempts, last_error, run_after - finished_at as delay from jobs")
        ceiling = 10.0 * 2 ** (attempt - 1)
        assert (row["status"], row["attempts"]) == ("failed", attempt)
        assert row["last_error"] == "RuntimeError: vendor timed out"
        assert timedelta(seconds=ceiling / 2) <= row["delay"] <= timedelta(seconds=ceiling + 0.1)
        expected.append(attempt)
        await worker.run_pending()  # not due yet: nothing runs
        assert [run.attempts for run in recorder.runs] == expected
        await _due_now(sql)
    await worker.run_pending()  # the third attempt is the last (jobs_max_attempts = 3)
    assert await sql.fetchval("select status from jobs") == "dead"
    await _due_now(sql)
    await worker.run_pending()
    assert [run.attempts for run in recorder.runs] == [1, 2, 3]


async def test_a_job_may_set_its_own_max_attempts(ctx: JobContext, recorder: Recorder, sql: asyncpg.Connection) -> None:
    recorder.error = RuntimeError("no")
    await _enqueue(ctx.db, max_attempts=1)
    await recorder.worker(ctx).run_pending()
    assert await sql.fetchval("select status from jobs") == "dead"


async def test_a_permanent_error_is_dead_at_once(ctx: JobContext, recorder: Recorder, sql: asyncpg.Connection) -> None:
    recorder.error = PermanentJobError("the vendor refused the e-mail address")
    await _enqueue(ctx.db)
    await recorder.worker(ctx).run_pending()
    row = await sql.fetchrow("select status, attempts, last_error from jobs")
    assert (row["status"], row["attempts"]) == ("dead", 1)
    assert "refused the e-mail address" in row["last_error"]


async def test_a_killed_worker_s_job_runs_again_exactly_once(
    ctx: JobContext, recorder: Recorder, sql: asyncpg.Connection
) -> None:
    await _enqueue(ctx.db)
    # the "killed" worker: it claimed the job and vanished (kill -9), never finishing
    (ghost,) = await queue.claim(
        ctx.db.pool, limit=1, owner="ghost", lease_seconds=60, default_max_attempts=3, kinds=[KIND]
    )
    worker = recorder.worker(ctx)
    await worker.run_pending()
    assert recorder.runs == []  # leased to the ghost
    await sql.execute("update jobs set lease_expires_at = now() - interval '1 second'")  # the lease runs out
    await worker.run_pending()
    await worker.run_pending()
    assert [run.attempts for run in recorder.runs] == [2]
    assert not await queue.finish(ctx.db.pool, ghost, "done")  # a late word from the ghost changes nothing
    assert await sql.fetchval("select status from jobs") == "done"


async def test_a_lease_expired_on_the_last_attempt_makes_the_job_dead_without_running_it(
    ctx: JobContext, recorder: Recorder, sql: asyncpg.Connection
) -> None:
    await _enqueue(ctx.db, max_attempts=1)
    await queue.claim(ctx.db.pool, limit=1, owner="ghost", lease_seconds=60, default_max_attempts=3, kinds=[KIND])
    await sql.execute("update jobs set lease_expires_at = now() - interval '1 second'")
    await recorder.worker(ctx).run_pending()
    assert recorder.runs == []
    row = await sql.fetchrow("select status, last_error from jobs")
    assert row["status"] == "dead" and "stopped" in row["last_error"]


async def test_a_slow_handler_keeps_its_lease(ctx: JobContext, recorder: Recorder, sql: asyncpg.Connection) -> None:
    slow = ctx.__class__(ctx.db, ctx.settings.model_copy(update={"jobs_lease_seconds": 1.0}), ctx.resources)
    recorder.delay = 2.0
    await _enqueue(ctx.db)
    first = asyncio.create_task(recorder.worker(slow, "first").run_pending())
    await asyncio.sleep(1.5)  # past the initial lease: renewed by the heartbeat
    await recorder.worker(slow, "second").run_pending()
    await first
    assert len(recorder.runs) == 1
    assert await sql.fetchval("select status from jobs") == "done"


async def test_two_workers_never_run_a_job_twice(ctx: JobContext, recorder: Recorder, sql: asyncpg.Connection) -> None:
    recorder.delay = 0.01
    ids = await _enqueue(ctx.db, 80)
    await asyncio.gather(recorder.worker(ctx, "a").run_pending(), recorder.worker(ctx, "b").run_pending())
    ran = [run.id for run in recorder.runs]
    assert sorted(ran) == sorted(ids)
    assert await sql.fetchval("select count(*) from jobs where status = 'done' and attempts = 1") == 80
    assert {run.id for run in recorder.runs if run.attempts != 1} == set()


async def test_concurrency_is_bounded_per_worker(ctx: JobContext, sql: asyncpg.Connection) -> None:
    running, peak = 0, 0

    async def handler(_ctx: JobContext, _job: Job) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.02)
        running -= 1

    await _enqueue(ctx.db, 20)
    from services.core.worker import Worker

    await Worker(ctx, {KIND: handler}).run_pending()
    assert peak == ctx.settings.jobs_concurrency == 4
    assert await sql.fetchval("select count(*) from jobs where status = 'done'") == 20


async def test_a_notify_wakes_an_idle_worker_without_waiting_for_the_poll(
    ctx: JobContext, recorder: Recorder, sql: asyncpg.Connection
) -> None:
    worker = recorder.worker(ctx)
    await worker.listen()  # no scheduler: only the NOTIFY can start the job
    try:
        await _enqueue(ctx.db)
        for _ in range(100):
            if await sql.fetchval("select status from jobs") == "done":
                break
            await asyncio.sleep(0.05)
        assert len(recorder.runs) == 1
    finally:
        await worker.stop()


async def test_shutdown_stops_claiming_and_lets_running_handlers_finish(
    ctx: JobContext, recorder: Recorder, sql: asyncpg.Connection
) -> None:
    recorder.delay = 0.3
    await _enqueue(ctx.db, 2)
    worker = recorder.worker(ctx)
    assert await worker.tick() == 2
    await worker.stop()
    assert await sql.fetchval("select count(*) from jobs where status = 'done'") == 2
    await _enqueue(ctx.db)
    assert await worker.tick() == 0  # stopped: claims nothing


async def test_shutdown_timeout_hands_unfinished_jobs_back(
    ctx: JobContext, recorder: Recorder, sql: asyncpg.Connection
) -> None:
    impatient = ctx.__class__(ctx.db, ctx.settings.model_copy(update={"jobs_shutdown_seconds": 0.1}), ctx.resources)
    recorder.delay = 30
    await _enqueue(ctx.db)
    worker = recorder.worker(impatient)
    assert await worker.tick() == 1
    await asyncio.sleep(0.05)
    await worker.stop()
    row = await sql.fetchrow("select status, last_error, lease_token, run_after <= now() as due from jobs")
    assert dict(row) == {"status": "failed", "last_error": "interrupted by shutdown", "lease_token": None, "due": True}


@pytest.mark.parametrize("kind", ["members.invite"])
def test_module_handlers_are_discovered_by_kind(kind: str) -> None:
    from services.core.jobs import registered_handlers

    assert kind in registered_handlers()
