"""Cal.com: webhook signatures and typed events (docs fixtures), API v2 bookings client (respx)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx

from integrations.calcom import (
    BOOKINGS_API_VERSION,
    SIGNATURE_HEADER,
    BookingCancelledEvent,
    BookingCreatedEvent,
    BookingNoShowUpdatedEvent,
    BookingRescheduledEvent,
    CalcomClient,
    GenericCalcomEvent,
    MeetingEndedEvent,
    MeetingStartedEvent,
    parse_webhook,
    verify_and_parse_webhook,
    verify_webhook_signature,
)
from integrations.errors import (
    NotConfiguredError,
    NotFoundError,
    RequestError,
    TransientError,
    WebhookSignatureError,
)
from tests.integrations.fake_clock import on_fake_time

SECRET = "whsec-foxeo-test"
BASE = "https://api.cal.com/v2"


async def _no_sleep(_: float) -> None:
    return None


def _sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _webhook_body(fixture_json: Callable[[str], Any], name: str) -> bytes:
    data = fixture_json(name)
    data.pop("_source", None)
    return json.dumps(data).encode()


# Trimmed from the official docs examples (calcom/cal.com docs/developing/guides/automation/webhooks.mdx
# @bad32a8a, payload version 2021-10-20): no recorded fixture for these events.
RESCHEDULED = {
    "triggerEvent": "BOOKING_RESCHEDULED",
    "createdAt": "2024-01-01T10:00:00.000Z",
    "payload": {
        "title": "Strategy Session: Organizer & Guest",
        "startTime": "2024-01-10T14:30:00Z",
        "endTime": "2024-01-10T14:45:00Z",
        "type": "standard-event-type",
        "eventTypeId": 100,
        "organizer": {
            "id": 1,
            "name": "Organizer Name",
            "email": "organizer@example.com",
            "timeZone": "UTC",
            "language": {"locale": "en"},
        },
        "attendees": [
            {
                "email": "guest@example.com",
                "name": "Guest User",
                "firstName": "Guest",
                "lastName": "User",
                "timeZone": "UTC",
                "language": {"locale": "en"},
            }
        ],
        "location": "integrations:video-provider",
        "uid": "new-booking-unique-id",
        "length": 15,
        "bookingId": 201,
        "rescheduleId": 200,
        "rescheduleUid": "previous-booking-unique-id",
        "rescheduleStartTime": "2024-01-05T14:30:00Z",
        "rescheduleEndTime": "2024-01-05T14:45:00Z",
        "metadata": {"videoCallUrl": "https://app.example.com/video/new-booking-unique-id"},
        "status": "ACCEPTED",
    },
}
NO_SHOW = {
    "triggerEvent": "BOOKING_NO_SHOW_UPDATED",
    "createdAt": "2024-01-01T12:00:00.000Z",
    "payload": {
        "message": "guest@example.com unmarked as no-show",
        "attendees": [{"email": "guest@example.com", "noShow": False}],
        "bookingUid": "unique-booking-identifier",
        "bookingId": 100,
    },
}
MEETING_ENDED = {
    "triggerEvent": "MEETING_ENDED",
    "id": 100,
    "uid": "unique-booking-identifier",
    "userId": 10,
    "userPrimaryEmail": "organizer@example.com",
    "eventTypeId": 50,
    "title": "Strategy Session: Organizer & Guest",
    "startTime": "2024-01-01T10:00:00.000Z",
    "endTime": "2024-01-01T10:15:00.000Z",
    "location": "integrations:video-provider",
    "createdAt": "2024-01-01T09:45:00.000Z",
    "updatedAt": "2024-01-01T10:20:00.000Z",
    "status": "ACCEPTED",
    "metadata": {},
    "user": {
        "email": "organizer@example.com",
        "name": "Organizer Name",
        "timeZone": "UTC",
        "username": "organizer-handle",
    },
    "attendees": [
        {
            "id": 101,
            "email": "guest@example.com",
            "name": "Guest User",
            "timeZone": "UTC",
            "phoneNumber": None,
            "locale": "en",
            "bookingId": 100,
            "noShow": False,
        }
    ],
    "payment": [],
    "references": [],
}

# BookingOutput_2024_08_13 built from the example values of its OpenAPI decorators
# (calcom/cal.com packages/platform/types/bookings/2024-08-13/outputs/booking.output.ts).
BOOKING = {
    "id": 123,
    "uid": "booking_uid_123",
    "title": "Consultation",
    "description": "Learn how to integrate scheduling into marketplace.",
    "hosts": [
        {
            "id": 1,
            "name": "Jane Doe",
            "email": "jane100@example.com",
            "displayEmail": "jane100@example.com",
            "username": "jane100",
            "timeZone": "America/Los_Angeles",
        }
    ],
    "status": "accepted",
    "start": "2024-08-13T15:30:00Z",
    "end": "2024-08-13T16:30:00Z",
    "duration": 60,
    "eventTypeId": 50,
    "eventType": {"id": 1, "slug": "some-event"},
    "location": "https://example.com/meeting",
    "absentHost": True,
    "createdAt": "2024-08-13T15:30:00Z",
    "updatedAt": "2024-08-13T15:30:00Z",
    "metadata": {"key": "value"},
    "rating": 4,
    "icsUid": "ics_uid_123",
    "attendees": [
        {
            "name": "John Doe",
            "email": "john@example.com",
            "displayEmail": "john@example.com",
            "timeZone": "America/New_York",
            "language": "en",
            "absent": False,
            "phoneNumber": "+1234567890",
        }
    ],
    "guests": ["guest1@example.com", "guest2@example.com"],
    "bookingFieldsResponses": {"customField": "customValue"},
}


# ------------------------------------------------------------------------------------------- signatures


def test_valid_signature_verifies_and_parses_created(fixture_json: Callable[[str], Any]) -> None:
    body = _webhook_body(fixture_json, "calcom_webhook_booking_created")
    event = verify_and_parse_webhook(body, _sign(body), SECRET)
    assert isinstance(event, BookingCreatedEvent)
    assert event.payload.uid == "unique-booking-id"
    assert event.payload.booking_id == 100
    assert event.payload.event_type_slug == "standard-event-type"
    assert event.payload.start_time == datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
    assert event.payload.organizer is not None and event.payload.organizer.email == "organizer@example.com"
    assert [a.email for a in event.payload.attendees] == ["guest@example.com", "additional-guest@example.com"]
    assert event.payload.attendees[0].locale == "en"
    assert event.payload.video_call_url == "https://app.example.com/video/unique-booking-id"
    assert event.payload.response_value("guests") == ["additional-guest@example.com"]
    assert event.payload.ical_uid == "unique-identifier-string@example.com"
    assert event.dedupe_key == "BOOKING_CREATED:unique-booking-id:2024-01-01T00:00:00+00:00"


def test_signature_is_checked_on_raw_bytes_not_reserialised_json(fixture_json: Callable[[str], Any]) -> None:
    raw = json.dumps(fixture_json("calcom_webhook_booking_created"), indent=2).encode()
    verify_webhook_signature(raw, _sign(raw).upper(), SECRET)  # hex case is not significant
    with pytest.raises(WebhookSignatureError):
        verify_webhook_signature(json.dumps(json.loads(raw)).encode(), _sign(raw), SECRET)


def test_tampered_body_is_refused(fixture_json: Callable[[str], Any]) -> None:
    body = _webhook_body(fixture_json, "calcom_webhook_booking_created")
    signature = _sign(body)
    tampered = body.replace(b"guest@example.com", b"evil@example.com")
    with pytest.raises(WebhookSignatureError) as info:
        verify_and_parse_webhook(tampered, signature, SECRET)
    assert info.value.vendor == "calcom"


def test_wrong_secret_is_refused(fixture_json: Callable[[str], Any]) -> None:
    body = _webhook_body(fixture_json, "calcom_webhook_booking_cancelled")
    with pytest.raises(WebhookSignatureError):
        verify_webhook_signature(body, _sign(body, "another-secret"), SECRET)


@pytest.mark.parametrize("header", ["no-secret-provided", " no-secret-provided ", "", None, "not-hex"])
def test_unsigned_missing_or_garbage_signature_is_refused(header: str | None) -> None:
    with pytest.raises(WebhookSignatureError):
        verify_webhook_signature(b"{}", header, SECRET)


@pytest.mark.parametrize("secret", ["", None, "no-secret-provided"])
def test_no_usable_secret_is_not_configured(secret: str | None) -> None:
    body = b'{"triggerEvent":"BOOKING_CREATED"}'
    with pytest.raises(NotConfiguredError) as info:
        verify_webhook_signature(body, _sign(body, secret or "x"), secret)
    assert info.value.setting == "CALCOM_WEBHOOK_SECRET"


def test_signature_header_name() -> None:
    assert SIGNATURE_HEADER == "X-Cal-Signature-256"


# ------------------------------------------------------------------------------------------- events


def test_cancelled_event(fixture_json: Callable[[str], Any]) -> None:
    event = parse_webhook(_webhook_body(fixture_json, "calcom_webhook_booking_cancelled"))
    assert isinstance(event, BookingCancelledEvent)
    assert event.payload.uid == "unique-booking-identifier"
    assert event.payload.cancellation_reason == "I am no longer able to attend this session."
    assert event.payload.request_reschedule is False
    assert event.payload.status == "CANCELLED"
    assert event.payload.start_time == datetime(2024, 1, 4, 10, 0, tzinfo=UTC)


def test_rescheduled_event_points_to_old_booking() -> None:
    event = parse_webhook(json.dumps(RESCHEDULED))
    assert isinstance(event, BookingRescheduledEvent)
    assert event.booking_uid == "new-booking-unique-id"
    assert event.payload.reschedule_uid == "previous-booking-unique-id"
    assert event.payload.reschedule_id == 200
    assert event.payload.reschedule_start_time == datetime(2024, 1, 5, 14, 30, tzinfo=UTC)


def test_no_show_event() -> None:
    event = parse_webhook(NO_SHOW)
    assert isinstance(event, BookingNoShowUpdatedEvent)
    assert event.booking_uid == "unique-booking-identifier"
    assert [(a.email, a.no_show) for a in event.payload.attendees] == [("guest@example.com", False)]


def test_meeting_ended_flat_shape() -> None:
    event = parse_webhook(json.dumps(MEETING_ENDED).encode())
    assert isinstance(event, MeetingEndedEvent)
    assert event.booking.uid == "unique-booking-identifier"
    assert event.booking.id == 100
    assert event.booking.end_time == datetime(2024, 1, 1, 10, 15, tzinfo=UTC)
    assert event.booking.user is not None and event.booking.user.username == "organizer-handle"
    assert event.booking.attendees[0].locale == "en"
    assert event.booking.attendees[0].no_show is False
    assert event.created_at is None  # the row's createdAt is the booking's, kept on `booking`
    assert event.booking.created_at == datetime(2024, 1, 1, 9, 45, tzinfo=UTC)
    assert event.dedupe_key == "MEETING_ENDED:unique-booking-identifier"


def test_meeting_started_flat_shape() -> None:
    event = parse_webhook({**MEETING_ENDED, "triggerEvent": "MEETING_STARTED"})
    assert isinstance(event, MeetingStartedEvent)
    assert event.booking_uid == "unique-booking-identifier"


@pytest.mark.parametrize(
    "body",
    [
        {"triggerEvent": "OOO_CREATED", "createdAt": "2024-01-01T08:00:00.000Z", "payload": {"oooEntry": {"id": 1}}},
        {
            "triggerEvent": "BOOKING_REQUESTED",
            "createdAt": "2024-01-01T12:00:00.000Z",
            "payload": {"uid": "unique-booking-id", "status": "PENDING"},
        },
        {"content": "A new event has been scheduled", "type": "60min"},  # custom payload template
    ],
)
def test_unknown_trigger_is_a_generic_event(body: dict[str, Any]) -> None:
    event = parse_webhook(json.dumps(body))
    assert isinstance(event, GenericCalcomEvent)
    assert event.trigger_event == body.get("triggerEvent", "UNKNOWN")


def test_generic_event_exposes_booking_uid() -> None:
    event = parse_webhook({"triggerEvent": "BOOKING_PAID", "payload": {"uid": "u-1"}})
    assert event.booking_uid == "u-1"


@pytest.mark.parametrize(
    "body", [b"not json", b"[1, 2]", b'{"triggerEvent": "BOOKING_CREATED", "payload": {"title": "no uid"}}']
)
def test_malformed_body_is_a_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_webhook(body)


# ------------------------------------------------------------------------------------------- API v2


def _client(api_key: str | None = "cal_live_test") -> CalcomClient:
    return CalcomClient(api_key, sleep=_no_sleep)


def _assert_api_headers(request: httpx.Request) -> None:
    assert request.headers["Authorization"] == "Bearer cal_live_test"
    assert request.headers["cal-api-version"] == BOOKINGS_API_VERSION == "2024-08-13"


async def test_get_booking_unwraps_envelope() -> None:
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{BASE}/bookings/booking_uid_123").respond(200, json={"status": "success", "data": BOOKING})
        booking = await _client().get_booking("booking_uid_123")
    request = route.calls.last.request
    _assert_api_headers(request)
    assert booking.id == 123
    assert booking.uid == "booking_uid_123"
    assert booking.status == "accepted"
    assert booking.start == datetime(2024, 8, 13, 15, 30, tzinfo=UTC)
    assert booking.event_type is not None and booking.event_type.slug == "some-event"
    assert booking.hosts[0].email == "jane100@example.com"
    assert booking.attendees[0].email == "john@example.com"
    assert booking.attendees[0].absent is False
    assert booking.guests == ["guest1@example.com", "guest2@example.com"]
    assert booking.booking_fields_responses == {"customField": "customValue"}
    assert booking.location == "https://example.com/meeting"


async def test_list_bookings_sends_filters_and_reads_pagination() -> None:
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{BASE}/bookings").respond(
            200,
            json={
                "status": "success",
                "data": [BOOKING, {**BOOKING, "id": 124, "uid": "recurring_1", "recurringBookingUid": "rec_987"}],
                "pagination": {
                    "totalItems": 12,
                    "remainingItems": 10,
                    "returnedItems": 2,
                    "itemsPerPage": 2,
                    "currentPage": 1,
                    "totalPages": 6,
                    "hasNextPage": True,
                    "hasPreviousPage": False,
                },
            },
        )
        page = await _client().list_bookings(
            status=["upcoming", "unconfirmed"],
            attendee_email="john@example.com",
            event_type_id=50,
            after_start=datetime(2024, 8, 1, 10, 0, tzinfo=timezone(timedelta(hours=2))),
            take=2,
            skip=0,
        )
    request = route.calls.last.request
    _assert_api_headers(request)
    assert dict(request.url.params) == {
        "status": "upcoming,unconfirmed",
        "attendeeEmail": "john@example.com",
        "eventTypeId": "50",
        "afterStart": "2024-08-01T08:00:00Z",
        "take": "2",
        "skip": "0",
    }
    assert [b.uid for b in page.bookings] == ["booking_uid_123", "recurring_1"]
    assert page.bookings[1].recurring_booking_uid == "rec_987"
    assert page.total_items == 12
    assert page.has_next_page is True


async def test_cancel_booking() -> None:
    cancelled = {**BOOKING, "status": "cancelled", "cancellationReason": "Client indisponible"}
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.post(f"{BASE}/bookings/booking_uid_123/cancel").respond(
            200, json={"status": "success", "data": cancelled}
        )
        booking = await _client().cancel_booking("booking_uid_123", "Client indisponible")
    request = route.calls.last.request
    _assert_api_headers(request)
    assert json.loads(request.content) == {"cancellationReason": "Client indisponible"}
    assert booking.status == "cancelled"
    assert booking.cancellation_reason == "Client indisponible"


async def test_reschedule_booking_returns_new_booking() -> None:
    new = {
        **BOOKING,
        "id": 200,
        "uid": "new_uid_456",
        "rescheduledFromUid": "booking_uid_123",
        "start": "2024-08-20T09:00:00Z",
        "end": "2024-08-20T10:00:00Z",
    }
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.post(f"{BASE}/bookings/booking_uid_123/reschedule").respond(
            201, json={"status": "success", "data": new}
        )
        booking = await _client().reschedule_booking(
            "booking_uid_123",
            datetime(2024, 8, 20, 11, 0, tzinfo=timezone(timedelta(hours=2))),
            reason="Conflit d'agenda",
        )
    request = route.calls.last.request
    _assert_api_headers(request)
    assert json.loads(request.content) == {
        "start": "2024-08-20T09:00:00Z",
        "reschedulingReason": "Conflit d'agenda",
    }
    assert booking.uid == "new_uid_456"
    assert booking.rescheduled_from_uid == "booking_uid_123"


async def test_reschedule_refuses_naive_datetime() -> None:
    with pytest.raises(ValueError):
        await _client().reschedule_booking("booking_uid_123", datetime(2024, 8, 20, 11, 0))


async def test_set_video_link_patches_location() -> None:
    link = "https://foxeo.app/visio/room-42"
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.patch(f"{BASE}/bookings/booking_uid_123/location").respond(
            200, json={"status": "success", "data": {**BOOKING, "location": link}}
        )
        booking = await _client().set_video_link("booking_uid_123", link)
    request = route.calls.last.request
    assert request.method == "PATCH"
    _assert_api_headers(request)
    assert json.loads(request.content) == {"location": {"type": "link", "link": link}}
    assert booking.location == link


async def test_set_video_link_is_throttled_to_5_per_minute() -> None:
    client = _client()
    fake = on_fake_time(client.location_limiter)
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.patch(url__regex=rf"{BASE}/bookings/b\d/location").respond(
            200, json={"status": "success", "data": BOOKING}
        )
        for n in range(5):
            await client.set_video_link(f"b{n}", "https://foxeo.app/visio/r")
            fake.now += 2.0
        assert fake.sleeps == []
        await client.set_video_link("b5", "https://foxeo.app/visio/r")  # t=10: first one ages out at t=60
    assert fake.sleeps == [50.0]
    assert route.call_count == 6


def test_bookings_api_is_limited_to_120_per_minute() -> None:
    limiter = _client().http.limiter
    assert limiter is not None
    assert (limiter.max_calls, limiter.period) == (120, 60.0)


async def test_set_video_link_is_retried_on_503() -> None:
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.patch(f"{BASE}/bookings/b1/location")
        route.side_effect = [
            httpx.Response(503),
            httpx.Response(200, json={"status": "success", "data": BOOKING}),
        ]
        await _client().set_video_link("b1", "https://foxeo.app/visio/r")
    assert route.call_count == 2


async def test_cancel_is_not_retried_on_503() -> None:
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.post(f"{BASE}/bookings/b1/cancel").respond(503)
        with pytest.raises(TransientError):
            await _client().cancel_booking("b1")
    assert route.call_count == 1


async def test_4xx_error_envelope_becomes_request_error() -> None:
    error = {
        "status": "error",
        "timestamp": "2024-08-13T15:30:00.000Z",
        "path": "/v2/bookings/b1/reschedule",
        "error": {"code": "BadRequestException", "message": "Can't reschedule a cancelled booking"},
    }
    async with respx.mock(assert_all_called=True) as mock:
        mock.post(f"{BASE}/bookings/b1/reschedule").respond(400, json=error)
        with pytest.raises(RequestError) as info:
            await _client().reschedule_booking("b1", datetime(2024, 9, 1, 9, 0, tzinfo=UTC))
    assert info.value.status_code == 400
    assert info.value.vendor_message == "Can't reschedule a cancelled booking"
    assert info.value.body == error


async def test_404_becomes_not_found() -> None:
    async with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{BASE}/bookings/missing").respond(
            404,
            json={
                "status": "error",
                "timestamp": "2024-08-13T15:30:00.000Z",
                "path": "/v2/bookings/missing",
                "error": {"code": "NotFoundException", "message": "Booking with uid=missing was not found"},
            },
        )
        with pytest.raises(NotFoundError) as info:
            await _client().get_booking("missing")
    assert info.value.vendor_message == "Booking with uid=missing was not found"


async def test_error_status_inside_a_200_is_still_an_error() -> None:
    async with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{BASE}/bookings/b1").respond(
            200, json={"status": "error", "error": {"code": "BadRequestException", "message": "Invalid booking"}}
        )
        with pytest.raises(RequestError, match="Invalid booking"):
            await _client().get_booking("b1")


@pytest.mark.parametrize("api_key", [None, ""])
async def test_no_api_key_is_not_configured(api_key: str | None) -> None:
    client = _client(api_key)
    assert client.configured is False
    async with respx.mock(assert_all_called=False) as mock:  # any HTTP call would fail: no route
        for call in (
            client.get_booking("b1"),
            client.list_bookings(),
            client.cancel_booking("b1"),
            client.set_video_link("b1", "https://foxeo.app/visio/r"),
        ):
            with pytest.raises(NotConfiguredError) as info:
                await call
            assert info.value.setting == "CALCOM_API_KEY"
            assert info.value.vendor == "calcom"
    assert not mock.calls


async def test_self_hosted_base_url_and_uid_escaping() -> None:
    client = CalcomClient("cal_live_test", base_url="https://cal.foxeo.app/api/v2")
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.get("https://cal.foxeo.app/api/v2/bookings/a%2Fb").respond(
            200, json={"status": "success", "data": BOOKING}
        )
        await client.get_booking("a/b")
    assert route.called
