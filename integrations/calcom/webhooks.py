"""Cal.com webhooks in (payload version `2021-10-20`): HMAC signature check and typed events.

Reference: integrations-reference.md §2.1.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, TypeAdapter, model_validator

from integrations.calcom.common import VENDOR, CalModel
from integrations.errors import NotConfiguredError, WebhookSignatureError

SIGNATURE_HEADER = "X-Cal-Signature-256"
WEBHOOK_VERSION_HEADER = "X-Cal-Webhook-Version"
# What Cal.com puts in the signature header when the webhook has no secret: anyone could have sent it.
UNSIGNED_MARKER = "no-secret-provided"


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


class CalcomPerson(CalModel):
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


class BookingPayload(CalModel):
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


class NoShowAttendee(CalModel):
    email: str
    no_show: bool


class NoShowPayload(CalModel):
    booking_uid: str
    booking_id: int | None = None
    attendees: list[NoShowAttendee] = Field(default_factory=list)
    message: str | None = None


class MeetingBooking(CalModel):
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


class _Envelope(CalModel):
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


_KNOWN_TRIGGERS = frozenset(
    {
        "BOOKING_CREATED",
        "BOOKING_RESCHEDULED",
        "BOOKING_CANCELLED",
        "BOOKING_NO_SHOW_UPDATED",
        "MEETING_STARTED",
        "MEETING_ENDED",
    }
)


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


def verify_and_parse_webhook(raw_body: bytes, signature: str | None, secret: str | None) -> CalcomWebhookEvent:
    verify_webhook_signature(raw_body, signature, secret)
    return parse_webhook(raw_body)
