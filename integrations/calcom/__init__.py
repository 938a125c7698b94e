"""Cal.com: signed webhooks in (bookings, meetings) and the API v2 bookings client out.

Reference: integrations-reference.md §2. Webhook payloads are version `2021-10-20`; API v2 bookings are pinned
to `cal-api-version: 2024-08-13`.
"""

from integrations.calcom.bookings import (
    BOOKINGS_API_VERSION,
    DEFAULT_BASE_URL,
    CalcomAttendee,
    CalcomBooking,
    CalcomBookingPage,
    CalcomClient,
    CalcomEventTypeRef,
    CalcomHost,
)
from integrations.calcom.common import VENDOR
from integrations.calcom.webhooks import (
    SIGNATURE_HEADER,
    UNSIGNED_MARKER,
    WEBHOOK_VERSION_HEADER,
    BookingCancelledEvent,
    BookingCreatedEvent,
    BookingNoShowUpdatedEvent,
    BookingPayload,
    BookingRescheduledEvent,
    CalcomPerson,
    CalcomWebhookEvent,
    CancelledPayload,
    GenericCalcomEvent,
    MeetingBooking,
    MeetingEndedEvent,
    MeetingStartedEvent,
    NoShowAttendee,
    NoShowPayload,
    RescheduledPayload,
    parse_webhook,
    verify_and_parse_webhook,
    verify_webhook_signature,
)

__all__ = [
    "BOOKINGS_API_VERSION",
    "DEFAULT_BASE_URL",
    "SIGNATURE_HEADER",
    "UNSIGNED_MARKER",
    "VENDOR",
    "WEBHOOK_VERSION_HEADER",
    "BookingCancelledEvent",
    "BookingCreatedEvent",
    "BookingNoShowUpdatedEvent",
    "BookingPayload",
    "BookingRescheduledEvent",
    "CalcomAttendee",
    "CalcomBooking",
    "CalcomBookingPage",
    "CalcomClient",
    "CalcomEventTypeRef",
    "CalcomHost",
    "CalcomPerson",
    "CalcomWebhookEvent",
    "CancelledPayload",
    "GenericCalcomEvent",
    "MeetingBooking",
    "MeetingEndedEvent",
    "MeetingStartedEvent",
    "NoShowAttendee",
    "NoShowPayload",
    "RescheduledPayload",
    "parse_webhook",
    "verify_and_parse_webhook",
    "verify_webhook_signature",
]
