"""Every query of the chat module. Lists are rendered as JSON by Postgres; every write that locks is
one call of a SQL function (migration 0046) doing its checks, the write, notifications and audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import Select, Text, Uuid, bindparam, cast, func, literal, literal_column, select, true
from sqlalchemy.dialects.postgresql import ARRAY

from services.chat.tables import chat_conversations, chat_messages, chat_reads
from services.clients.tables import clients
from services.config.tables import client_configs
from services.core.db import AnySession, UserSession
from services.core.errors import Unprocessable
from services.core.pagination import Keyset
from services.core.query import compiled, shaped

cv, m, r = chat_conversations.c, chat_messages.c, chat_reads.c
MESSAGE_COLUMNS = (
    m.id, m.conversation_id, m.client_id, m.seq, m.author_id, m.author_role, m.body, m.attachment_ids,
    m.reply_to_id, m.created_at, m.edited_at, m.deleted_at, m.version,
)  # fmt: skip
_ME = select(func.auth.uid()).scalar_subquery()
_IDS = bindparam("ids", type_=ARRAY(Uuid))
CONVERSATIONS = Keyset(cv.last_activity_at, cv.id, kinds=(datetime, UUID), descending=True)
MESSAGES = Keyset(m.seq, kinds=(int,), descending=True)  # seq is unique in a conversation

# The writes: fixed calls, each one statement (see migration 0046 for the SQLSTATEs they raise).
_SEND = "select private.send_chat_message($1, $2, $3, $4, $5)"
_EDIT = "select private.edit_chat_message($1, $2, $3, $4, $5)"
_DELETE = "select private.delete_chat_message($1, $2)"
_MARK_READ = "select last_read_seq, unread_count from private.mark_chat_read($1, $2, $3)"
_OPEN_DIRECT = "select private.open_direct_chat($1, $2)"


def _json(statement: Select[Any]) -> Any:
    return cast(func.row_to_json(statement.subquery("t").table_valued()), Text)


# One conversation as the caller sees it: last message, own read position, unread count (counted
# with the (conversation_id, seq) index from the read position on).
_last = (
    select(*MESSAGE_COLUMNS)
    .where(m.conversation_id == cv.id)
    .order_by(m.seq.desc())
    .limit(1)
    .correlate(chat_conversations)
)
_read_seq = func.coalesce(r.last_read_seq, 0)
_unread = (
    select(func.count())
    .where(m.conversation_id == cv.id, m.seq > _read_seq, m.author_id.is_distinct_from(_ME), m.deleted_at.is_(None))
    .scalar_subquery()
)
_conversation = select(
    cv.id, cv.client_id, clients.c.company_name.label("client_name"), cv.kind, cv.subject_id, cv.title, cv.last_seq,
    cv.last_activity_at, cv.created_at,
    select(func.row_to_json(_last.subquery("lm").table_valued())).scalar_subquery().label("last_message"),
    _read_seq.label("my_last_read_seq"), _unread.label("unread_count"),
).select_from(
    chat_conversations.join(clients, clients.c.id == cv.client_id)
    .outerjoin(chat_reads, (r.conversation_id == cv.id) & (r.user_id == _ME))
)  # fmt: skip


@shaped
def _list_conversations(*, client: bool, chat_active_only: bool, after: bool) -> Select[Any]:
    statement = _conversation
    if client:
        statement = statement.where(cv.client_id == bindparam("client_id"))
    if chat_active_only:
        cc = client_configs.c
        active = select(cc.client_id).where(
            cc.client_id == cv.client_id, literal("chat") == func.any(cc.active_modules)
        )
        statement = statement.where(active.exists())
    return CONVERSATIONS.json_page(statement, after=after)


async def list_conversations_page(
    session: UserSession, *, client_id: UUID | None, chat_active_only: bool, cursor: str | None, limit: int
) -> bytes:
    """A Page[ConversationRead] as JSON bytes, by latest activity; RLS scopes the conversations."""
    values = CONVERSATIONS.values(cursor, limit)
    if client_id is not None:
        values["client_id"] = client_id
    query = _list_conversations(client=client_id is not None, chat_active_only=chat_active_only, after=bool(cursor))
    return CONVERSATIONS.page_json(await query.fetch(session, **values), limit)


_CONVERSATION_JSON = compiled(select(_json(_conversation.where(cv.id == bindparam("id")))))
_GET_CONVERSATION = compiled(
    select(cv.id, cv.client_id, cv.kind, cv.last_seq, clients.c.company_name, clients.c.status.label("client_status"))
    .select_from(chat_conversations.join(clients, clients.c.id == cv.client_id))
    .where(cv.id == bindparam("id"))
)


async def conversation_json(session: UserSession, conversation_id: UUID) -> str | None:
    value: str | None = await _CONVERSATION_JSON.fetchval(session, id=conversation_id)
    return value


async def get_conversation(session: AnySession, conversation_id: UUID) -> asyncpg.Record | None:
    return await _GET_CONVERSATION.fetchrow(session, id=conversation_id)


async def open_direct(session: UserSession, client_id: UUID) -> UUID:
    """The client's direct conversation id, created and audited on first use."""
    value: UUID = await session.fetchval(_OPEN_DIRECT, client_id, session.request_id)
    return value


