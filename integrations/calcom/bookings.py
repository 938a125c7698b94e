"""Cal.com API v2 bookings client, pinned to `cal-api-version: 2024-08-13`.

Reference: integrations-reference.md §2.2.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field

from integrations._http import RateLimiter, RetryPolicy, VendorHTTP
from integrations.calcom.common import VENDOR, CalModel
from integrations.errors import IntegrationError, NotConfiguredError, RequestError

DEFAULT_BASE_URL = "https://api.cal.com/v2"
# UNVERIFIED which bookings version a self-hosted instance serves (2024-08-13 vs 2026-02-25); pinned so the
# contract cannot silently fall back to the deprecated one.
BOOKINGS_API_VERSION = "2024-08-13"


class CalcomHost(CalModel):
    id: int | None = None
    name: str | None = None
    email: str | None = None
    username: str | None = None
    time_zone: str | None = None


class CalcomAttendee(CalModel):
    name: str | None = None
    email: str | None = None
    time_zone: str | None = None
    language: str | None = None
    absent: bool | None = None
    phone_number: str | None = None


class CalcomEventTypeRef(CalModel):
    id: int
    slug: str | None = None


class CalcomBooking(CalModel):
    """BookingOutput_2024_08_13 (recurring and seated variants share these fields)."""

    id: int
    uid: str
    title: str | None = None
    description: str | None = None
    status: str
    start: datetime
    end: datetime
    duration: int | None = None
    event_type_id: int | None = None
    event_type: CalcomEventTypeRef | None = None
    hosts: list[CalcomHost] = Field(default_factory=list)
    attendees: list[CalcomAttendee] = Field(default_factory=list)
    guests: list[str] = Field(default_factory=list)
    location: str | None = None
    meeting_url: str | None = None
    cancellation_reason: str | None = None
    cancelled_by_email: str | None = None
    rescheduling_reason: str | None = None
    rescheduled_by_email: str | None = None
    rescheduled_from_uid: str | None = None
    rescheduled_to_uid: str | None = None
    recurring_booking_uid: str | None = None
    absent_host: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    booking_fields_responses: dict[str, Any] = Field(default_factory=dict)
    ics_uid: str | None = None


class CalcomBookingPage(BaseModel):
    bookings: list[CalcomBooking]
    total_items: int | None = None
    has_next_page: bool | None = None


def _utc_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class CalcomClient:
    """Cal.com API v2 bookings. Calls raise NotConfiguredError when no API key was given."""

    def __init__(
        self,
        api_key: str | None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = BOOKINGS_API_VERSION,
        timeout: httpx.Timeout = httpx.Timeout(15.0, connect=5.0),
        retry: RetryPolicy = RetryPolicy(),
        limiter: RateLimiter | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.configured = bool(api_key)
        headers = {"Accept": "application/json", "cal-api-version": api_version}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        # UNVERIFIED for self-hosted: cloud API keys get 120 requests / 60 s.
        self.http = VendorHTTP(
            VENDOR,
            base_url,
            headers=headers,
            timeout=timeout,
            retry=retry,
            limiter=limiter or RateLimiter(120, 60.0),
            transport=transport,
            sleep=sleep,
        )
        # The location endpoint has its own, much tighter throttle (5 / 60 s).
        self.location_limiter = RateLimiter(5, 60.0)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def get_booking(self, uid: str) -> CalcomBooking:
        return CalcomBooking.model_validate(await self._call("GET", self._path(uid)))

    async def list_bookings(
        self,
        *,
        status: Sequence[str] | None = None,
        attendee_email: str | None = None,
        event_type_id: int | None = None,
        after_start: datetime | None = None,
        before_end: datetime | None = None,
        take: int | None = None,
        skip: int | None = None,
    ) -> CalcomBookingPage:
        """`status`: any of upcoming, recurring, past, cancelled, unconfirmed."""
        params: dict[str, str | int] = {}
        if status:
            params["status"] = ",".join(status)
        if attendee_email:
            params["attendeeEmail"] = attendee_email
        if event_type_id is not None:
            params["eventTypeId"] = event_type_id
        if after_start is not None:
            params["afterStart"] = _utc_iso(after_start)
        if before_end is not None:
            params["beforeEnd"] = _utc_iso(before_end)
        if take is not None:
            params["take"] = take
        if skip is not None:
            params["skip"] = skip
        body = await self._call("GET", "/bookings", params=params, envelope=True)
        data = body.get("data")
        if not isinstance(data, list):
            raise IntegrationError(VENDOR, "unexpected bookings list shape")
        pagination = body.get("pagination")
        if not isinstance(pagination, dict):
            pagination = {}
        return CalcomBookingPage(
            bookings=[CalcomBooking.model_validate(item) for item in data],
            total_items=pagination.get("totalItems"),
            has_next_page=pagination.get("hasNextPage"),
        )

    async def cancel_booking(self, uid: str, reason: str | None = None) -> CalcomBooking:
        payload = {"cancellationReason": reason} if reason else {}
        # Not retried: a replay after a lost response would fail as "already cancelled".
        data = await self._call("POST", f"{self._path(uid)}/cancel", json=payload)
        return CalcomBooking.model_validate(data)

    async def reschedule_booking(
        self, uid: str, start: datetime, *, reason: str | None = None, rescheduled_by: str | None = None
    ) -> CalcomBooking:
        """Move a booking; Cal.com creates a NEW booking (returned) and links the old one to it."""
        payload: dict[str, Any] = {"start": _utc_iso(start)}
        if reason:
            payload["reschedulingReason"] = reason
        if rescheduled_by:
            payload["rescheduledBy"] = rescheduled_by
        data = await self._call("POST", f"{self._path(uid)}/reschedule", json=payload)
        return CalcomBooking.model_validate(data)

    async def set_video_link(self, uid: str, link: str) -> CalcomBooking:
        """Write the Foxeo visio URL as the booking's location (`PATCH /bookings/{uid}/location`)."""
        if not link.startswith(("https://", "http://")):
            raise ValueError("video link must be an http(s) URL")
        self._require()
        await self.location_limiter.acquire()
        # Setting the same link twice is harmless, so the call may be retried.
        data = await self._call(
            "PATCH",
            f"{self._path(uid)}/location",
            json={"location": {"type": "link", "link": link}},
            idempotent=True,
        )
        return CalcomBooking.model_validate(data)

    # -- plumbing

    def _require(self) -> None:
        if not self.configured:
            raise NotConfiguredError(VENDOR, "CALCOM_API_KEY")

    @staticmethod
    def _path(uid: str) -> str:
        if not uid or not uid.strip():
            raise ValueError("booking uid is required")
        return f"/bookings/{quote(uid.strip(), safe='')}"

    async def _call(self, method: str, url: str, *, envelope: bool = False, **kwargs: Any) -> Any:
        """Send and unwrap `{status, data}`; `{status: "error", error}` becomes RequestError."""
        self._require()
        response = await self.http.request(method, url, **kwargs)
        try:
            body = response.json()
        except ValueError as exc:
            raise IntegrationError(VENDOR, f"non-JSON response to {method} {url}") from exc
        if not isinstance(body, dict):
            raise IntegrationError(VENDOR, f"unexpected response shape to {method} {url}")
        if body.get("status") == "error":
            error = body.get("error")
            if not isinstance(error, dict):
                error = {}
            message = error.get("message") or error.get("code") or "request refused"
            raise RequestError(VENDOR, response.status_code, str(message), body)
        if "data" not in body:
            raise IntegrationError(VENDOR, f"response to {method} {url} has no data")
        return body if envelope else body["data"]
