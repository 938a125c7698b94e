"""Chat between the operator and each client's members: conversations, messages, read positions.

Who may see what is RLS (operator: every client; member: their clients). The rules here: members
need the chat module active; an archived client's conversations are read-only; only the author edits
or deletes a message (a tombstone stays); a new message notifies the other side.

Every write is one call of a SQL function (migration 0046) that checks these rules, writes, notifies
and audits in one statement, so the locks it takes are never held across round trips; its refusals
come back as SQLSTATEs mapped here to the typed errors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

import asyncpg

from services.chat import repository
from services.chat.errors import (
    ChatDisabled,
    ClientArchived,
    ConversationNotFound,
    InvalidMessage,
    MessageDeleted,
    MessageNotFound,
    NotYourMessage,
)
from services.chat.schemas import ConversationRead, MessageCreate, MessageUpdate, ReadState
from services.clients import service as clients
from services.clients.errors import ClientNotFound
from services.config import service as config
from services.config.errors import ConfigNotFound
from services.core.db import AnySession, UserSession
from services.core.errors import FoxeoError

SEQ_MAX = 2**63 - 1
T = TypeVar("T")

_REFUSALS: dict[str, Callable[[], FoxeoError]] = {
    "FXC04": ConversationNotFound,
    "FXM04": MessageNotFound,
    "FXL04": ClientNotFound,
    "FXD03": ChatDisabled,
    "FXA03": NotYourMessage,
    "FXA09": ClientArchived,
    "FXX09": MessageDeleted,
}


async def _checked(call: Awaitable[T]) -> T:
    """The result of a chat write function, its refusals raised as the typed errors."""
    try:
        return await call
    except asyncpg.PostgresError as exc:
        state = exc.sqlstate
        if state in _REFUSALS:
            raise _REFUSALS[state]() from None
        if state == "FXK04":
            raise ConfigNotFound("no configuration for this client, or it is not yours to see") from None
        field = getattr(exc, "column_name", None) or "body"
        if state == "FX422":  # our own function's refusal: its text is written for the caller
            raise InvalidMessage(str(getattr(exc, "message", None) or exc), field=field) from None
        # The message trigger's 23503/23514 (the database floor): its text names constraints and
        # values, so it never reaches a response.
        if isinstance(exc, asyncpg.ForeignKeyViolationError):
            raise InvalidMessage("a referenced object does not exist", field=field) from None
        if isinstance(exc, asyncpg.CheckViolationError):
            raise InvalidMessage("a value is out of range or invalid", field=field) from None
        raise


async def _require_chat_active(session: UserSession, client_id: UUID) -> None:
    if session.principal.is_operator:
        return
    if "chat" not in (await config.get_config(session, client_id)).active_modules:
        raise ChatDisabled()


async def _conversation(session: UserSession, conversation_id: UUID) -> asyncpg.Record:
    row = await repository.get_conversation(session, conversation_id)
    if row is None:
        raise ConversationNotFound()
    await _require_chat_active(session, row["client_id"])
    return row


def _seq(value: int, field: str) -> int:
    """A message position as Postgres stores it (bigint); past that range it is a 422, not a 500."""
    if not 0 <= value <= SEQ_MAX:
        raise InvalidMessage(f"{field} is not valid", field=field)
    return value


async def list_conversations_json(
    session: UserSession, *, client_id: UUID | None, cursor: str | None, limit: int
) -> bytes:
    """A Page[ConversationRead], most recent activity first."""
    if client_id is not None:
        await clients.require_client(session, client_id)
        await _require_chat_active(session, client_id)
    # Members see only clients where chat is active, as every other chat route enforces.
    return await repository.list_conversations_page(
        session, client_id=client_id, chat_active_only=not session.principal.is_operator, cursor=cursor, limit=limit
    )


async def get_conversation_json(session: UserSession, conversation_id: UUID) -> bytes:
    await _conversation(session, conversation_id)
    value = await repository.conversation_json(session, conversation_id)
    if value is None:
        raise ConversationNotFound()
    return value.encode()


async def open_direct_conversation(session: UserSession, client_id: UUID) -> ConversationRead:
    """The client's direct conversation, created on first use."""
    conversation_id = await _checked(repository.open_direct(session, client_id))
    value = await repository.conversation_json(session, conversation_id)
    assert value is not None  # the caller just saw or created it
    return ConversationRead.model_validate_json(value)


async def list_messages_json(
    session: UserSession, conversation_id: UUID, *, cursor: str | None, since_seq: int | None, limit: int
) -> bytes:
    """A Page[MessageRead], newest first. The cursor is a `seq`, which new messages never shift."""
    if since_seq is not None:
        since_seq = _seq(since_seq, "since_seq")
    page = await _checked(
        repository.list_messages_page(session, conversation_id, cursor=cursor, since_seq=since_seq, limit=limit)
    )
    if page is None:
        raise ConversationNotFound()
    return page


async def post_message(session: UserSession, conversation_id: UUID, data: MessageCreate) -> bytes:
    """Sends a message and notifies the other side (the client's members, or the operators): a
    MessageRead as JSON bytes, passed through as Postgres rendered it (the conversation's lock is
    held until commit, so nothing is re-parsed in between)."""
    sent = repository.send(session, conversation_id, data.body or None, data.attachment_ids, data.reply_to_id)
    return (await _checked(sent)).encode()


async def edit_message(session: UserSession, message_id: UUID, data: MessageUpdate) -> bytes:
    """Edits my message's body or attachments (only the fields sent; unchanged content writes nothing):
    a MessageRead as JSON bytes."""
    edited = repository.edit(
        session,
        message_id,
        set_body=data.body is not None,
        body=data.body or None,
        attachment_ids=data.attachment_ids,
    )
    return (await _checked(edited)).encode()


async def delete_message(session: UserSession, message_id: UUID) -> bytes:
    """Deletes my message, leaving a tombstone (no body, no attachments, `deleted_at` set): a
    MessageRead as JSON bytes."""
    return (await _checked(repository.tombstone(session, message_id))).encode()


async def mark_read(session: UserSession, conversation_id: UUID, seq: int | None) -> ReadState:
    """Moves my read position to `seq` (default: the latest message); it never moves back."""
    if seq is not None and seq > SEQ_MAX:
        raise InvalidMessage(f"seq {seq} is past the last message", field="seq")
    row = await _checked(repository.mark_read(session, conversation_id, seq))
    return ReadState(
        conversation_id=conversation_id, last_read_seq=row["last_read_seq"], unread_count=row["unread_count"]
    )


async def stream_rows(session: AnySession, ids: list[UUID]) -> list[asyncpg.Record]:
    """For the SSE broker: (id, version, deleted, json) of these messages."""
    return await repository.messages_for_stream(session, ids)


async def changed_since(session: UserSession, since_xid: int, limit: int) -> list[asyncpg.Record]:
    """For the SSE resume: (id, version, deleted, json) of messages changed from `since_xid` on (RLS)."""
    return await repository.changed_messages(session, since_xid, limit)
