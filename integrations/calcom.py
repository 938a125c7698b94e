"""Cal.com: signed webhooks in (bookings, meetings) and the API v2 bookings client out.

Reference: integrations-reference.md §2. Webhook payloads are version `2021-10-20`; API v2 bookings are pinned
to `cal-api-version: 2024-08-13`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, model_validator
from pydantic.alias_generators import to_camel

from integrations._http import RateLimiter, RetryPolicy, VendorHTTP
from integrations.errors import IntegrationError, NotConfiguredError, RequestError, WebhookSignatureError

VENDOR = "calcom"
DEFAULT_BASE_URL = "https://api.cal.com/v2"
# UNVERIFIED which bookings version a self-hosted instance serves (2024-08-13 vs 2026-02-25); pinned so the
# contract cannot silently fall back to the deprecated one.
BOOKINGS_API_VERSION = "2024-08-13"
SIGNATURE_HEADER = "X-Cal-Signature-256"
WEBHOOK_VERSION_HEADER = "X-Cal-Webhook-Version"
# What Cal.com puts in the signature header when the webhook has no secret: anyone could have sent it.
UNSIGNED_MARKER = "no-secret-provided"


# ---------------------------------------------------------------------------------------------- webhooks


def verify_webhook_signature(raw_body: bytes, signature: str | None, secret: str | None) -> None:
    """Check `X-Cal-Signature-256` (hex HMAC-SHA256 of the raw body); raise WebhookSignatureError if wrong."""
    if not secret or secret == UNSIGNED_MARKER:
        raise NotConfiguredError(VENDOR, "CALCOM_WEBHOOK_SECRET")
    if not signature or not signature.strip():
        raise WebhookSignatureError(VENDOR, f"missing {SIGNATURE_HEADER} header")
    received = signature.strip().lower()
    if received == UNSIGNED_MARKER:
        raise WebhookSignatureError(VENDOR, "webhook sent without a secret (no-secret-provided)")
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), received.encode("utf-8", "replace")):
        raise WebhookSignatureError(VENDOR, "signature mismatch")


class _CalModel(BaseModel):
    # Cal.com adds fields often; keep them (extra="allow") rather than fail or lose them.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class CalcomPerson(_CalModel):
    """An organizer or attendee as webhooks send them."""

    id: int | None = None
    name: str | None = None
    email: str | None = None
    username: str | None = None
    time_zone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone_number: str | None = None
    locale: str | None = None
    no_show: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _lift_locale(cls, data: Any) -> Any:
        # Booking triggers nest `language: {locale}`; MEETING_* rows carry a flat `locale`.
        if isinstance(data, dict) and not data.get("locale"):
            language = data.get("language")
            if isinstance(language, dict) and language.get("locale"):
                data = {**data, "locale": language["locale"]}
        return data


class BookingPayload(_CalModel):
    """`payload` of BOOKING_CREATED and the other booking triggers."""

    uid: str
    booking_id: int | None = None
    event_type_id: int | None = None
    event_type_slug: str | None = Field(default=None, alias="type")
    title: str | None = None
    description: str | None = None
    additional_notes: str | None = None
    start_time: datetime
    end_time: datetime
    length: int | None = None
    status: str | None = None
    location: str | None = None
    organizer: CalcomPerson | None = None
    attendees: list[CalcomPerson] = Field(default_factory=list)
    responses: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    video_call_data: dict[str, Any] | None = None
    ical_uid: str | None = Field(default=None, alias="iCalUID")
    organization_id: int | None = None

    @property
    def video_call_url(self) -> str | None:
        url = self.metadata.get("videoCallUrl")
        if not url and self.video_call_data:
            url = self.video_call_data.get("url")
        return url if isinstance(url, str) and url else None

    def response_value(self, field: str) -> Any:
        """Booking-form answer by field name (`responses.<field>.value`), None when unanswered."""
        answer = self.responses.get(field)
        return answer.get("value") if isinstance(answer, dict) else answer


class RescheduledPayload(BookingPayload):
    """`uid`/`booking_id` are the NEW booking; `reschedule_*` point to the one it replaces."""

    reschedule_uid: str | None = None
    reschedule_id: int | None = None
    reschedule_start_time: datetime | None = None
    reschedule_end_time: datetime | None = None
    # Newer sender code only (absent from the docs example): free-form, kept as sent.
    rescheduled_by: Any = None


class CancelledPayload(BookingPayload):
    cancellation_reason: str | None = None
    request_reschedule: bool | None = None
    cancelled_by: Any = None


class NoShowAttendee(_CalModel):
    email: str
    no_show: bool


class NoShowPayload(_CalModel):
    booking_uid: str
    booking_id: int | None = None
    attendees: list[NoShowAttendee] = Field(default_factory=list)
    message: str | None = None


class MeetingBooking(_CalModel):
    """The booking row that MEETING_STARTED / MEETING_ENDED send flat at the top level."""

    id: int | None = None
    uid: str
    title: str | None = None
    description: str | None = None
    event_type_id: int | None = None
    user_id: int | None = None
    user_primary_email: str | None = None
    start_time: datetime
    end_time: datetime
    location: str | None = None
    status: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    responses: dict[str, Any] = Field(default_factory=dict)
    user: CalcomPerson | None = None
    attendees: list[CalcomPerson] = Field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None


class _Envelope(_CalModel):
    created_at: datetime | None = None

    @property
    def dedupe_key(self) -> str:
        """No timestamp is signed, so replays are only caught by storing this key."""
        created = self.created_at.isoformat() if self.created_at else ""
        return f"{getattr(self, 'trigger_event', '')}:{self.booking_uid or ''}:{created}"

    @property
    def booking_uid(self) -> str | None:
        raise NotImplementedError


class BookingCreatedEvent(_Envelope):
    trigger_event: Literal["BOOKING_CREATED"]
    payload: BookingPayload

    @property
    def booking_uid(self) -> str | None:
        return self.payload.uid


class BookingRescheduledEvent(_Envelope):
    trigger_event: Literal["BOOKING_RESCHEDULED"]
    payload: RescheduledPayload

    @property
    def booking_uid(self) -> str | None:
        return self.payload.uid


class BookingCancelledEvent(_Envelope):
    trigger_event: Literal["BOOKING_CANCELLED"]
    payload: CancelledPayload

    @property
    def booking_uid(self) -> str | None:
        return self.payload.uid


class BookingNoShowUpdatedEvent(_Envelope):
    trigger_event: Literal["BOOKING_NO_SHOW_UPDATED"]
    payload: NoShowPayload

    @property
    def booking_uid(self) -> str | None:
        return self.payload.booking_uid


class _MeetingEvent(_Envelope):
    booking: MeetingBooking

    @model_validator(mode="before")
    @classmethod
    def _wrap_flat_row(cls, data: Any) -> Any:
        # The row's own `createdAt` is the booking's creation time, not the delivery's: it stays on `booking`.
        if isinstance(data, dict) and "booking" not in data:
            row = {key: value for key, value in data.items() if key != "triggerEvent"}
            return {"triggerEvent": data.get("triggerEvent"), "booking": row}
        return data

    @property
    def booking_uid(self) -> str | None:
        return self.booking.uid

    @property
    def dedupe_key(self) -> str:
        # A booking's meeting starts and ends once; the trigger and uid identify the delivery.
        return f"{getattr(self, 'trigger_event', '')}:{self.booking.uid}"


class MeetingStartedEvent(_MeetingEvent):
    trigger_event: Literal["MEETING_STARTED"]


class MeetingEndedEvent(_MeetingEvent):
    trigger_event: Literal["MEETING_ENDED"]


class GenericCalcomEvent(_Envelope):
    """Any other trigger (or a custom payload template): kept raw so the receiver can log and ack it."""

    trigger_event: str = "UNKNOWN"
    payload: Any = None

    @property
    def booking_uid(self) -> str | None:
        source = self.payload if isinstance(self.payload, dict) else (self.model_extra or {})
        uid = source.get("uid") or source.get("bookingUid")
        return uid if isinstance(uid, str) else None


_KNOWN_TRIGGERS = frozenset({
    "BOOKING_CREATED", "BOOKING_RESCHEDULED", "BOOKING_CANCELLED", "BOOKING_NO_SHOW_UPDATED",
    "MEETING_STARTED", "MEETING_ENDED",
})


def _trigger_tag(value: Any) -> str:
    trigger = value.get("triggerEvent") if isinstance(value, dict) else getattr(value, "trigger_event", None)
    return trigger if trigger in _KNOWN_TRIGGERS else "OTHER"


CalcomWebhookEvent = Annotated[
    Annotated[BookingCreatedEvent, Tag("BOOKING_CREATED")]
    | Annotated[BookingRescheduledEvent, Tag("BOOKING_RESCHEDULED")]
    | Annotated[BookingCancelledEvent, Tag("BOOKING_CANCELLED")]
    | Annotated[BookingNoShowUpdatedEvent, Tag("BOOKING_NO_SHOW_UPDATED")]
    | Annotated[MeetingStartedEvent, Tag("MEETING_STARTED")]
    | Annotated[MeetingEndedEvent, Tag("MEETING_ENDED")]
    | Annotated[GenericCalcomEvent, Tag("OTHER")],
    Discriminator(_trigger_tag),
]
_EVENT_ADAPTER: TypeAdapter[CalcomWebhookEvent] = TypeAdapter(CalcomWebhookEvent)


def parse_webhook(body: bytes | str | dict[str, Any]) -> CalcomWebhookEvent:
    """Typed event from a webhook body; ValueError (incl. pydantic's ValidationError) when malformed."""
    data = json.loads(body) if isinstance(body, bytes | str) else body
    if not isinstance(data, dict):
        raise ValueError("Cal.com webhook body is not a JSON object")
    return _EVENT_ADAPTER.validate_python(data)


def verify_and_parse_webhook(
    raw_body: bytes, signature: str | None, secret: str | None
) -> CalcomWebhookEvent:
    verify_webhook_signature(raw_body, signature, secret)
    return parse_webhook(raw_body)


# ---------------------------------------------------------------------------------------------- API v2


class CalcomHost(_CalModel):
    id: int | None = None
    name: str | None = None
    email: str | None = None
    username: str | None = None
    time_zone: str | None = None


class CalcomAttendee(_CalModel):
    name: str | None = None
    email: str | None = None
    time_zone: str | None = None
    language: str | None = None
    absent: bool | None = None
    phone_number: str | None = None


class CalcomEventTypeRef(_CalModel):
    id: int
    slug: str | None = None


class CalcomBooking(_CalModel):
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
            VENDOR, base_url, headers=headers, timeout=timeout, retry=retry,
            limiter=limiter or RateLimiter(120, 60.0), transport=transport, sleep=sleep,
        )
        # The location endpoint has its own, much tighter throttle (5 / 60 s).
        self._location_limiter = RateLimiter(5, 60.0)

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
        await self._location_limiter.acquire()
        # Setting the same link twice is harmless, so the call may be retried.
        data = await self._call(
            "PATCH", f"{self._path(uid)}/location",
            json={"location": {"type": "link", "link": link}}, idempotent=True,
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
