"""How a notification is delivered to one user: pure functions of their preferences and the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from services.profiles.schemas import NotificationPrefs, NotificationSource, Priority, QuietHours, SourcePrefs


@dataclass(frozen=True, slots=True)
class Delivery:
    priority: Priority
    sound: bool
    badge: bool


def load_prefs(raw: dict[str, Any] | None) -> NotificationPrefs:
    """Stored preferences merged over the defaults; a malformed row never blocks a notification."""
    defaults = NotificationPrefs()
    if not raw:
        return defaults
    merged: dict[str, Any] = {}
    for source in NotificationPrefs.model_fields:
        base = getattr(defaults, source).model_dump()
        stored = raw.get(source)
        try:
            values = {**base, **stored} if isinstance(stored, dict) else base
            merged[source] = SourcePrefs.model_validate(values)
        except ValidationError:
            merged[source] = SourcePrefs.model_validate(base)
    return NotificationPrefs(**merged)


def load_quiet_hours(raw: dict[str, Any] | None) -> QuietHours:
    if not raw:
        return QuietHours()
    try:
        return QuietHours.model_validate({**QuietHours().model_dump(), **raw})
    except ValidationError:
        return QuietHours()


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def in_quiet_hours(quiet: QuietHours, now: datetime) -> bool:
    """Whether `now` falls in [start, end) in the user's time zone; a window may wrap midnight."""
    if not quiet.enabled:
        return False
    local = now.astimezone(ZoneInfo(quiet.time_zone)).time().replace(second=0, microsecond=0)
    start, end = _clock(quiet.start), _clock(quiet.end)
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def delivery(
    prefs: NotificationPrefs,
    quiet: QuietHours,
    source: NotificationSource,
    priority: Priority | None,
    now: datetime | None = None,
) -> Delivery | None:
    """None when the user switched the source off; otherwise the flags stored on the notification.
    Inside quiet hours there is no sound, except for `high` priority."""
    source_prefs: SourcePrefs = getattr(prefs, source)
    if not source_prefs.enabled:
        return None
    effective = priority or source_prefs.priority
    quiet_now = in_quiet_hours(quiet, now or datetime.now(UTC))
    sound = source_prefs.sound and (effective == "high" or not quiet_now)
    return Delivery(priority=effective, sound=sound, badge=source_prefs.badge)
