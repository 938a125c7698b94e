"""The queue's worker: claims due jobs in batches, runs their handlers concurrently (bounded), and
records each outcome under the job's lease.

APScheduler drives the clock (a poll every FOXEO_JOBS_POLL_INTERVAL_MS); a LISTEN on `foxeo_jobs`
wakes an idle worker as soon as a transaction that enqueued a job commits. Each poll of an idle queue
is one statement (the claim) on an empty partial index.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from contextlib import AsyncExitStack
from typing import Any

import asyncpg
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from services.core import queue
from services.core.db import is_pooler
from services.core.jobs import build_scheduler, registered_handlers, registered_jobs
from services.core.queue import Job, JobContext, JobHandler, PermanentJobError

log = logging.getLogger(__name__)
_RNG = random.Random()


def backoff_seconds(attempts: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter after the `attempts`-th failed run: a delay drawn uniformly in
    [d/2, d] where d = min(cap, base * 2**(attempts-1)), so retries spread out but never come early."""
    ceiling = min(cap, base * 2.0 ** min(attempts - 1, 62))
    jitter: float = (rng or _RNG).uniform(0, ceiling / 2)
    return ceiling / 2 + jitter


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:4000]


class Worker:
    def __init__(self, ctx: JobContext, handlers: dict[str, JobHandler], *, owner: str | None = None) -> None:
        self.ctx = ctx
        self.handlers = handlers
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._settings = ctx.settings
        self._batch = min(ctx.settings.jobs_batch_size, ctx.settings.jobs_concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._claiming = asyncio.Lock()
        self._stopping = False
        self._listener: asyncpg.Connection | None = None
        self._more_due = False  # the last claim was full: claim again as soon as a slot frees
        self._waking: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ claiming
    async def tick(self) -> int:
        """Claim as many due jobs as there are free slots and start them; the number started."""
        if self._stopping:
            return 0
        async with self._claiming:  # one claim at a time per process
            free = self._settings.jobs_concurrency - len(self._tasks)
            if free <= 0:
                self._more_due = True
                return 0
            limit = min(free, self._batch)
            jobs = await queue.claim(
                self.ctx.db.pool,
                limit=limit,
                owner=self.owner,
                lease_seconds=self._settings.jobs_lease_seconds,
                default_max_attempts=self._settings.jobs_max_attempts,
                kinds=list(self.handlers),
            )
            self._more_due = len(jobs) == limit
            for job in jobs:
                task = asyncio.get_running_loop().create_task(self.execute(job), name=f"job-{job.kind}")
                self._tasks.add(task)
                task.add_done_callback(self._done)
            return len(jobs)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        # More is due: claim again once half a batch of slots is free (or none is busy), so a backlog
        # costs one claim per half batch rather than one per job.
        free = self._settings.jobs_concurrency - len(self._tasks)
        if self._more_due and (not self._tasks or free >= max(1, self._batch // 2)):
            self.wake()

    def wake(self) -> None:
        """Claim now rather than at the next poll (a NOTIFY arrived, or a slot freed with more due)."""
        if not self._stopping and (self._waking is None or self._waking.done()):
            self._waking = asyncio.get_running_loop().create_task(self._safe_tick())

    async def _safe_tick(self) -> None:
        try:
            await self.tick()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("job claim failed", extra={"error": _describe(exc)})

    async def run_pending(self) -> None:
        """Run every job due now to its end, claim after claim (tests, the bench, one-off runs)."""
        while True:
            started = await self.tick()
            if self._waking is not None:
                await self._waking
            if not started and not self._tasks:
                return
            if self._tasks:
                await asyncio.wait(set(self._tasks), return_when=asyncio.FIRST_COMPLETED)

    # ------------------------------------------------------------------ running
    async def execute(self, job: Job) -> None:
        """Run one claimed job and record its outcome, keeping its lease alive while it runs."""
        try:
            await self._execute(job)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # The outcome could not be written: the lease will expire and the job run again.
            log.error("job outcome not recorded", extra={"job_id": str(job.id), "error": _describe(exc)})

    async def _execute(self, job: Job) -> None:
        pool = self.ctx.db.pool
        if job.attempts > job.max_attempts:  # its last run died with its worker (lease expired)
            await queue.finish(pool, job, "dead", error="the worker running its last attempt stopped")
            return
        heartbeat = asyncio.get_running_loop().create_task(self._keep_lease(job))
        try:
            await self.handlers[job.kind](self.ctx, job)
        except PermanentJobError as exc:
            await self._record(job, "dead", exc)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):  # shutdown timeout: hand the job back at once
                await asyncio.shield(queue.finish(pool, job, "failed", error="interrupted by shutdown"))
            raise
        except Exception as exc:
            exhausted = job.attempts >= job.max_attempts
            await self._record(job, "dead" if exhausted else "failed", exc)
        else:
            if not await queue.finish(pool, job, "done"):
                log.warning("job finished after losing its lease", extra={"job_id": str(job.id), "kind": job.kind})
        finally:
            heartbeat.cancel()

    async def _record(self, job: Job, status: str, exc: BaseException) -> None:
        s = self._settings
        delay = backoff_seconds(job.attempts, s.jobs_backoff_base_seconds, s.jobs_backoff_cap_seconds)
        log.log(
            logging.ERROR if status == "dead" else logging.WARNING,
            "job %s",
            status,
            extra={"job_id": str(job.id), "kind": job.kind, "attempts": job.attempts, "error": _describe(exc)},
        )
        await queue.finish(
            self.ctx.db.pool, job, status, error=_describe(exc), delay_seconds=delay if status == "failed" else 0
        )

    async def _keep_lease(self, job: Job) -> None:
        lease = self._settings.jobs_lease_seconds
        while True:
            await asyncio.sleep(lease / 3)
            try:
                if not await queue.extend_lease(self.ctx.db.pool, job, lease):
                    return  # lost: another run owns the job; our finish will be ignored
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("job lease not renewed", extra={"job_id": str(job.id), "error": _describe(exc)})

    # ------------------------------------------------------------------ lifecycle
    def schedule(self, scheduler: AsyncIOScheduler) -> None:
        scheduler.add_job(
            self._safe_tick,
            "interval",
            seconds=self._settings.jobs_poll_interval_ms / 1000,
            id="queue.poll",
            max_instances=1,
            coalesce=True,
        )

    async def listen(self) -> None:
        """LISTEN for enqueues; skipped behind a transaction-mode pooler (polling still runs)."""
        if is_pooler(self.ctx.db.dsn):
            return
        self._listener = await asyncpg.connect(
            self.ctx.db.dsn, server_settings={"application_name": "foxeo-worker-listen"}
        )
        await self._listener.add_listener(queue.CHANNEL, self._on_notify)

    def _on_notify(self, *_: Any) -> None:
        self.wake()

    async def stop(self) -> None:
        """Stop claiming; let running handlers finish up to FOXEO_JOBS_SHUTDOWN_SECONDS, then cancel
        them (their jobs go back to `failed`, due at once)."""
        self._stopping = True
        if self._waking is not None:
            await self._waking
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._listener.close(), 2)
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=self._settings.jobs_shutdown_seconds)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)


async def start_background(ctx: JobContext, stack: AsyncExitStack) -> Worker:
    """The scheduler (periodic jobs under their advisory locks) and the queue worker, stopped with
    `stack`: the scheduler first (no more polls), then the worker (stop claiming, drain)."""
    scheduler = build_scheduler(ctx.db, registered_jobs())
    worker = Worker(ctx, registered_handlers())
    stack.push_async_callback(worker.stop)
    worker.schedule(scheduler)
    await worker.listen()
    scheduler.start()
    stack.callback(scheduler.shutdown, wait=False)
    return worker