@shaped
def _list_messages(*, since: bool, after: bool) -> Select[Any]:
    """The conversation, gated (private.require_chat_active raises for a member whose chat module is
    off), left-joined to one page of its messages: no row when the caller cannot see the
    conversation, one row without json when the page is empty. One round trip for the whole read."""
    statement = select(*MESSAGE_COLUMNS).where(m.conversation_id == bindparam("conversation_id"))
    if since:
        statement = statement.where(m.seq > bindparam("since_seq"))
    page = MESSAGES.json_page(statement, after=after).subquery("page")
    # OFFSET 0 keeps the gate a subquery of its own, so its function runs once, not once per message
    # (pulled up, it would be evaluated in the outer projection); it is selected because an unused
    # stable function of a subquery is never evaluated.
    gate = (
        select(func.private.require_chat_active(cv.client_id).label("gate"))
        .where(cv.id == bindparam("conversation_id"))
        .offset(literal_column("0"))
        .subquery("gate")
    )
    return (
        select(gate.c.gate, page.c.json, page.c.key_0)
        .select_from(gate.outerjoin(page, true()))
        .order_by(page.c.key_0.desc())
    )


async def list_messages_page(
    session: UserSession, conversation_id: UUID, *, cursor: str | None, since_seq: int | None, limit: int
) -> bytes | None:
    """A Page[MessageRead] as JSON bytes, newest first, keyed by `seq` (which new messages never
    shift); None when the caller cannot see the conversation."""
    values = MESSAGES.values(cursor, limit)
    if values.get("after_0", 0) < 0:  # a seq is never negative: a cursor saying so was forged
        raise Unprocessable("cursor is not valid", field="cursor")
    values["conversation_id"] = conversation_id
    if since_seq is not None:
        values["since_seq"] = since_seq
    query = _list_messages(since=since_seq is not None, after=cursor is not None)
    rows = await query.fetch(session, **values)
    if not rows:
        return None
    return MESSAGES.page_json([row for row in rows if row["json"] is not None], limit)


async def send(
    session: UserSession, conversation_id: UUID, body: str | None, attachment_ids: list[UUID], reply_to_id: UUID | None
) -> str:
    """The new message as JSON (see private.send_chat_message)."""
    value: str = await session.fetchval(_SEND, conversation_id, body, attachment_ids, reply_to_id, session.request_id)
    return value


async def edit(
    session: UserSession, message_id: UUID, *, set_body: bool, body: str | None, attachment_ids: list[UUID] | None
) -> str:
    value: str = await session.fetchval(_EDIT, message_id, set_body, body, attachment_ids, session.request_id)
    return value


async def tombstone(session: UserSession, message_id: UUID) -> str:
    value: str = await session.fetchval(_DELETE, message_id, session.request_id)
    return value


async def mark_read(session: UserSession, conversation_id: UUID, seq: int | None) -> asyncpg.Record:
    row = await session.fetchrow(_MARK_READ, conversation_id, seq, session.request_id)
    assert row is not None  # a set-returning function that returns one row or raises
    return row


_stream = select(*MESSAGE_COLUMNS).where(m.id == func.any(_IDS)).subquery("t")
_STREAM = compiled(
    select(
        _stream.c.id, _stream.c.version, _stream.c.deleted_at.is_not(None).label("deleted"),
        cast(func.row_to_json(_stream.table_valued()), Text).label("json"),
    )
)  # fmt: skip


async def messages_for_stream(session: AnySession, ids: list[UUID]) -> list[asyncpg.Record]:
    """(id, version, deleted, json) for the SSE broker: a service read, since routing was decided
    from the NOTIFY payload the database wrote."""
    return await _STREAM.fetch(session, ids=ids)


_changed = (
    select(*MESSAGE_COLUMNS, m.change_xid)
    .where(m.change_xid >= bindparam("since"))
    .order_by(m.change_xid)
    .limit(bindparam("limit"))
    .subquery("t")
)
_CHANGED = compiled(
    select(
        _changed.c.id, _changed.c.version, _changed.c.deleted_at.is_not(None).label("deleted"),
        cast(func.to_jsonb(_changed.table_valued()).op("-")("change_xid"), Text).label("json"),
    ).order_by(_changed.c.change_xid)
)  # fmt: skip


async def changed_messages(session: UserSession, since_xid: int, limit: int) -> list[asyncpg.Record]:
    """(id, version, deleted, json) of messages written by transactions from `since_xid` on that the
    caller may read (the SSE resume; RLS decides)."""
    return await _CHANGED.fetch(session, since=since_xid, limit=limit)
