"""Preferences and quiet hours → whether a notification exists, and its sound/badge flags."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.notifications.delivery import delivery, in_quiet_hours, load_prefs, load_quiet_hours
from services.profiles.schemas import NotificationPrefs, QuietHours

PARIS_NIGHT = datetime(2025, 1, 15, 22, 30, tzinfo=UTC)  # 23:30 in Paris (UTC+1 in winter)
PARIS_DAY = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


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
def test_quiet_hours_window_wraps_midnight(start, end, local, expected):
    quiet = QuietHours(enabled=True, start=start, end=end, time_zone="UTC")
    hour, minute = map(int, local.split(":"))
    assert in_quiet_hours(quiet, datetime(2025, 6, 1, hour, minute, tzinfo=UTC)) is expected


def test_quiet_hours_use_the_users_time_zone_and_are_off_by_default():
    assert in_quiet_hours(QuietHours(enabled=True, time_zone="Europe/Paris"), PARIS_NIGHT)
    assert not in_quiet_hours(QuietHours(enabled=True, time_zone="America/New_York"), PARIS_NIGHT)  # 17:30
    assert not in_quiet_hours(QuietHours(), PARIS_NIGHT)


def test_sound_is_muted_in_quiet_hours_except_high_priority():
    prefs, quiet = NotificationPrefs(), QuietHours(enabled=True)
    assert delivery(prefs, quiet, "chat", None, PARIS_DAY).sound is True
    muted = delivery(prefs, quiet, "chat", None, PARIS_NIGHT)
    assert muted.sound is False and muted.badge is True and muted.priority == "normal"
    assert delivery(prefs, quiet, "chat", "high", PARIS_NIGHT).sound is True
    assert delivery(prefs, quiet, "validation_hub", None, PARIS_NIGHT).sound is True  # its default is high


def test_disabled_source_creates_nothing_and_flags_follow_the_source():
    prefs = load_prefs({"chat": {"enabled": False}, "system": {"badge": False, "sound": True}})
    assert delivery(prefs, QuietHours(), "chat", "high", PARIS_DAY) is None
    system = delivery(prefs, QuietHours(), "system", None, PARIS_DAY)
    assert (system.badge, system.sound, system.priority) == (False, True, "low")


def test_malformed_stored_preferences_fall_back_to_defaults():
    assert load_prefs({"chat": {"enabled": "maybe"}, "validation_hub": 3}) == NotificationPrefs()
    assert load_prefs(None) == NotificationPrefs()
    assert load_quiet_hours({"enabled": True, "time_zone": "Mars/Olympus"}) == QuietHours()
    assert load_quiet_hours({"enabled": True}).start == "22:00"
