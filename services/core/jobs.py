"""Periodic jobs on APScheduler; each run holds a Postgres advisory lock so replicas never overlap."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from services.core.db import Database, ServiceSession

log = logging.getLogger(__name__)

JobFunc = Callable[[ServiceSession], Awaitable[object]]


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    seconds: int
    run: JobFunc


async def run_locked(db: Database, job: PeriodicJob) -> bool:
    """Run `job` in a service transaction if no other replica holds its lock; True when it ran."""
    key = zlib.crc32(job.name.encode())
    async with db.service_session() as session:
        if not await session.fetchval("select pg_try_advisory_xact_lock($1)", key):
            return False
        result = await job.run(session)
        log.info("job done", extra={"job": job.name, "result": result})
        return True


def build_scheduler(db: Database, jobs: list[PeriodicJob]) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    for job in jobs:
        scheduler.add_job(
            run_locked, "interval", seconds=job.seconds, args=[db, job], id=job.name, max_instances=1, coalesce=True
        )
    return scheduler


def registered_jobs() -> list[PeriodicJob]:
    """Every module's periodic jobs: a module lists them as `JOBS` in `services/<module>/jobs.py`."""
    import services

    jobs: list[PeriodicJob] = []
    for module in pkgutil.iter_modules(services.__path__):
        if module.ispkg and module.name != "core":
            try:
                found = importlib.import_module(f"services.{module.name}.jobs")
            except ModuleNotFoundError as exc:
                if exc.name != f"services.{module.name}.jobs":
                    raise
                continue
            jobs.extend(found.JOBS)
    return jobs
