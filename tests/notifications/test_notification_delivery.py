"""Preferences and quiet hours → whether a notification exists, and its sound/badge flags
(private.notification_delivery, which private.notify applies to every recipient)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

PARIS_NIGHT = datetime(2025, 1, 15, 22, 30, tzinfo=UTC)  # 23:30 in Paris (UTC+1 in winter)
PARIS_DAY = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
QUIET = {"enabled": True}  # the defaults otherwise: 22:00–08:00, Europe/Paris


Flags = tuple[str, bool, bool]
# (prefs, quiet, source, priority, now): prefs and quiet are stored JSON (any shape, malformed ones too).
Delivery = Callable[[Any, Any, str, str | None, datetime], Awaitable[Flags | None]]


@pytest.fixture
def delivery(sql: asyncpg.Connection) -> Delivery:
    """`await delivery(prefs, quiet, source, priority, now)` → (priority, sound, badge), or None."""

    async def delivery_(prefs: Any, quiet: Any, source: str, priority: str | None, now: datetime) -> Flags | None:
        row = await sql.fetchrow(
            "select * from private.notification_delivery($1::jsonb, $2::jsonb, $3, $4, $5)",
            None if prefs is None else json.dumps(prefs),
            None if quiet is None else json.dumps(quiet),
            source,
            priority,
            now,
        )
        return None if row is None else (row["priority"], row["sound"], row["badge"])

    return delivery_


async def quiet_at(delivery: Delivery, quiet: Any, now: datetime) -> bool:
    """Whether `now` falls in these quiet hours: the sound of a normal-priority chat notification."""
    return not sound(await delivery(None, quiet, "chat", None, now))


def sound(flags: Flags | None) -> bool:
    """The sound flag of a delivery that creates a notification."""
    assert flags is not None
    return flags[1]


@pytest.mark.parametrize(
    ("start", "end", "local", "expected"),
    [
        ("22:00", "08:00", "23:30", True),
        ("22:00", "08:00", "07:59", True),
        ("22:00", "08:00", "08:00", False),
        ("22:00", "08:00", "21:59", False),
        ("22:00", "08:00", "22:00", True),
        ("00:00", "06:00", "03:00", True),
        ("13:00", "14:00", "13:30", True),
        ("13:00", "14:00", "14:30", False),
    ],
)
async def test_quiet_hours_window_wraps_midnight(
    delivery: Delivery, start: str, end: str, local: str, expected: bool
) -> None:
    quiet = {"enabled": True, "start": start, "end": end, "time_zone": "UTC"}
    hour, minute = map(int, local.split(":"))
    assert await quiet_at(delivery, quiet, datetime(2025, 6, 1, hour, minute, 30, tzinfo=UTC)) is expected


async def test_quiet_hours_use_the_users_time_zone_and_are_off_by_default(delivery: Delivery) -> None:
    assert await quiet_at(delivery, {"enabled": True, "time_zone": "Europe/Paris"}, PARIS_NIGHT)
    assert not await quiet_at(delivery, {"enabled": True, "time_zone": "America/New_York"}, PARIS_NIGHT)  # 17:30
    assert not await quiet_at(delivery, None, PARIS_NIGHT)
    assert not await quiet_at(delivery, {"enabled": False}, PARIS_NIGHT)


async def test_sound_is_muted_in_quiet_hours_except_high_priority(delivery: Delivery) -> None:
    assert sound(await delivery(None, QUIET, "chat", None, PARIS_DAY)) is True
    muted = await delivery(None, QUIET, "chat", None, PARIS_NIGHT)
    assert muted == ("normal", False, True)
    assert sound(await delivery(None, QUIET, "chat", "high", PARIS_NIGHT)) is True
    assert sound(await delivery(None, QUIET, "validation_hub", None, PARIS_NIGHT)) is True  # its default is high


async def test_disabled_source_creates_nothing_and_flags_follow_the_source(delivery: Delivery) -> None:
    prefs = {"chat": {"enabled": False}, "system": {"badge": False, "sound": True}}
    assert await delivery(prefs, None, "chat", "high", PARIS_DAY) is None
    assert await delivery(prefs, None, "system", None, PARIS_DAY) == ("low", True, False)


async def test_malformed_stored_preferences_fall_back_to_defaults(delivery: Delivery) -> None:
    malformed = {"chat": {"enabled": "maybe"}, "validation_hub": 3, "system": {"colour": "red"}}
    assert await delivery(malformed, None, "chat", None, PARIS_DAY) == ("normal", True, True)
    assert await delivery(malformed, None, "validation_hub", None, PARIS_DAY) == ("high", True, True)
    assert await delivery(malformed, None, "system", None, PARIS_DAY) == ("low", False, True)
    assert await delivery(None, None, "system", None, PARIS_DAY) == ("low", False, True)
    for quiet in (
        {"enabled": True, "time_zone": "Mars/Olympus"},
        {"enabled": True, "start": "25:00"},
        {"enabled": True, "colour": "red"},
    ):
        assert not await quiet_at(delivery, quiet, PARIS_NIGHT), quiet
    assert await quiet_at(delivery, {"enabled": True}, PARIS_NIGHT)  # start 22:00 by default
