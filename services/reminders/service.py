"""Reminders: something to bring to someone's attention at a due time, fired once by the engine
(services/reminders/jobs.py) into notifications and, when asked, e-mails; and the e-mail outbox.

The interface other modules call (keyword arguments; each runs in the caller's transaction, one SQL
call with its audit entry; works in a service session and in the operator's session, else
ReminderForbidden):

    schedule(session, *, kind, subject_type, subject_id, due_at, title, client_id=None,
             audience="operator", email=False, body=None, suggested_message=None, link=None) -> ReminderRead
        Idempotent per (kind, subject_id, due_at): a second call returns the existing reminder unchanged
        (a cancelled one is scheduled again with the new content; a fired one never fires again).
        `kind` is `<module>.<name>` (agenda.session_tomorrow, prospects.follow_up, billing.payment_due);
        `audience` is who is notified: "operator", "members" (the client's) or "all" (members and "all"
        need a client_id); `email` also e-mails each recipient; `link` is an app path or https URL.
        A due_at in the past fires at the engine's next run.
    cancel(session, *, kind, subject_id) -> list[ReminderRead]
        Cancels every pending reminder of that subject (e.g. its status changed); the ones cancelled.
    send_email(session, *, to, subject, text, client_id=None, reminder_id=None) -> UUID
        Queues a plain-text e-mail in the outbox and its sender job; sent by SMTP when configured,
        kept as `not_sent` otherwise (readable through GET /reminders/outbox).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.audit import service as audit
from services.core.db import AnySession, ServiceSession, UserSession
from services.reminders import repository
from services.reminders.errors import (
    EmailNotFound,
    ReminderForbidden,
    ReminderInvalid,
    ReminderNotFound,
    ReminderNotPending,
)
from services.reminders.schemas import Audience, EmailDetail, EmailStatus, ReminderRead, ReminderStatus

_KIND = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_SUBJECT_TYPE = re.compile(r"^[a-z][a-z0-9_]*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# An app path, but not `//host` or `/\host`, which browsers resolve to another site (as notifications).
_LINK = re.compile(r"^(/(?![/\\])\S*|https://\S+)$")
# As the outbox's check constraint: one plain address, nothing a header could be split on.
_ADDRESS = re.compile(r"^[^@\s<>\",;]+@[^@\s<>\",;]+$")


def _text(value: str | None, field: str, limit: int, *, required: bool = False) -> str | None:
    cleaned = None if value is None else _CONTROL.sub("", value).strip()
    if required and not cleaned:
        raise ReminderInvalid(f"{field} must not be empty", field=field)
    if cleaned is not None and len(cleaned) > limit:
        raise ReminderInvalid(f"{field} is longer than {limit} characters", field=field)
    return cleaned or None


def _reminder_values(
    *,
    client_id: UUID | None,
    kind: str,
    subject_type: str,
    subject_id: str,
    due_at: datetime,
    audience: Audience,
    email: bool,
    title: str,
    body: str | None,
    suggested_message: str | None,
    link: str | None,
) -> dict[str, Any]:
    """The arguments of private.schedule_reminder, refused here when they can be (a 422 before any SQL)."""
    if len(kind) > 100 or not _KIND.match(kind):
        raise ReminderInvalid("kind must be '<module>.<name>' in lower case", field="kind")
    if len(subject_type) > 64 or not _SUBJECT_TYPE.match(subject_type):
        raise ReminderInvalid("subject_type must be a lower-case identifier", field="subject_type")
    if not 1 <= len(subject_id) <= 128 or "\x00" in subject_id:
        raise ReminderInvalid("subject_id must have 1 to 128 characters", field="subject_id")
    if due_at.tzinfo is None:
        raise ReminderInvalid("due_at must carry its time zone", field="due_at")
    if audience not in ("operator", "members", "all"):
        raise ReminderInvalid(f"unknown audience {audience!r}", field="audience")
    if audience != "operator" and client_id is None:
        raise ReminderInvalid("a reminder for a client's members needs its client_id", field="client_id")
    if link is not None and (len(link) > 2048 or not _LINK.match(link)):
        raise ReminderInvalid("link must be an app path ('/…') or an https URL", field="link")
    return {
        "client_id": client_id, "kind": kind, "subject_type": subject_type, "subject_id": subject_id,
        "due_at": due_at, "audience": audience, "email": email,
        "title": _text(title, "title", 200, required=True), "body": _text(body, "body", 2000),
        "suggested_message": _text(suggested_message, "suggested_message", 4000), "link": link,
    }  # fmt: skip


@contextmanager
def _forbidden() -> Iterator[None]:
    try:
        yield
    except asyncpg.InsufficientPrivilegeError:
        raise ReminderForbidden("only the operator or the service schedules reminders and queues e-mails") from None


async def schedule(
    session: AnySession,
    *,
    kind: str,
    subject_type: str,
    subject_id: str,
    due_at: datetime,
    title: str,
    client_id: UUID | None = None,
    audience: Audience = "operator",
    email: bool = False,
    body: str | None = None,
    suggested_message: str | None = None,
    link: str | None = None,
) -> ReminderRead:
    """Schedule a reminder (idempotent per kind, subject and due time): see the module docstring."""
    values = _reminder_values(
        client_id=client_id, kind=kind, subject_type=subject_type, subject_id=subject_id, due_at=due_at,
        audience=audience, email=email, title=title, body=body, suggested_message=suggested_message, link=link,
    )  # fmt: skip
    with _forbidden():
        return ReminderRead(**dict(await repository.schedule(session, values)))


async def cancel(session: AnySession, *, kind: str, subject_id: str) -> list[ReminderRead]:
    """Cancel every pending reminder of this kind and subject; the ones cancelled."""
    with _forbidden():
        rows = await repository.cancel(session, kind=kind, subject_id=subject_id)
    return [ReminderRead(**dict(row)) for row in rows]


async def send_email(
    session: AnySession,
    *,
    to: str,
    subject: str,
    text: str,
    client_id: UUID | None = None,
    reminder_id: UUID | None = None,
) -> UUID:
    """Queue a plain-text e-mail (outbox row + sender job, in the caller's transaction); its id."""
    if len(to) > 320 or not _ADDRESS.match(to):
        raise ReminderInvalid("to must be one e-mail address", field="to")
    if not subject.strip() or len(subject) > 200 or "\r" in subject or "\n" in subject:
        raise ReminderInvalid("subject must be one line of 1 to 200 characters", field="subject")
    if len(text) > 100_000 or "\x00" in text:
        raise ReminderInvalid("text must be at most 100000 characters, without NUL", field="text")
    with _forbidden():
        return await repository.queue_email(
            session, to=to, subject=subject, text=text, client_id=client_id, reminder_id=reminder_id
        )


# ---------------------------------------------------------------- the API's side


def _utc(value: datetime | None, field: str) -> datetime | None:
    """A filter bound in UTC; naive means UTC (the API's convention, not the server's local time)."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+14:00 is before the first representable instant
        raise ReminderInvalid(f"{field} is out of range", field=field) from None


async def list_reminders_json(
    session: UserSession,
    *,
    status: ReminderStatus | None = None,
    kind: str | None = None,
    client_id: UUID | None = None,
    due_from: datetime | None = None,
    due_to: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> bytes:
    """Reminders soonest first: all for the operator, those addressed to their client for a member."""
    values = (status, kind, client_id)
    filters = {n: v for n, v in zip(repository.REMINDER_FILTERS, values, strict=True) if v is not None}
    return await repository.list_reminders(
        session, filters, due_from=_utc(due_from, "due_from"), due_to=_utc(due_to, "due_to"), cursor=cursor,
        limit=limit,
    )  # fmt: skip


async def cancel_reminder(session: UserSession, reminder_id: UUID) -> ReminderRead:
    row = await repository.get_reminder(session, reminder_id)
    if row is None:
        raise ReminderNotFound()
    cancelled = await repository.cancel(session, reminder_id=reminder_id)
    if not cancelled:  # fired or cancelled, possibly a moment ago
        current = await repository.get_reminder(session, reminder_id)
        status = row["status"] if current is None else current["status"]
        raise ReminderNotPending(f"only a pending reminder can be cancelled; this one is {status}")
    return ReminderRead(**dict(cancelled[0]))


async def list_emails_json(
    session: UserSession,
    *,
    status: EmailStatus | None = None,
    client_id: UUID | None = None,
    reminder_id: UUID | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> bytes:
    values = (status, client_id, reminder_id)
    filters = {n: v for n, v in zip(repository.EMAIL_FILTERS, values, strict=True) if v is not None}
    return await repository.list_emails(session, filters, cursor=cursor, limit=limit)


async def get_email(session: AnySession, email_id: UUID) -> EmailDetail:
    row = await repository.get_email(session, email_id)
    if row is None:
        raise EmailNotFound()
    return EmailDetail(**dict(row))


# ---------------------------------------------------------------- the engine's side


async def fire_due(session: ServiceSession, *, batch: int) -> int:
    """Fire every due pending reminder, `batch` per statement; how many fired."""
    total = 0
    while True:
        fired = len(await repository.fire_due(session, batch))
        total += fired
        if fired < batch:
            return total


async def email_to_send(session: ServiceSession, email_id: UUID) -> EmailDetail | None:
    """The e-mail if it still waits for the sender (None once sent, failed, not sent, or gone)."""
    row = await repository.get_email(session, email_id)
    return EmailDetail(**dict(row)) if row is not None and row["status"] == "queued" else None


async def record_attempt(
    session: ServiceSession,
    email: EmailDetail,
    status: EmailStatus,
    *,
    error: str | None = None,
    provider_message_id: str | None = None,
) -> None:
    """One sending attempt's outcome: `sent`, `failed` (for good), or `queued` again (will retry)."""
    await repository.record_attempt(session, email.id, status, error=error, provider_message_id=provider_message_id)
    if status != "queued":
        await audit.record(
            session, action=f"email.{status}", entity_type="email", entity_id=email.id, client_id=email.client_id,
            before={"status": "queued"}, after={"status": status, "error": error},
        )  # fmt: skip


async def record_not_sent(session: ServiceSession, email: EmailDetail, reason: str) -> None:
    await repository.mark_not_sent(session, email.id, reason)
    await audit.record(
        session, action="email.not_sent", entity_type="email", entity_id=email.id, client_id=email.client_id,
        before={"status": "queued"}, after={"status": "not_sent", "error": reason},
    )  # fmt: skip
