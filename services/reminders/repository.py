"""Every query of the reminders module. Writes are one call of a SQL function (migration 0080)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import Select, bindparam, select

from services.core.db import AnySession, ServiceSession, UserSession
from services.core.pagination import Keyset
from services.core.query import compiled, shaped
from services.reminders.tables import email_outbox, reminders

r = reminders.c
e = email_outbox.c
REMINDER_COLUMNS = tuple(reminders.c)
EMAIL_COLUMNS = tuple(c for c in email_outbox.c if c.name != "body")
REMINDER_KEYSET = Keyset(r.due_at, r.id, kinds=(datetime, UUID), descending=False)
EMAIL_KEYSET = Keyset(e.created_at, e.id, kinds=(datetime, UUID), descending=True)

_SCHEDULE = "select * from private.schedule_reminder($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
_CANCEL = "select * from private.cancel_reminders($1, $2, $3, $4)"
_FIRE = "select * from private.fire_due_reminders($1, $2)"
_QUEUE_EMAIL = "select private.queue_email($1, $2, $3, $4, $5, $6)"


async def schedule(session: AnySession, values: dict[str, Any]) -> asyncpg.Record:
    """The reminder (new, revived from cancelled, or the existing one unchanged). Raises
    InsufficientPrivilegeError when RLS refuses the caller."""
    names = (
        "client_id", "kind", "subject_type", "subject_id", "due_at", "audience", "email", "title", "body",
        "suggested_message", "link",
    )  # fmt: skip
    row = await session.fetchrow(_SCHEDULE, *(values[n] for n in names), session.request_id)
    assert row is not None
    return row


async def cancel(
    session: AnySession, *, reminder_id: UUID | None = None, kind: str | None = None, subject_id: str | None = None
) -> list[asyncpg.Record]:
    """The pending reminders cancelled: one by id, or all of (kind, subject_id)."""
    return await session.fetch(_CANCEL, reminder_id, kind, subject_id, session.request_id)


async def fire_due(session: ServiceSession, limit: int) -> list[asyncpg.Record]:
    return await session.fetch(_FIRE, limit, session.request_id)


async def queue_email(
    session: AnySession, *, to: str, subject: str, text: str, client_id: UUID | None, reminder_id: UUID | None
) -> UUID:
    value: UUID = await session.fetchval(_QUEUE_EMAIL, to, subject, text, client_id, reminder_id, session.request_id)
    return value


# ---------------------------------------------------------------- reading reminders

_GET = compiled(select(*REMINDER_COLUMNS).where(r.id == bindparam("id")))
REMINDER_FILTERS = ("status", "kind", "client_id")


@shaped
def _list(filters: tuple[str, ...], due_from: bool, due_to: bool, after: bool) -> Select[Any]:
    statement = select(*REMINDER_COLUMNS)
    for name in filters:
        statement = statement.where(r[name] == bindparam(name))
    if due_from:
        statement = statement.where(r.due_at >= bindparam("due_from"))
    if due_to:
        statement = statement.where(r.due_at < bindparam("due_to"))
    return REMINDER_KEYSET.json_page(statement, after=after)


async def list_reminders(
    session: UserSession,
    filters: dict[str, Any],
    *,
    due_from: datetime | None,
    due_to: datetime | None,
    cursor: str | None,
    limit: int,
) -> bytes:
    """A Page[ReminderRead] as JSON bytes, soonest first; RLS keeps a member to their client's."""
    values = {**filters, **REMINDER_KEYSET.values(cursor, limit)}
    if due_from is not None:
        values["due_from"] = due_from
    if due_to is not None:
        values["due_to"] = due_to
    query = _list(tuple(filters), due_from is not None, due_to is not None, cursor is not None)
    return REMINDER_KEYSET.page_json(await query.fetch(session, **values), limit)


async def get_reminder(session: AnySession, reminder_id: UUID) -> asyncpg.Record | None:
    return await _GET.fetchrow(session, id=reminder_id)


# ---------------------------------------------------------------- the outbox

_GET_EMAIL = compiled(select(*EMAIL_COLUMNS, e.body).where(e.id == bindparam("id")))
EMAIL_FILTERS = ("status", "client_id", "reminder_id")


@shaped
def _list_emails(filters: tuple[str, ...], after: bool) -> Select[Any]:
    statement = select(*EMAIL_COLUMNS)
    for name in filters:
        statement = statement.where(e[name] == bindparam(name))
    return EMAIL_KEYSET.json_page(statement, after=after)


async def list_emails(session: UserSession, filters: dict[str, Any], *, cursor: str | None, limit: int) -> bytes:
    """A Page[EmailRead] as JSON bytes, newest first (without the bodies)."""
    query = _list_emails(tuple(filters), cursor is not None)
    return EMAIL_KEYSET.page_json(await query.fetch(session, **filters, **EMAIL_KEYSET.values(cursor, limit)), limit)


async def get_email(session: AnySession, email_id: UUID) -> asyncpg.Record | None:
    return await _GET_EMAIL.fetchrow(session, id=email_id)


# The sender job's writes (service session), each one statement on one row.
_ATTEMPTED = """
update public.email_outbox set status = $2, attempts = attempts + 1, last_error = $3, updated_at = now(),
  provider_message_id = coalesce($4, provider_message_id), sent_at = case when $2 = 'sent' then now() end
where id = $1 and status = 'queued'
"""
_NOT_SENT = """
update public.email_outbox set status = 'not_sent', last_error = $2, updated_at = now()
where id = $1 and status = 'queued'
"""


async def record_attempt(
    session: ServiceSession, email_id: UUID, status: str, *, error: str | None, provider_message_id: str | None
) -> None:
    await session.execute(_ATTEMPTED, email_id, status, error, provider_message_id)


async def mark_not_sent(session: ServiceSession, email_id: UUID, reason: str) -> None:
    await session.execute(_NOT_SENT, email_id, reason)
