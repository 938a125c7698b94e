"""Every query of the chat module. Lists are rendered as JSON by Postgres."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from services.core.db import AnySession, UserSession
from services.core.sql import Params, update_returning

MESSAGE_COLUMNS = (
    "id, conversation_id, client_id, seq, author_id, author_role, body, attachment_ids,"
    " reply_to_id, created_at, edited_at, deleted_at, version"
)
_M_COLUMNS = ", ".join(f"m.{c.strip()}" for c in MESSAGE_COLUMNS.split(","))

# One conversation as the caller sees it: last message, own read position, unread count. The count
# uses the (conversation_id, seq) index from the read position on.
_CONVERSATION_SELECT = f"""
  select c.id, c.client_id, cl.company_name as client_name, c.kind, c.subject_id, c.title, c.last_seq,
    c.last_activity_at, c.created_at,
    (select row_to_json(lm) from (select {_M_COLUMNS} from public.chat_messages m
       where m.conversation_id = c.id order by m.seq desc limit 1) lm) as last_message,
    coalesce(r.last_read_seq, 0) as my_last_read_seq,
    (select count(*) from public.chat_messages m
       where m.conversation_id = c.id and m.seq > coalesce(r.last_read_seq, 0)
         and m.author_id is distinct from (select auth.uid()) and m.deleted_at is null) as unread_count
  from public.chat_conversations c
  join public.clients cl on cl.id = c.client_id
  left join public.chat_reads r on r.conversation_id = c.id and r.user_id = (select auth.uid())"""


async def list_conversations_json(
    session: UserSession, *, client_id: UUID | None, chat_active_only: bool, after: tuple[Any, UUID] | None, limit: int
) -> list[asyncpg.Record]:
    """limit + 1 conversations by latest activity, as (json, last_activity_at, id); RLS scopes them."""
    conditions, params = ["true"], Params()
    if client_id:
        conditions.append(f"c.client_id = {params.add(client_id)}")
    if chat_active_only:
        conditions.append(
            "exists (select 1 from public.client_configs cc where cc.client_id = c.client_id"
            " and 'chat' = any (cc.active_modules))"
        )
    if after:
        conditions.append(
            f"(c.last_activity_at, c.id) < ({params.add(after[0])}::timestamptz, {params.add(after[1])}::uuid)"
        )
    return await session.fetch(
        f"select row_to_json(t)::text as json, t.last_activity_at, t.id from ({_CONVERSATION_SELECT}"
        f" where {' and '.join(conditions)} order by c.last_activity_at desc, c.id desc"
        f" limit {params.add(limit + 1)}) t order by t.last_activity_at desc, t.id desc",
        *params.values,
    )


async def conversation_json(session: UserSession, conversation_id: UUID) -> str | None:
    value: str | None = await session.fetchval(
        f"select row_to_json(t)::text from ({_CONVERSATION_SELECT} where c.id = $1) t", conversation_id
    )
    return value


async def get_conversation(session: AnySession, conversation_id: UUID) -> asyncpg.Record | None:
    return await session.fetchrow(
        "select c.id, c.client_id, c.kind, c.last_seq, cl.company_name, cl.status as client_status"
        " from public.chat_conversations c join public.clients cl on cl.id = c.client_id where c.id = $1",
        conversation_id,
    )


async def direct_conversation_id(session: AnySession, client_id: UUID) -> UUID | None:
    value: UUID | None = await session.fetchval(
        "select id from public.chat_conversations where client_id = $1 and kind = 'direct'", client_id
    )
    return value


async def insert_direct_conversation(session: AnySession, client_id: UUID) -> UUID | None:
    """The new conversation's id, or None when a concurrent request created it first."""
    value: UUID | None = await session.fetchval(
        "insert into public.chat_conversations (client_id, kind) values ($1, 'direct')"
        " on conflict (client_id) where kind = 'direct' do nothing returning id",
        client_id,
    )
    return value


async def list_messages_json(
    session: UserSession, conversation_id: UUID, *, before_seq: int | None, since_seq: int | None, limit: int
) -> list[asyncpg.Record]:
    """limit + 1 messages, newest first, as (json, seq)."""
    return await session.fetch(
        f"select row_to_json(t)::text as json, t.seq from (select {MESSAGE_COLUMNS}"
        " from public.chat_messages where conversation_id = $1"
        " and ($2::bigint is null or seq < $2) and ($3::bigint is null or seq > $3)"
        " order by seq desc limit $4) t order by t.seq desc",
        conversation_id,
        before_seq,
        since_seq,
        limit + 1,
    )


