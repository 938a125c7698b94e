"""Queue handlers of the agenda module: writing the Foxeo video link back to the Cal.com booking
(retried with backoff by the queue; setting the same link twice is harmless)."""

from __future__ import annotations

from uuid import UUID

from integrations.calcom import CalcomClient
from integrations.errors import NotConfiguredError, RequestError
from services.agenda import bookings
from services.core.queue import Job, JobContext, JobHandler, PermanentJobError


async def write_video_link(ctx: JobContext, job: Job) -> None:
    async with ctx.db.service_session() as session:
        appointment = await bookings.appointment_for_job(session, UUID(job.payload["appointment_id"]))
    if appointment is None or appointment.status != "booked" or not appointment.calcom_booking_uid:
        return  # cancelled or moved since: the booking it named no longer needs the link
    if not appointment.video_url:
        raise PermanentJobError("the appointment has no video link to write back")
    try:
        await ctx.resources.get(CalcomClient).set_video_link(appointment.calcom_booking_uid, appointment.video_url)
    except (NotConfiguredError, RequestError) as exc:
        raise PermanentJobError(str(exc)) from exc


HANDLERS: dict[str, JobHandler] = {bookings.WRITE_VIDEO_LINK_JOB: write_video_link}
