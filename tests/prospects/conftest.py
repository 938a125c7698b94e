"""The agenda tests' settings (Cal.com, LiveKit) and a booked prospect with its pre-visio link."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg
import httpx
import pytest

from tests.agenda.conftest import at, created, deliver, settings  # noqa: F401  (fixture)
from tests.integrations.conftest import fixture_json  # noqa: F401  (fixture)
from tests.meetings.conftest import twirp  # noqa: F401  (fixture)


@dataclass
class Booked:
    client_id: UUID
    appointment_id: UUID
    token: str
    meeting_id: UUID


async def book(client: httpx.AsyncClient, sql: asyncpg.Connection, uid: str, email: str, days: float = 3) -> Booked:
    """A Cal.com booking delivered to the webhook: the prospect, its appointment and its link."""
    response = await deliver(client, created(uid, at(days), email=email, name="Camille Martin"))
    assert response.status_code == 200, response.text
    row = await sql.fetchrow("select * from appointments where calcom_booking_uid = $1", uid)
    assert row is not None
    return Booked(row["client_id"], row["id"], row["video_url"].rsplit("/", 1)[1], row["meeting_id"])


@pytest.fixture
async def booked(client: httpx.AsyncClient, sql: asyncpg.Connection) -> Booked:
    return await book(client, sql, "bk-1", "camille@example.com")
