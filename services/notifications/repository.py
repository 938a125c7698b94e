"""Every query of the notifications module. Writes are one call of a SQL function (migration 0046)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import Select, Text, Uuid, bindparam, cast, delete, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from services.core.db import AnySession, ServiceSession, UserSession
from services.core.pagination import Keyset
from services.core.query import compiled, shaped
from services.notifications.tables import notifications

n = notifications.c
COLUMNS = (
    n.id, n.source, n.priority, n.title, n.body, n.link, n.entity_type, n.entity_id, n.client_id, n.actor_id,
    n.sound, n.badge, n.created_at, n.read_at,
)  # fmt: skip
_ME = select(func.auth.uid()).scalar_subquery()
_IDS = bindparam("ids", type_=ARRAY(Uuid))
KEYSET = Keyset(n.created_at, n.id, kinds=(datetime, UUID), descending=True)

# Fixed calls of the SQL functions that do each write, its checks and its audit entry in one statement.
_ARGS = "$1, $2, $3, $4, $5, $6, $7, $8, $9"  # p_client_id … p_request_id
_NOTIFY_USERS = f"select private.notify($10, {_ARGS})"
_NOTIFY_OPERATORS = (
    "select private.notify(array(select u from unnest(private.operator_ids()) u"
    f" where u is distinct from (select auth.uid())), {_ARGS})"
)
_NOTIFY_MEMBERS = (
    "select private.notify(array(select u from unnest(private.client_member_ids($1)) u"
    f" where u is distinct from (select auth.uid())), {_ARGS})"
)
_MARK_READ = "select private.mark_notification_read($1, $2)"
_MARK_ALL_READ = "select private.mark_notifications_read($1, $2)"
_CLIENT_MEMBER_IDS = "select private.client_member_ids($1)"


def _args(values: dict[str, Any], session: AnySession) -> list[Any]:
    names = ("client_id", "source", "title", "body", "priority", "link", "entity_type", "entity_id")
    return [*(values[name] for name in names), session.request_id]


# Each raises InsufficientPrivilegeError when a recipient is beyond the actor's reach.
async def notify_users(session: AnySession, user_ids: list[UUID], values: dict[str, Any]) -> list[UUID]:
    return list(await session.fetchval(_NOTIFY_USERS, *_args(values, session), user_ids))


async def notify_operators(session: AnySession, values: dict[str, Any]) -> list[UUID]:
    """Every operator but the actor."""
    return list(await session.fetchval(_NOTIFY_OPERATORS, *_args(values, session)))


async def notify_client_members(session: AnySession, values: dict[str, Any]) -> list[UUID]:
    """Every member of `values["client_id"]` but the actor."""
    return list(await session.fetchval(_NOTIFY_MEMBERS, *_args(values, session)))


async def client_member_ids(session: AnySession, client_id: UUID) -> list[UUID]:
    return list(await session.fetchval(_CLIENT_MEMBER_IDS, client_id))


@shaped
def _list(*, source: bool, unread: bool | None, after: bool) -> Select[Any]:
    statement = select(*COLUMNS).where(n.user_id == _ME)
    if source:
        statement = statement.where(n.source == bindparam("source"))
    if unread is not None:
        statement = statement.where(n.read_at.is_(None) if unread else n.read_at.is_not(None))
    return KEYSET.json_page(statement, after=after)


async def list_page(
    session: UserSession, *, source: str | None, unread: bool | None, cursor: str | None, limit: int
) -> bytes:
    """A Page[NotificationRead] as JSON bytes, newest first; RLS keeps it to the caller's own."""
    values = KEYSET.values(cursor, limit)
    if source is not None:
        values["source"] = source
    query = _list(source=source is not None, unread=unread, after=cursor is not None)
    return KEYSET.page_json(await query.fetch(session, **values), limit)


_UNREAD_COUNTS = compiled(
    select(n.source, func.count().label("n")).where(n.user_id == _ME, n.read_at.is_(None), n.badge).group_by(n.source)
)


async def unread_counts(session: UserSession) -> list[asyncpg.Record]:
    return await _UNREAD_COUNTS.fetch(session)


async def mark_read(session: UserSession, notification_id: UUID) -> str | None:
    """The notification as JSON once read; None when it is not mine, or gone."""
    value: str | None = await session.fetchval(_MARK_READ, notification_id, session.request_id)
    return value


async def mark_all_read(session: UserSession, source: str | None) -> int:
    count: int = await session.fetchval(_MARK_ALL_READ, source, session.request_id)
    return count


_PURGE = compiled(
    delete(notifications).where(
        n.id.in_(select(n.id).where(n.read_at.is_not(None), n.read_at < bindparam("cutoff")).limit(bindparam("batch")))
    )
)


async def purge_read_before(session: ServiceSession, cutoff: datetime, batch: int) -> int:
    status = await _PURGE.execute(session, cutoff=cutoff, batch=batch)
    return int(status.split()[-1])


_stream = select(*COLUMNS, n.user_id).where(n.id == func.any(_IDS)).subquery("t")
_FOR_STREAM = compiled(
    select(
        _stream.c.id,
        _stream.c.user_id,
        cast(func.to_jsonb(_stream.table_valued()).op("-")("user_id"), Text).label("json"),
    )
)


async def for_stream(session: AnySession, ids: list[UUID]) -> list[asyncpg.Record]:
    """(id, user_id, json) for the SSE broker (a service read; routing is by user_id)."""
    return await _FOR_STREAM.fetch(session, ids=ids)


_changed = (
    select(*COLUMNS)
    .where(n.user_id == _ME, n.change_xid >= bindparam("since"))
    .order_by(n.change_xid)
    .limit(bindparam("limit"))
    .subquery("t")
)
_CHANGED_SINCE = compiled(select(_changed.c.id, cast(func.row_to_json(_changed.table_valued()), Text).label("json")))


async def changed_since(session: UserSession, since_xid: int, limit: int) -> list[asyncpg.Record]:
    """(id, json) of my notifications created by transactions from `since_xid` on (the SSE resume)."""
    return await _CHANGED_SINCE.fetch(session, since=since_xid, limit=limit)
