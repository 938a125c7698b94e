"""The reminders engine and the outbox against the real database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.core.db import Database


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=6)
    await database.open()
    yield database
    await database.close()
