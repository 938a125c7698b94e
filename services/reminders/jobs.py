"""The reminders engine's clock and the outbox's sender.

Periodic (each run under its advisory lock, in one service transaction): `reminders.fire` fires every
due pending reminder (missed ones included, once each); `reminders.homework_due_soon` schedules the
homework reminders. Queue handler: `reminders.send_email` sends one outbox e-mail by SMTP, retried with
the queue's backoff; without SMTP settings the e-mail is kept as `not_sent`. SMTP is not transactional:
a run that loses its lease after sending may send again (the Message-ID stays the same)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from integrations.errors import NotConfiguredError, RequestError, TransientError
from integrations.smtp import SmtpClient
from services.core.db import ServiceSession
from services.core.jobs import PeriodicJob
from services.core.queue import Job, JobContext, JobHandler, PermanentJobError
from services.core.settings import Settings, get_settings
from services.reminders import builtin, service

SEND_EMAIL_JOB = "reminders.send_email"  # enqueued by private.queue_email (migration 0080)


def smtp_client(settings: Settings) -> SmtpClient:
    if not settings.smtp_host:
        raise NotConfiguredError("smtp", "FOXEO_SMTP_HOST")
    if not settings.smtp_from:
        raise NotConfiguredError("smtp", "FOXEO_SMTP_FROM")
    return SmtpClient(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout_seconds,
    )


async def send_email(ctx: JobContext, job: Job) -> None:
    async with ctx.db.service_session() as session:
        email = await service.email_to_send(session, UUID(job.payload["email_id"]))
    if email is None:
        return  # sent, refused or kept by an earlier run
    try:
        client = smtp_client(ctx.settings)
    except NotConfiguredError as exc:
        async with ctx.db.service_session() as session:
            await service.record_not_sent(session, email, str(exc))
        return
    try:
        reply = await client.send(
            to=email.to_address, subject=email.subject, text=email.body, message_id=email.message_id
        )
    except RequestError as exc:
        async with ctx.db.service_session() as session:
            await service.record_attempt(session, email, "failed", error=str(exc)[:4000])
        raise PermanentJobError(str(exc)) from exc
    except TransientError as exc:
        final = job.attempts >= job.max_attempts
        async with ctx.db.service_session() as session:
            await service.record_attempt(session, email, "failed" if final else "queued", error=str(exc)[:4000])
        raise
    async with ctx.db.service_session() as session:
        await service.record_attempt(session, email, "sent", provider_message_id=reply[:1000])


async def fire_due_reminders(session: ServiceSession) -> int:
    return await service.fire_due(session, batch=get_settings().reminders_batch_size)


async def schedule_homework_reminders(session: ServiceSession) -> int:
    window = timedelta(hours=get_settings().reminders_homework_window_hours)
    return await builtin.schedule_homework_due_soon(session, window)


JOBS = [
    # The engine's granularity: a reminder fires at most this long after its due time.
    PeriodicJob("reminders.fire", 60, fire_due_reminders),
    PeriodicJob("reminders.homework_due_soon", 15 * 60, schedule_homework_reminders),
]

HANDLERS: dict[str, JobHandler] = {SEND_EMAIL_JOB: send_email}
