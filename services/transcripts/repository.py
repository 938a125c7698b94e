"""Every query of the transcripts module."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import ARRAY, Double, Integer, Text, Uuid, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.core.db import AnySession
from services.core.query import bound, compiled, shaped
from services.transcripts.tables import transcript_segments, transcripts

t = transcripts.c
s = transcript_segments.c
COLUMNS = (
    t.id, t.client_id, t.meeting_id, t.recording_id, t.status, t.language, t.duration_seconds, t.summary_status,
    t.summary, t.summary_raw, t.accepted_items, t.created_at, t.updated_at,
)  # fmt: skip
JOB_COLUMNS = (*COLUMNS, t.request_id, t.text)
SEGMENT_COLUMNS = (s.position, s.speaker, s.start_seconds, s.end_seconds, s.text)

_ENSURE = compiled(
    pg_insert(transcripts)
    .values(client_id=bindparam("client_id"), meeting_id=bindparam("meeting_id"),
            recording_id=bindparam("recording_id"), language=bindparam("language"))
    .on_conflict_do_nothing(index_elements=[t.recording_id])
)  # fmt: skip
_BY_RECORDING = compiled(select(*JOB_COLUMNS).where(t.recording_id == bindparam("recording_id")).with_for_update())
_GET = compiled(select(*JOB_COLUMNS).where(t.id == bindparam("id")))
_GET_FOR_UPDATE = compiled(select(*JOB_COLUMNS).where(t.id == bindparam("id")).with_for_update())
_OF_MEETING = compiled(select(*COLUMNS).where(t.meeting_id == bindparam("meeting_id")).order_by(t.created_at, t.id))
_SEGMENTS = compiled(select(*SEGMENT_COLUMNS).where(s.transcript_id == bindparam("transcript_id")).order_by(s.position))
_CLEAR_SEGMENTS = compiled(delete(transcript_segments).where(s.transcript_id == bindparam("transcript_id")))
# All segments in one statement: parallel arrays unnested into rows.
_rows = select(
    func.unnest(bindparam("positions", type_=ARRAY(Integer))).label("position"),
    func.unnest(bindparam("speakers", type_=ARRAY(Integer))).label("speaker"),
    func.unnest(bindparam("starts", type_=ARRAY(Double))).label("start_seconds"),
    func.unnest(bindparam("ends", type_=ARRAY(Double))).label("end_seconds"),
    func.unnest(bindparam("texts", type_=ARRAY(Text))).label("text"),
).subquery("r")
_INSERT_SEGMENTS = compiled(
    insert(transcript_segments).from_select(
        ["client_id", "transcript_id", "position", "speaker", "start_seconds", "end_seconds", "text"],
        select(
            bindparam("client_id", type_=Uuid), bindparam("transcript_id", type_=Uuid), _rows.c.position,
            _rows.c.speaker, _rows.c.start_seconds, _rows.c.end_seconds, _rows.c.text,
        ),
    )
)  # fmt: skip


async def ensure_for_recording(
    session: AnySession, *, client_id: UUID, meeting_id: UUID, recording_id: UUID, language: str
) -> asyncpg.Record:
    """The recording's transcript, created on first call, locked."""
    await _ENSURE.execute(
        session, client_id=client_id, meeting_id=meeting_id, recording_id=recording_id, language=language
    )
    row = await _BY_RECORDING.fetchrow(session, recording_id=recording_id)
    assert row is not None
    return row


async def get(session: AnySession, transcript_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    return await (_GET_FOR_UPDATE if for_update else _GET).fetchrow(session, id=transcript_id)


async def of_meeting(session: AnySession, meeting_id: UUID) -> list[asyncpg.Record]:
    return await _OF_MEETING.fetch(session, meeting_id=meeting_id)


async def segments(session: AnySession, transcript_id: UUID) -> list[asyncpg.Record]:
    return await _SEGMENTS.fetch(session, transcript_id=transcript_id)


async def replace_segments(
    session: AnySession, client_id: UUID, transcript_id: UUID, rows: list[tuple[int | None, float, float, str]]
) -> None:
    await _CLEAR_SEGMENTS.execute(session, transcript_id=transcript_id)
    await _INSERT_SEGMENTS.execute(
        session,
        client_id=client_id,
        transcript_id=transcript_id,
        positions=list(range(len(rows))),
        speakers=[r[0] for r in rows],
        starts=[r[1] for r in rows],
        ends=[r[2] for r in rows],
        texts=[r[3] for r in rows],
    )


@shaped
def _update(names: tuple[str, ...]) -> Any:
    values: dict[str, Any] = bound(t, names)
    return (
        update(transcripts).where(t.id == bindparam("transcript_id")).values(updated_at=func.now(), **values)
        .returning(*JOB_COLUMNS)
    )  # fmt: skip


async def update_transcript(session: AnySession, transcript_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await _update(tuple(values)).fetchrow(session, transcript_id=transcript_id, **values)
    assert row is not None
    return row
