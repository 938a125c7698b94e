"""Every query of the notifications module."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.core.db import AnySession, ServiceSession, UserSession
from services.core.sql import Params

COLUMNS = (
    "id, source, priority, title, body, link, entity_type, entity_id, client_id, actor_id, sound,"
    " badge, created_at, read_at"
)


async def operator_ids(session: AnySession) -> list[UUID]:
    return list(await session.fetchval("select private.operator_ids()"))


async def client_member_ids(session: AnySession, client_id: UUID) -> list[UUID]:
    return list(await session.fetchval("select private.client_member_ids($1)", client_id))


async def recipients(session: AnySession, user_ids: list[UUID], client_id: UUID | None) -> list[asyncpg.Record]:
    """Preferences of the recipients; raises InsufficientPrivilegeError if one is off limits."""
    return await session.fetch(
        "select user_id, notification_prefs, quiet_hours from private.notification_recipients($1, $2)",
        user_ids,
        client_id,
    )


async def create_many(session: AnySession, rows: list[dict[str, Any]]) -> list[UUID]:
    records = await session.fetch("select id from private.create_notifications($1::jsonb) as t(id)", rows)
    return [r["id"] for r in records]


async def list_json(
    session: UserSession, *, source: str | None, unread: bool | None, after: tuple[datetime, UUID] | None, limit: int
) -> list[asyncpg.Record]:
    """limit + 1 rows as (json, created_at, id), newest first; RLS keeps them to the caller's own."""
    conditions, params = ["user_id = (select auth.uid())"], Params()
    if source:
        conditions.append(f"source = {params.add(source)}")
    if unread is True:
        conditions.append("read_at is null")
    elif unread is False:
        conditions.append("read_at is not null")
    if after is not None:
        conditions.append(f"(created_at, id) < ({params.add(after[0])}::timestamptz, {params.add(after[1])}::uuid)")
    return await session.fetch(
        f"select row_to_json(t)::text as json, t.created_at, t.id from ("
        f"select {COLUMNS} from public.notifications where {' and '.join(conditions)}"
        f" order by created_at desc, id desc limit {params.add(limit + 1)}) t"
        " order by t.created_at desc, t.id desc",
        *params.values,
    )


async def get(session: UserSession, notification_id: UUID) -> asyncpg.Record | None:
    return await session.fetchrow(f"select {COLUMNS} from public.notifications where id = $1", notification_id)


async def unread_counts(session: UserSession) -> list[asyncpg.Record]:
    return await session.fetch(
        "select source, count(*) as n from public.notifications"
        " where user_id = (select auth.uid()) and read_at is null and badge group by source"
    )


async def mark_read(session: UserSession, notification_id: UUID) -> asyncpg.Record | None:
    """The row once marked read; None when it was already read, or is not mine (RLS), or gone."""
    return await session.fetchrow(
        f"update public.notifications set read_at = now() where id = $1 and read_at is null returning {COLUMNS}",
        notification_id,
    )


async def mark_all_read(session: UserSession, source: str | None) -> int:
    status = await session.execute(
        "update public.notifications set read_at = now()"
        " where user_id = (select auth.uid()) and read_at is null and ($1::text is null or source = $1)",
        source,
    )
    return int(status.split()[-1])


async def purge_read_before(session: ServiceSession, cutoff: datetime, batch: int) -> int:
    status = await session.execute(
        "delete from public.notifications where id in (select id from public.notifications"
        " where read_at is not null and read_at < $1 limit $2)",
        cutoff,
        batch,
    )
    return int(status.split()[-1])


async def for_stream(session: AnySession, ids: list[UUID]) -> list[asyncpg.Record]:
    """(id, user_id, json) for the SSE broker (a service read; routing is by user_id)."""
    return await session.fetch(
        f"select n.id, n.user_id, (select row_to_json(t)::text from (select {COLUMNS}) t) as json"
        " from public.notifications n where n.id = any($1)",
        ids,
    )


async def changed_since(session: UserSession, since_xid: int, limit: int) -> list[asyncpg.Record]:
    """(id, json) of my notifications created by transactions from `since_xid` on (the SSE resume)."""
    return await session.fetch(
        f"select t.id, row_to_json(t)::text as json from (select {COLUMNS} from public.notifications"
        " where user_id = (select auth.uid()) and change_xid >= $1"
        " order by change_xid limit $2) t",
        since_xid,
        limit,
    )