async def get_message(session: AnySession, message_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    lock = " for update" if for_update else ""
    return await session.fetchrow(f"select {MESSAGE_COLUMNS} from public.chat_messages where id = $1{lock}", message_id)


async def message_in_conversation(session: UserSession, message_id: UUID, conversation_id: UUID) -> bool:
    return bool(
        await session.fetchval(
            "select exists (select 1 from public.chat_messages where id = $1 and conversation_id = $2)",
            message_id,
            conversation_id,
        )
    )


async def insert_message(session: UserSession, conversation_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await session.fetchrow(
        "insert into public.chat_messages (conversation_id, author_id, body, attachment_ids, reply_to_id)"
        f" values ($1, (select auth.uid()), $2, $3, $4) returning {MESSAGE_COLUMNS}",
        conversation_id,
        values["body"] or None,
        values["attachment_ids"],
        values["reply_to_id"],
    )
    assert row is not None
    return row


async def update_message(session: UserSession, message_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await update_returning(
        session, "public.chat_messages", "id = $1", (message_id,), values, MESSAGE_COLUMNS, touch_updated_at=False
    )
    assert row is not None  # the caller holds the row lock (FOR UPDATE)
    return row


async def tombstone_message(session: UserSession, message_id: UUID) -> asyncpg.Record:
    row = await session.fetchrow(
        f"update public.chat_messages set deleted_at = now() where id = $1 returning {MESSAGE_COLUMNS}", message_id
    )
    assert row is not None
    return row


async def advance_read(session: UserSession, conversation_id: UUID, client_id: UUID, seq: int) -> asyncpg.Record | None:
    """Moves my read position forward only; None when it already was at or past `seq`."""
    return await session.fetchrow(
        "insert into public.chat_reads as r (conversation_id, user_id, client_id, last_read_seq)"
        " values ($1, (select auth.uid()), $2, $3)"
        " on conflict (conversation_id, user_id) do update set last_read_seq = excluded.last_read_seq,"
        " read_at = now() where r.last_read_seq < excluded.last_read_seq"
        " returning last_read_seq",
        conversation_id,
        client_id,
        seq,
    )


async def my_read_state(session: UserSession, conversation_id: UUID) -> asyncpg.Record:
    row = await session.fetchrow(
        "select coalesce((select last_read_seq from public.chat_reads where conversation_id = $1"
        " and user_id = (select auth.uid())), 0) as last_read_seq",
        conversation_id,
    )
    assert row is not None
    return row


async def unread_count(session: UserSession, conversation_id: UUID, after_seq: int) -> int:
    count: int = await session.fetchval(
        "select count(*) from public.chat_messages where conversation_id = $1 and seq > $2"
        " and author_id is distinct from (select auth.uid()) and deleted_at is null",
        conversation_id,
        after_seq,
    )
    return count


async def messages_for_stream(session: AnySession, ids: list[UUID]) -> list[asyncpg.Record]:
    """(id, version, deleted, json) for the SSE broker: a service read, since routing was decided
    from the NOTIFY payload the database wrote."""
    return await session.fetch(
        "select t.id, t.version, t.deleted_at is not null as deleted, row_to_json(t)::text as json"
        f" from (select {MESSAGE_COLUMNS} from public.chat_messages where id = any($1)) t",
        ids,
    )


async def changed_messages(session: UserSession, since_xid: int, limit: int) -> list[asyncpg.Record]:
    """(id, version, deleted, json) of messages written by transactions from `since_xid` on that the
    caller may read (the SSE resume; RLS decides)."""
    return await session.fetch(
        "select t.id, t.version, t.deleted_at is not null as deleted,"
        " (row_to_json(t)::jsonb - 'change_xid')::text as json from ("
        f"select {MESSAGE_COLUMNS}, change_xid from public.chat_messages where change_xid >= $1"
        " order by change_xid limit $2) t order by t.change_xid",
        since_xid,
        limit,
    )
