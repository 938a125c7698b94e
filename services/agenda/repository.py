"""Every query of the agenda module."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import Select, bindparam, func, insert, select, update

from services.agenda.tables import appointments
from services.core.db import AnySession, UserSession
from services.core.pagination import Keyset
from services.core.query import bound, compiled, shaped

a = appointments.c
COLUMNS = (
    a.id, a.client_id, a.title, a.starts_at, a.ends_at, a.location, a.video_url, a.status, a.source,
    a.calcom_booking_uid, a.previous_booking_uid, a.cancellation_reason, a.meeting_id, a.attendee_name,
    a.attendee_email, a.attendee_time_zone, a.booking_answers, a.previsio_submitted_at, a.created_at, a.updated_at,
)  # fmt: skip
_NAMES = ", ".join(column.name for column in COLUMNS)
HISTORY = Keyset(a.starts_at, a.id, kinds=(datetime, UUID), descending=True)

_GET = compiled(select(*COLUMNS).where(a.id == bindparam("id")))
_GET_FOR_UPDATE = compiled(select(*COLUMNS).where(a.id == bindparam("id")).with_for_update())
_BY_UID = compiled(select(*COLUMNS).where(a.calcom_booking_uid == bindparam("uid")))
_RANGE = compiled(
    select(*COLUMNS)
    .where(a.starts_at >= bindparam("from_at"), a.starts_at < bindparam("to_at"))
    .order_by(a.starts_at, a.id)
)
_NEXT = compiled(
    select(*COLUMNS)
    .where(a.client_id == bindparam("client_id"), a.status == "booked", a.ends_at > func.now())
    .order_by(a.starts_at, a.id)
    .limit(1)
)
_INSERT = compiled(
    insert(appointments)
    .values({c.name: bindparam(c.name, type_=c.type) for c in (
        a.client_id, a.title, a.starts_at, a.ends_at, a.location, a.video_url, a.source, a.created_by)})
    .returning(*COLUMNS)
)  # fmt: skip


async def get(session: AnySession, appointment_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    return await (_GET_FOR_UPDATE if for_update else _GET).fetchrow(session, id=appointment_id)


async def by_booking_uid(session: AnySession, uid: str) -> asyncpg.Record | None:
    return await _BY_UID.fetchrow(session, uid=uid)


async def in_range(session: UserSession, from_at: datetime, to_at: datetime) -> list[asyncpg.Record]:
    return await _RANGE.fetch(session, from_at=from_at, to_at=to_at)


async def next_for_client(session: UserSession, client_id: UUID) -> asyncpg.Record | None:
    return await _NEXT.fetchrow(session, client_id=client_id)


@shaped
def _history(*, after: bool) -> Select[Any]:
    return HISTORY.json_page(select(*COLUMNS).where(a.client_id == bindparam("client_id")), after=after)


async def history_page(session: UserSession, client_id: UUID, cursor: str | None, limit: int) -> bytes:
    """A Page[AppointmentRead] as JSON bytes, latest start first."""
    rows = await _history(after=cursor is not None).fetch(session, client_id=client_id, **HISTORY.values(cursor, limit))
    return HISTORY.page_json(rows, limit)


async def insert_manual(session: AnySession, values: dict[str, Any]) -> asyncpg.Record:
    row = await _INSERT.fetchrow(session, **values)
    assert row is not None
    return row


@shaped
def _update(names: tuple[str, ...]) -> Any:
    values: dict[str, Any] = bound(a, names)
    return (
        update(appointments).where(a.id == bindparam("appointment_id")).values(updated_at=func.now(), **values)
        .returning(*COLUMNS)
    )  # fmt: skip


async def update_appointment(session: AnySession, appointment_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await _update(tuple(values)).fetchrow(session, appointment_id=appointment_id, **values)
    assert row is not None  # callers read or lock the row first
    return row


# A delivery moves a booking only forward, whatever order Cal.com's deliveries arrive in: a booked
# appointment may become anything; rescheduled, cancelled, done and no_show are final for a booking
# delivery, and only an attendance update swaps done and no_show (the operator corrected it). A
# delivery that may not move it can still link the booking it replaced.
_FORWARD = "(a.status = 'booked' and {new} <> 'booked')"
_SWAP = "(a.status = 'done' and {new} = 'no_show') or (a.status = 'no_show' and {new} = 'done')"
_MOVES = _FORWARD.format(new="excluded.status")

# One statement: the booking's row is inserted, or moved forward, and the status it had is returned.
UPSERT_BOOKING = f"""
with old as (select status from public.appointments where calcom_booking_uid = $3)
insert into public.appointments as a (client_id, title, calcom_booking_uid, starts_at, ends_at, location, status,
  source, previous_booking_uid, cancellation_reason, attendee_name, attendee_email, attendee_time_zone,
  booking_answers)
values ($1, $2, $3, $4, $5, $6, $7, 'calcom', $8, $9, $10, $11, $12, $13)
on conflict (calcom_booking_uid) do update set
  status = case when {_MOVES} then excluded.status else a.status end,
  cancellation_reason = case when ({_MOVES}) and excluded.status = 'cancelled' then excluded.cancellation_reason
                             else a.cancellation_reason end,
  previous_booking_uid = coalesce(a.previous_booking_uid, excluded.previous_booking_uid),
  updated_at = now()
where {_MOVES} or (a.previous_booking_uid is null and excluded.previous_booking_uid is not null)
returning {_NAMES}, (select status from old) as previous_status
"""

MARK_ATTENDANCE = f"""
update public.appointments a set status = $2, updated_at = now()
where calcom_booking_uid = $1 and ({_FORWARD.format(new="$2::text")} or {_SWAP.format(new="$2::text")})
returning {_NAMES}
"""


async def upsert_booking(session: AnySession, values: dict[str, Any]) -> asyncpg.Record | None:
    """The row and its `previous_status` (null when inserted); None when the delivery changed nothing."""
    return await session.fetchrow(
        UPSERT_BOOKING,
        values["client_id"], values["title"], values["uid"], values["starts_at"], values["ends_at"],
        values["location"], values["status"], values["previous_booking_uid"], values["cancellation_reason"],
        values["attendee_name"], values["attendee_email"], values["attendee_time_zone"], values["booking_answers"],
    )  # fmt: skip


async def mark_attendance(session: AnySession, uid: str, status: str) -> asyncpg.Record | None:
    return await session.fetchrow(MARK_ATTENDANCE, uid, status)
