"""Every query of the meetings module."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.core.db import AnySession, UserSession
from services.core.pagination import Keyset
from services.core.query import bound, compiled, shaped
from services.meetings.tables import meeting_participants, meeting_recordings, meetings, webhook_events

m = meetings.c
p = meeting_participants.c
r = meeting_recordings.c
MEETING_COLUMNS = (
    m.id, m.client_id, m.project_id, m.dashboard, m.kind, m.title, m.room_name, m.status, m.started_at,
    m.ended_at, m.created_by, m.consent_agreed_by, m.consent_agreed_at, m.transcription_status,
    m.transcription_error, m.created_at, m.updated_at,
)  # fmt: skip
PARTICIPANT_COLUMNS = (p.id, p.identity, p.user_id, p.name, p.role, p.joined_at, p.left_at, p.duration_seconds)
RECORDING_COLUMNS = (
    r.id, r.meeting_id, r.egress_id, r.status, r.consent_agreed_by, r.consent_agreed_at, r.document_id,
    r.size_bytes, r.duration_seconds, r.error, r.started_at, r.ended_at, r.created_at,
)  # fmt: skip
# What the jobs need besides what the API shows.
RECORDING_JOB_COLUMNS = (*RECORDING_COLUMNS, r.client_id, r.storage_path, r.phase, r.created_by)
KEYSET = Keyset(m.created_at, m.id, kinds=(datetime, UUID), descending=True)


@shaped
def _list(*, after: bool) -> Select[Any]:
    return KEYSET.json_page(select(*MEETING_COLUMNS).where(m.client_id == bindparam("client_id")), after=after)


async def list_page(session: UserSession, client_id: UUID, cursor: str | None, limit: int) -> bytes:
    """A Page[MeetingRead] as JSON bytes, newest first."""
    rows = await _list(after=cursor is not None).fetch(session, client_id=client_id, **KEYSET.values(cursor, limit))
    return KEYSET.page_json(rows, limit)


_GET = compiled(select(*MEETING_COLUMNS).where(m.id == bindparam("id")))
_GET_FOR_UPDATE = compiled(select(*MEETING_COLUMNS).where(m.id == bindparam("id")).with_for_update())
_BY_ROOM = compiled(select(*MEETING_COLUMNS).where(m.room_name == bindparam("room")).with_for_update())
_INSERT = compiled(
    insert(meetings)
    .values({c.name: bindparam(c.name, type_=c.type) for c in (
        m.id, m.client_id, m.project_id, m.dashboard, m.kind, m.title, m.room_name, m.created_by)})
    .returning(*MEETING_COLUMNS)
)  # fmt: skip


async def get(session: AnySession, meeting_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    return await (_GET_FOR_UPDATE if for_update else _GET).fetchrow(session, id=meeting_id)


async def get_by_room(session: AnySession, room_name: str) -> asyncpg.Record | None:
    return await _BY_ROOM.fetchrow(session, room=room_name)


async def insert_meeting(session: AnySession, values: dict[str, Any]) -> asyncpg.Record:
    row = await _INSERT.fetchrow(session, **values)
    assert row is not None
    return row


@shaped
def _update(names: tuple[str, ...]) -> Any:
    values: dict[str, Any] = bound(m, names)
    return (
        update(meetings).where(m.id == bindparam("meeting_id")).values(updated_at=func.now(), **values)
        .returning(*MEETING_COLUMNS)
    )  # fmt: skip


async def update_meeting(session: AnySession, meeting_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await _update(tuple(values)).fetchrow(session, meeting_id=meeting_id, **values)
    assert row is not None  # callers read or lock the row first
    return row


# ---------------------------------------------------------------- attendance

_PARTICIPANTS = compiled(
    select(*PARTICIPANT_COLUMNS).where(p.meeting_id == bindparam("meeting_id")).order_by(p.joined_at, p.id)
)
_JOIN = compiled(
    insert(meeting_participants).values({c.name: bindparam(c.name, type_=c.type) for c in (
        p.client_id, p.meeting_id, p.identity, p.user_id, p.name, p.role, p.joined_at)})
    .returning(*PARTICIPANT_COLUMNS)
)  # fmt: skip
_SECONDS = func.greatest(0, func.extract("epoch", bindparam("left_at") - p.joined_at)).cast(
    meeting_participants.c.duration_seconds.type
)
_LEAVE = compiled(
    update(meeting_participants)
    .where(p.meeting_id == bindparam("meeting_id"), p.left_at.is_(None), p.identity == bindparam("identity"))
    .values(left_at=func.greatest(bindparam("left_at"), p.joined_at), duration_seconds=_SECONDS)
    .returning(*PARTICIPANT_COLUMNS)
)
_LEAVE_ALL = compiled(
    update(meeting_participants)
    .where(p.meeting_id == bindparam("meeting_id"), p.left_at.is_(None))
    .values(left_at=func.greatest(bindparam("left_at"), p.joined_at), duration_seconds=_SECONDS)
)


async def participants(session: AnySession, meeting_id: UUID) -> list[asyncpg.Record]:
    return await _PARTICIPANTS.fetch(session, meeting_id=meeting_id)


async def insert_participant(session: AnySession, values: dict[str, Any]) -> asyncpg.Record:
    row = await _JOIN.fetchrow(session, **values)
    assert row is not None
    return row


async def close_participant(
    session: AnySession, meeting_id: UUID, identity: str, left_at: datetime
) -> list[asyncpg.Record]:
    return await _LEAVE.fetch(session, meeting_id=meeting_id, identity=identity, left_at=left_at)


async def close_all_participants(session: AnySession, meeting_id: UUID, left_at: datetime) -> None:
    await _LEAVE_ALL.execute(session, meeting_id=meeting_id, left_at=left_at)


# ---------------------------------------------------------------- recordings

_RECORDINGS = compiled(
    select(*RECORDING_COLUMNS).where(r.meeting_id == bindparam("meeting_id")).order_by(r.created_at, r.id)
)
_RECORDING = compiled(select(*RECORDING_JOB_COLUMNS).where(r.id == bindparam("id")).with_for_update())
_RECORDING_BY_EGRESS = compiled(
    select(*RECORDING_JOB_COLUMNS).where(r.egress_id == bindparam("egress_id")).with_for_update()
)
_INSERT_RECORDING = compiled(
    pg_insert(meeting_recordings)
    .values({c.name: bindparam(c.name, type_=c.type) for c in (
        r.id, r.client_id, r.meeting_id, r.storage_path, r.phase, r.consent_agreed_by, r.consent_agreed_at,
        r.created_by)})
    .on_conflict_do_nothing()
    .returning(*RECORDING_COLUMNS)
)  # fmt: skip


async def recordings(session: AnySession, meeting_id: UUID) -> list[asyncpg.Record]:
    return await _RECORDINGS.fetch(session, meeting_id=meeting_id)


async def get_recording(session: AnySession, recording_id: UUID) -> asyncpg.Record | None:
    """The recording, locked, with the columns jobs need."""
    return await _RECORDING.fetchrow(session, id=recording_id)


async def recording_by_egress(session: AnySession, egress_id: str) -> asyncpg.Record | None:
    return await _RECORDING_BY_EGRESS.fetchrow(session, egress_id=egress_id)


async def insert_recording(session: AnySession, values: dict[str, Any]) -> asyncpg.Record | None:
    """None when the meeting already has a recording running (unique partial index)."""
    return await _INSERT_RECORDING.fetchrow(session, **values)


@shaped
def _update_recording(names: tuple[str, ...]) -> Any:
    values: dict[str, Any] = bound(r, names)
    return (
        update(meeting_recordings).where(r.id == bindparam("recording_id"))
        .values(updated_at=func.now(), **values).returning(*RECORDING_JOB_COLUMNS)
    )  # fmt: skip


async def update_recording(session: AnySession, recording_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await _update_recording(tuple(values)).fetchrow(session, recording_id=recording_id, **values)
    assert row is not None
    return row


# ---------------------------------------------------------------- webhook events

_EVENT = compiled(
    pg_insert(webhook_events)
    .values(sender=bindparam("sender"), event_id=bindparam("event_id"), event=bindparam("event"))
    .on_conflict_do_nothing(index_elements=[webhook_events.c.sender, webhook_events.c.event_id])
    .returning(webhook_events.c.id)
)


async def record_event(session: AnySession, sender: str, event_id: str, event: str) -> bool:
    """False when this event was already handled (a redelivery)."""
    return await _EVENT.fetchval(session, sender=sender, event_id=event_id, event=event) is not None
