"""The agenda: the operator's appointments by day and week in their time zone, manual appointments, and
a client's view (next appointment and how to join it, history). Cal.com bookings arrive through
bookings.py; every time is stored in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from services.agenda import links, reminders, repository
from services.agenda.errors import AppointmentClosed, AppointmentInvalid, AppointmentNotFound
from services.agenda.schemas import (
    AgendaRange,
    AgendaView,
    AppointmentCancel,
    AppointmentCreate,
    AppointmentRead,
    AppointmentUpdate,
    NextAppointment,
    PrevisioLink,
)
from services.audit import service as audit
from services.clients import service as clients
from services.core.db import AnySession, UserSession
from services.core.settings import Settings
from services.meetings import service as meetings
from services.profiles import service as profiles

MAX_RANGE_DAYS = 42  # six weeks: a month view with its overflow
CLOSED = ("rescheduled", "cancelled")


def zone(name: str) -> ZoneInfo:
    if name not in available_timezones():
        raise AppointmentInvalid(f"unknown time zone {name!r} (use an IANA name such as Europe/Paris)", field="tz")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise AppointmentInvalid(f"unknown time zone {name!r}", field="tz") from None


async def _user_zone(session: UserSession, tz: str | None) -> ZoneInfo:
    """`tz` when given, else the time zone of the caller's profile."""
    return zone(tz or (await profiles.get_me(session)).quiet_hours.time_zone)


def bounds(
    tzinfo: ZoneInfo, *, start: date | None, end: date | None, view: AgendaView, on: date | None
) -> tuple[datetime, datetime]:
    """[from, to) in UTC of local days `start`..`end` (inclusive), or of the day/week around `on`."""
    if start is None:
        today = on or datetime.now(tzinfo).date()
        start = today if view == "day" else today - timedelta(days=today.weekday())
        end = start if view == "day" else start + timedelta(days=6)
    end = end or start
    if end < start:
        raise AppointmentInvalid("`to` is before `from`", field="to")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise AppointmentInvalid(f"a range spans at most {MAX_RANGE_DAYS} days", field="to")
    # Local midnights: a day in Paris is 23 or 25 hours long on the DST switches.
    local = (datetime.combine(start, time(), tzinfo), datetime.combine(end + timedelta(days=1), time(), tzinfo))
    return local[0].astimezone(UTC), local[1].astimezone(UTC)


async def agenda(
    session: UserSession, *, start: date | None, end: date | None, view: AgendaView, on: date | None, tz: str | None
) -> AgendaRange:
    tzinfo = await _user_zone(session, tz)
    from_at, to_at = bounds(tzinfo, start=start, end=end, view=view, on=on)
    rows = await repository.in_range(session, from_at, to_at)
    return AgendaRange(
        time_zone=tzinfo.key, from_at=from_at, to_at=to_at, items=[AppointmentRead(**dict(r)) for r in rows]
    )


async def load(session: AnySession, appointment_id: UUID, *, for_update: bool = False) -> AppointmentRead:
    """The appointment if the caller may see it (the operator, a member of its client): 404 otherwise."""
    row = await repository.get(session, appointment_id, for_update=for_update)
    if row is None:
        raise AppointmentNotFound()
    return AppointmentRead(**dict(row))


async def create(session: UserSession, settings: Settings, data: AppointmentCreate) -> AppointmentRead:
    client = await clients.require_client(session, data.client_id)
    if client.status == "archived":
        raise AppointmentInvalid("the client is archived", field="client_id")
    values: dict[str, Any] = {
        **data.model_dump(exclude={"open_meeting"}), "source": "manual", "created_by": session.principal.user_id,
    }  # fmt: skip
    appointment = AppointmentRead(**dict(await repository.insert_manual(session, values)))
    if data.open_meeting:
        meeting = await meetings.open_for_booking(session, client.id, data.title or "Rendez-vous")
        link = data.video_url or links.sign(settings, appointment).url
        row = await repository.update_appointment(
            session, appointment.id, {"meeting_id": meeting.id, "video_url": link}
        )
        appointment = AppointmentRead(**dict(row))
    await reminders.sync(session, appointment)
    await audit.record(
        session, action="appointment.created", entity_type="appointment", entity_id=appointment.id,
        client_id=client.id, after=appointment,
    )  # fmt: skip
    return appointment


async def update(session: UserSession, appointment_id: UUID, data: AppointmentUpdate) -> AppointmentRead:
    before = await load(session, appointment_id, for_update=True)
    if before.status in CLOSED:
        raise AppointmentClosed(f"the appointment is {before.status}")
    changes = data.model_dump(exclude_unset=True)
    moved = {"starts_at", "ends_at"} & changes.keys()
    if before.source == "calcom" and moved:
        raise AppointmentInvalid("move a Cal.com booking in Cal.com: its webhook moves it here", field="starts_at")
    if changes.get("ends_at", before.ends_at) <= changes.get("starts_at", before.starts_at):
        raise AppointmentInvalid("ends_at must be after starts_at", field="ends_at")
    after = AppointmentRead(**dict(await repository.update_appointment(session, appointment_id, changes)))
    await reminders.sync(session, after)
    await audit.record(
        session, action="appointment.updated", entity_type="appointment", entity_id=appointment_id,
        client_id=after.client_id, before=before, after=after,
    )  # fmt: skip
    return after


async def cancel(session: UserSession, appointment_id: UUID, data: AppointmentCancel) -> AppointmentRead:
    before = await load(session, appointment_id, for_update=True)
    if before.status in CLOSED:
        raise AppointmentClosed(f"the appointment is already {before.status}")
    if before.source == "calcom":
        raise AppointmentInvalid("cancel a Cal.com booking in Cal.com: its webhook cancels it here", field="status")
    values = {"status": "cancelled", "cancellation_reason": data.reason}
    after = AppointmentRead(**dict(await repository.update_appointment(session, appointment_id, values)))
    await reminders.sync(session, after)
    await audit.record(
        session, action="appointment.cancelled", entity_type="appointment", entity_id=appointment_id,
        client_id=after.client_id, before=before, after=after,
    )  # fmt: skip
    return after


async def next_for_client(session: UserSession, client_id: UUID) -> NextAppointment:
    await clients.require_client(session, client_id)  # 404 for another client's member
    row = await repository.next_for_client(session, client_id)
    appointment = AppointmentRead(**dict(row)) if row else None
    return NextAppointment(appointment=appointment, join_meeting_id=appointment.meeting_id if appointment else None)


async def history_json(session: UserSession, client_id: UUID, cursor: str | None, limit: int) -> bytes:
    await clients.require_client(session, client_id)
    return await repository.history_page(session, client_id, cursor, limit)


async def previsio_link(session: UserSession, settings: Settings, appointment_id: UUID) -> PrevisioLink:
    """The signed link to the appointment's pre-visio form (what Cal.com bookings get written back)."""
    appointment = await load(session, appointment_id)
    if appointment.status in CLOSED:
        raise AppointmentClosed(f"the appointment is {appointment.status}")
    return links.sign(settings, appointment)


async def mark_previsio_submitted(session: AnySession, appointment_id: UUID) -> AppointmentRead:
    row = await repository.update_appointment(session, appointment_id, {"previsio_submitted_at": datetime.now(UTC)})
    return AppointmentRead(**dict(row))
