"""The queue against the real database: a Database pool, a job context, and a recording handler."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.core.db import Database
from services.core.queue import JobContext
from services.core.settings import Settings
from tests.jobs.kit import Recorder


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=6)
    await database.open()
    yield database
    await database.close()


@pytest.fixture
def queue_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "jobs_concurrency": 4,
            "jobs_batch_size": 4,
            "jobs_backoff_base_seconds": 10.0,
            "jobs_backoff_cap_seconds": 3600.0,
            "jobs_max_attempts": 3,
            "jobs_lease_seconds": 60.0,
            "jobs_shutdown_seconds": 5.0,
        }
    )


@pytest.fixture
def ctx(db: Database, queue_settings: Settings) -> JobContext:
    return JobContext(db, queue_settings)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
