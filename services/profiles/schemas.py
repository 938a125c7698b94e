from __future__ import annotations

import re
from typing import Annotated, Literal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.core.input_types import Bool, Omittable
from services.core.schemas import Timestamp

Theme = Literal["light", "dark", "system"]
Priority = Literal["low", "normal", "high"]
NotificationSource = Literal["chat", "validation_hub", "system"]


def _check_time(value: str) -> str:
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", value):
        raise ValueError("time must be HH:MM (00:00 to 23:59)")
    return value


def _check_zone(value: str) -> str:
    if value not in available_timezones():
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Paris)")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


ClockTime = Annotated[str, AfterValidator(_check_time)]
TooltipKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.\-]{1,64}$")]
TimeZoneName = Annotated[str, AfterValidator(_check_zone)]


class SourcePrefs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    sound: bool = True
    badge: bool = True
    priority: Priority = "normal"


class SourcePrefsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: Omittable[Bool] = None
    sound: Omittable[Bool] = None
    badge: Omittable[Bool] = None
    priority: Omittable[Priority] = None


class NotificationPrefs(BaseModel):
    chat: SourcePrefs = SourcePrefs()
    validation_hub: SourcePrefs = SourcePrefs(priority="high")
    system: SourcePrefs = SourcePrefs(sound=False, priority="low")


class NotificationPrefsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chat: Omittable[SourcePrefsUpdate] = None
    validation_hub: Omittable[SourcePrefsUpdate] = None
    system: Omittable[SourcePrefsUpdate] = None


class QuietHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    start: ClockTime = "22:00"
    end: ClockTime = "08:00"
    time_zone: TimeZoneName = "Europe/Paris"


class QuietHoursUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: Omittable[Bool] = None
    start: Omittable[ClockTime] = None
    end: Omittable[ClockTime] = None
    time_zone: Omittable[TimeZoneName] = None

    @model_validator(mode="after")
    def _start_differs_from_end(self) -> QuietHoursUpdate:
        if self.start is not None and self.start == self.end:
            raise ValueError("quiet hours start and end must differ")
        return self


class Onboarding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_launch_done: bool = False
    tooltips_seen: list[TooltipKey] = Field(default=[], max_length=500)


class OnboardingUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_launch_done: Omittable[Bool] = None
    tooltips_seen: Omittable[list[TooltipKey]] = Field(None, max_length=500)


class ProfileRead(BaseModel):
    user_id: UUID
    email: str | None
    is_operator: bool
    client_ids: list[UUID]
    display_name: str | None
    avatar_url: str | None
    locale: str
    theme: Theme
    notification_prefs: NotificationPrefs
    quiet_hours: QuietHours
    onboarding: Onboarding
    created_at: Timestamp
    updated_at: Timestamp


class ProfileUpdate(BaseModel):
    """Only the fields sent change; nested preferences are merged, not replaced."""

    model_config = ConfigDict(extra="forbid")

    display_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)] | None = None
    avatar_url: Annotated[str, StringConstraints(max_length=2048, pattern=r"^https?://\S+$")] | None = None
    locale: Omittable[Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")]] = None
    theme: Omittable[Theme] = None
    notification_prefs: Omittable[NotificationPrefsUpdate] = None
    quiet_hours: Omittable[QuietHoursUpdate] = None
    onboarding: Omittable[OnboardingUpdate] = None
