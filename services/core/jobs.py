"""Periodic jobs on APScheduler (each run holds a Postgres advisory lock so replicas never overlap),
and the discovery of every module's periodic jobs and queue handlers."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import zlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import cache
from types import ModuleType

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from services.core.db import Database, ServiceSession
from services.core.queue import JobHandler

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


def _job_modules() -> Iterator[tuple[str, ModuleType]]:
    """Each module's `services/<module>/jobs.py`, where it has one."""
    import services

    for module in pkgutil.iter_modules(services.__path__):
        if module.ispkg and module.name != "core":
            try:
                yield module.name, importlib.import_module(f"services.{module.name}.jobs")
            except ModuleNotFoundError as exc:
                if exc.name != f"services.{module.name}.jobs":
                    raise


def registered_jobs() -> list[PeriodicJob]:
    """Every module's periodic jobs: a module lists them as `JOBS` in `services/<module>/jobs.py`."""
    return [job for _, found in _job_modules() for job in getattr(found, "JOBS", [])]


@cache
def registered_handlers() -> dict[str, JobHandler]:
    """Every module's queue handlers: `HANDLERS` in `services/<module>/jobs.py`, each kind named
    `<module>.<name>` so a kind says which module owns it."""
    handlers: dict[str, JobHandler] = {}
    for name, found in _job_modules():
        for kind, handler in getattr(found, "HANDLERS", {}).items():
            if not kind.startswith(f"{name}."):
                raise ValueError(f"job kind {kind!r} of services.{name} must start with {name!r}.")
            handlers[kind] = handler
    return handlers
