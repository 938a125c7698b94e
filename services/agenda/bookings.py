"""Cal.com deliveries applied to appointments, under the webhook's service session. Each delivery is
recorded first (a redelivery changes nothing) and moves a booking only forward (repository.py), so
deliveries arriving twice or out of order end in the same state as in order."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from integrations.calcom import (
    BookingCancelledEvent,
    BookingCreatedEvent,
    BookingNoShowUpdatedEvent,
    BookingPayload,
    BookingRescheduledEvent,
    CalcomPerson,
    CalcomWebhookEvent,
    MeetingEndedEvent,
)
from services.agenda import links, reminders, repository
from services.agenda.schemas import AppointmentRead
from services.audit import service as audit
from services.clients import service as clients
from services.clients.schemas import ClientCreate
from services.core import queue
from services.core.db import ServiceSession
from services.core.settings import Settings
from services.meetings import service as meetings

SENDER = "calcom"
WRITE_VIDEO_LINK_JOB = "agenda.write_video_link"


class Booking:
    """What every booking trigger says about one booking, whichever payload shape carried it."""

    def __init__(
        self, uid: str, title: str | None, starts_at: datetime, ends_at: datetime, attendees: list[CalcomPerson],
        *, location: str | None = None, answers: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        self.uid, self.title, self.starts_at, self.ends_at = uid, title or "", starts_at, ends_at
        self.attendee = next((p for p in attendees if p.email), None)
        self.location, self.answers = location, answers or {}

    @classmethod
    def of(cls, payload: BookingPayload) -> Booking:
        return cls(
            payload.uid, payload.title, payload.start_time, payload.end_time, payload.attendees,
            location=payload.location, answers=payload.responses,
        )  # fmt: skip


async def apply_calcom_event(session: ServiceSession, settings: Settings, event: CalcomWebhookEvent) -> bool:
    """Apply a verified delivery; False when it was already handled."""
    trigger = str(getattr(event, "trigger_event", "UNKNOWN"))
    if not await meetings.record_webhook_event(session, SENDER, event.dedupe_key[:200], trigger[:100]):
        return False
    if isinstance(event, BookingCreatedEvent):
        await _upsert(session, settings, Booking.of(event.payload), "booked")
    elif isinstance(event, BookingRescheduledEvent):
        payload = event.payload
        if payload.reschedule_uid:
            old = Booking.of(payload)
            old.uid = payload.reschedule_uid
            old.starts_at = payload.reschedule_start_time or payload.start_time
            old.ends_at = payload.reschedule_end_time or payload.end_time
            await _upsert(session, settings, old, "rescheduled")
        await _upsert(session, settings, Booking.of(payload), "booked", previous_uid=payload.reschedule_uid)
    elif isinstance(event, BookingCancelledEvent):
        reason = event.payload.cancellation_reason or "cancelled in Cal.com"
        await _upsert(session, settings, Booking.of(event.payload), "cancelled", reason=reason)
    elif isinstance(event, BookingNoShowUpdatedEvent):
        absent = any(attendee.no_show for attendee in event.payload.attendees)
        await _attendance(session, event.payload.booking_uid, "no_show" if absent else "done")
    elif isinstance(event, MeetingEndedEvent):
        row = event.booking
        booking = Booking(row.uid, row.title, row.start_time, row.end_time, row.attendees, location=row.location)
        await _upsert(session, settings, booking, "done")
    return True  # other triggers (MEETING_STARTED, …) are recorded and acknowledged


async def _prospect(session: ServiceSession, booking: Booking) -> UUID | None:
    """The client who booked, found by e-mail, or a new prospect named after them."""
    person = booking.attendee
    if person is None or not person.email:
        return None
    found = await clients.find_by_email(session, person.email)
    if found is not None:
        return found.id
    name = (person.name or person.email).strip()[:200]
    first, _, last = name.partition(" ")
    data = ClientCreate.model_construct(
        company_name=name, status="prospect", prospect_temperature=None, contact_first_name=first[:100] or None,
        contact_last_name=last[:100] or None, email=person.email, phone=None, city=None, siret=None,
        tags=["calcom"], crm=None,
    )  # fmt: skip
    return (await clients.create_client(session, data)).id


async def _upsert(
    session: ServiceSession, settings: Settings, booking: Booking, status: str,
    *, previous_uid: str | None = None, reason: str | None = None,
) -> None:  # fmt: skip
    known = await repository.by_booking_uid(session, booking.uid)
    client_id = known["client_id"] if known else await _prospect(session, booking)
    if client_id is None:  # no attendee e-mail and not a booking of ours: nothing to attach it to
        return
    person = booking.attendee
    row = await repository.upsert_booking(
        session,
        {
            "client_id": client_id, "title": booking.title[:200], "uid": booking.uid, "starts_at": booking.starts_at,
            "ends_at": booking.ends_at, "location": (booking.location or None) and booking.location[:2048],
            "status": status, "previous_booking_uid": previous_uid, "cancellation_reason": reason,
            "attendee_name": person.name[:200] if person and person.name else None,
            "attendee_email": person.email if person else None,
            "attendee_time_zone": person.time_zone if person else None, "booking_answers": booking.answers,
        },
    )  # fmt: skip
    if row is None:
        return
    previous_status = row["previous_status"]
    after = AppointmentRead(**{k: v for k, v in dict(row).items() if k != "previous_status"})
    if previous_status is None and after.status == "booked":
        after = await _open_room(session, settings, after, previous_uid)
    await reminders.sync(session, after)
    action = "appointment.booked" if previous_status is None else f"appointment.{after.status}"
    await audit.record(
        session, action=action, entity_type="appointment", entity_id=after.id, client_id=after.client_id,
        before={"status": previous_status} if previous_status else None, after=after,
    )  # fmt: skip


async def _open_room(
    session: ServiceSession, settings: Settings, appointment: AppointmentRead, previous_uid: str | None
) -> AppointmentRead:
    """A new booking gets a room (a reschedule keeps the one of the booking it replaces), its pre-visio
    link, and a job writing that link back to Cal.com: never inside the webhook request."""
    replaced = await repository.by_booking_uid(session, previous_uid) if previous_uid else None
    meeting_id = replaced["meeting_id"] if replaced else None
    if meeting_id is None:
        meeting_id = (await meetings.open_for_booking(session, appointment.client_id, appointment.title)).id
    link = links.sign(settings, appointment).url
    values = {"meeting_id": meeting_id, "video_url": link}
    after = AppointmentRead(**dict(await repository.update_appointment(session, appointment.id, values)))
    await queue.enqueue(
        session, WRITE_VIDEO_LINK_JOB, {"appointment_id": str(after.id)},
        idempotency_key=f"{WRITE_VIDEO_LINK_JOB}:{after.calcom_booking_uid}", client_id=after.client_id,
    )  # fmt: skip
    return after


async def _attendance(session: ServiceSession, uid: str, status: str) -> None:
    row = await repository.mark_attendance(session, uid, status)
    if row is not None:
        after = AppointmentRead(**dict(row))
        await reminders.sync(session, after)
        await audit.record(
            session, action=f"appointment.{status}", entity_type="appointment", entity_id=after.id,
            client_id=after.client_id, after=after,
        )  # fmt: skip


async def appointment_for_job(session: ServiceSession, appointment_id: UUID) -> AppointmentRead | None:
    row = await repository.get(session, appointment_id)
    return None if row is None else AppointmentRead(**dict(row))
