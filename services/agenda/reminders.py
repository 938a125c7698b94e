"""The "session tomorrow" reminder of an appointment, through the reminders engine: scheduled the day
before a booked appointment, cancelled when it is cancelled, moved or replaced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.agenda.schemas import AppointmentRead
from services.core.db import AnySession
from services.reminders import service as reminders

SESSION_TOMORROW = "agenda.session_tomorrow"
AHEAD = timedelta(days=1)


async def sync(session: AnySession, appointment: AppointmentRead) -> None:
    """One pending reminder for a booked appointment still more than a day away; none otherwise."""
    await reminders.cancel(session, kind=SESSION_TOMORROW, subject_id=str(appointment.id))
    due = appointment.starts_at - AHEAD
    if appointment.status != "booked" or due <= datetime.now(UTC):
        return
    await reminders.schedule(
        session, kind=SESSION_TOMORROW, subject_type="appointment", subject_id=str(appointment.id), due_at=due,
        title=f"Séance demain : {appointment.title or 'rendez-vous'}"[:200], client_id=appointment.client_id,
        audience="all", email=True, body=f"Début : {appointment.starts_at:%Y-%m-%d %H:%M} UTC",
        link=f"/agenda/appointments/{appointment.id}",
    )  # fmt: skip
