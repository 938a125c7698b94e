"""Chat between the operator and each client's members: conversations, messages, read positions.

Who may see what is RLS (operator: every client; member: their clients). The rules here: members
need the chat module active; an archived client's conversations are read-only; only the author edits
or deletes a message (a tombstone stays); a new message notifies the other side.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.audit import service as audit
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
from services.chat.schemas import ConversationRead, MessageCreate, MessageRead, MessageUpdate, ReadState
from services.clients import service as clients
from services.config import service as config
from services.core.db import AnySession, UserSession
from services.core.pagination import encode_cursor, page_bytes, read_cursor
from services.documents import service as documents
from services.documents.errors import DocumentNotFound
from services.notifications import service as notifications

EXCERPT = 140
SEQ_MAX = 2**63 - 1


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


def _page_cursor(cursor: str | None) -> tuple[datetime, UUID] | None:
    """(last_activity_at, id) from a conversations cursor."""
    if not cursor:
        return None
    at, last_id = read_cursor(cursor, datetime, UUID)
    return at, last_id


def _seq(value: object, field: str) -> int:
    """A message position as Postgres stores it (bigint); past that range it is a 422, not a 500."""
    if type(value) is not int or not 0 <= value <= SEQ_MAX:
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
    rows = await repository.list_conversations_json(
        session,
        client_id=client_id,
        chat_active_only=not session.principal.is_operator,
        after=_page_cursor(cursor),
        limit=limit,
    )
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last["last_activity_at"].isoformat(), str(last["id"]))
    return page_bytes([r["json"] for r in rows[:limit]], next_cursor)


async def get_conversation_json(session: UserSession, conversation_id: UUID) -> bytes:
    await _conversation(session, conversation_id)
    value = await repository.conversation_json(session, conversation_id)
    if value is None:
        raise ConversationNotFound()
    return value.encode()


async def open_direct_conversation(session: UserSession, client_id: UUID) -> ConversationRead:
    """The client's direct conversation, created on first use."""
    client = await clients.require_client(session, client_id)
    await _require_chat_active(session, client_id)
    conversation_id = await repository.direct_conversation_id(session, client_id)
    if conversation_id is None:
        if client.status == "archived":
            raise ClientArchived()
        conversation_id = await repository.insert_direct_conversation(session, client_id)
        if conversation_id is None:  # a concurrent request created it
            conversation_id = await repository.direct_conversation_id(session, client_id)
        else:
            await audit.record(
                session,
                action="chat.conversation_opened",
                entity_type="chat_conversation",
                entity_id=conversation_id,
                client_id=client_id,
                after={"id": str(conversation_id), "kind": "direct"},
            )
    assert conversation_id is not None
    value = await repository.conversation_json(session, conversation_id)
    assert value is not None
    return ConversationRead.model_validate_json(value)


async def list_messages_json(
    session: UserSession, conversation_id: UUID, *, cursor: str | None, since_seq: int | None, limit: int
) -> bytes:
    """A Page[MessageRead], newest first. The cursor is a `seq`, which new messages never shift."""
    await _conversation(session, conversation_id)
    before_seq = _seq(read_cursor(cursor, int)[0], "cursor") if cursor else None
    if since_seq is not None:
        since_seq = _seq(since_seq, "since_seq")
    rows = await repository.list_messages_json(
        session, conversation_id, before_seq=before_seq, since_seq=since_seq, limit=limit
    )
    next_cursor = encode_cursor(rows[limit - 1]["seq"]) if len(rows) > limit else None
    return page_bytes([r["json"] for r in rows[:limit]], next_cursor)


async def _check_attachments(session: UserSession, ids: list[UUID], client_id: UUID) -> None:
    """Attachments are documents of this client that its members can open: shared, not archived.
    (The database re-checks same-client in the insert trigger, for writers other than this API.)"""
    for document_id in dict.fromkeys(ids):
        try:
            document = await documents.load(session, document_id)
        except DocumentNotFound:
            raise InvalidMessage(f"no document {document_id} to attach", field="attachment_ids") from None
        if document.client_id != client_id:
            raise InvalidMessage("attachments must be documents of this client", field="attachment_ids")
        if document.visibility != "shared" or document.archived_at is not None:
            raise InvalidMessage(
                f"document {document_id} is internal or archived: the client could not open it", field="attachment_ids"
            )


def _integrity(exc: asyncpg.PostgresError) -> InvalidMessage:
    # The database's own text names constraints and values: never copied into a response.
    field = getattr(exc, "column_name", None) or "body"
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        return InvalidMessage("a referenced object does not exist", field=field)
    return InvalidMessage("a value is out of range or invalid", field=field)


async def post_message(session: UserSession, conversation_id: UUID, data: MessageCreate) -> MessageRead:
    conversation = await _conversation(session, conversation_id)
    if conversation["client_status"] == "archived":
        raise ClientArchived()
    client_id: UUID = conversation["client_id"]
    if data.reply_to_id and not await repository.message_in_conversation(session, data.reply_to_id, conversation_id):
        raise InvalidMessage("the replied-to message is not in this conversation", field="reply_to_id")
    await _check_attachments(session, data.attachment_ids, client_id)
    try:
        row = await repository.insert_message(session, conversation_id, data.model_dump())
    except (asyncpg.ForeignKeyViolationError, asyncpg.CheckViolationError) as exc:
        raise _integrity(exc) from None
    message = MessageRead(**dict(row))
    await audit.record(
        session,
        action="chat.message_sent",
        entity_type="chat_message",
        entity_id=message.id,
        client_id=client_id,
        after=message.model_dump(mode="json", exclude={"body"}),
    )
    await _notify_other_side(session, message, conversation["company_name"])
    return message


async def _notify_other_side(session: UserSession, message: MessageRead, company_name: str) -> None:
    text = message.body or "📎 Pièce jointe"
    excerpt = text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"
    common: dict[str, Any] = {
        "source": "chat",
        "body": excerpt,
        "link": f"/chat/{message.conversation_id}",
        "entity_type": "chat_message",
        "entity_id": str(message.id),
    }
    if message.author_role == "operator":
        await notifications.notify_client_members(session, message.client_id, title="Nouveau message", **common)
    else:
        await notifications.notify_operators(
            session, title=f"Nouveau message — {company_name}", client_id=message.client_id, **common
        )


async def _own_message(session: UserSession, message_id: UUID) -> MessageRead:
    row = await repository.get_message(session, message_id)
    if row is None:
        raise MessageNotFound()
    await _require_chat_active(session, row["client_id"])
    if row["author_id"] != session.principal.user_id:
        raise NotYourMessage()
    if (await clients.require_client(session, row["client_id"])).status == "archived":
        raise ClientArchived()
    # FOR UPDATE also applies the update policy (own messages only), hence after the author check.
    row = await repository.get_message(session, message_id, for_update=True)
    if row is None:
        raise MessageNotFound()
    message = MessageRead(**dict(row))
    if message.deleted_at is not None:
        raise MessageDeleted()
    return message


async def edit_message(session: UserSession, message_id: UUID, data: MessageUpdate) -> MessageRead:
    before = await _own_message(session, message_id)
    changes: dict[str, Any] = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    if "body" in changes:
        changes["body"] = changes["body"] or None
    body = changes.get("body", before.body)
    attachments = changes.get("attachment_ids", before.attachment_ids)
    if not body and not attachments:
        raise InvalidMessage("a message needs a body or an attachment", field="body")
    if not changes or (body == before.body and attachments == before.attachment_ids):
        return before
    if "attachment_ids" in changes:
        await _check_attachments(session, changes["attachment_ids"], before.client_id)
    try:
        row = await repository.update_message(session, message_id, changes)
    except (asyncpg.ForeignKeyViolationError, asyncpg.CheckViolationError) as exc:
        raise _integrity(exc) from None
    after = MessageRead(**dict(row))
    await audit.record(
        session,
        action="chat.message_edited",
        entity_type="chat_message",
        entity_id=message_id,
        client_id=after.client_id,
        before=before,
        after=after,
    )
    return after


async def delete_message(session: UserSession, message_id: UUID) -> MessageRead:
    """Deletes my message, leaving a tombstone (no body, no attachments, `deleted_at` set)."""
    before = await _own_message(session, message_id)
    after = MessageRead(**dict(await repository.tombstone_message(session, message_id)))
    await audit.record(
        session,
        action="chat.message_deleted",
        entity_type="chat_message",
        entity_id=message_id,
        client_id=after.client_id,
        before=before,
        after=after,
    )
    return after


async def mark_read(session: UserSession, conversation_id: UUID, seq: int | None) -> ReadState:
    """Moves my read position to `seq` (default: the latest message); it never moves back."""
    conversation = await _conversation(session, conversation_id)
    last_seq: int = conversation["last_seq"]
    if seq is not None and seq > last_seq:
        raise InvalidMessage(f"seq {seq} is past the last message ({last_seq})", field="seq")
    target = last_seq if seq is None else seq
    previous = (await repository.my_read_state(session, conversation_id))["last_read_seq"]
    position = previous
    if target > previous:
        advanced = await repository.advance_read(session, conversation_id, conversation["client_id"], target)
        if advanced is not None:
            position = advanced["last_read_seq"]
            await audit.record(
                session,
                action="chat.read",
                entity_type="chat_conversation",
                entity_id=conversation_id,
                client_id=conversation["client_id"],
                before={"last_read_seq": previous},
                after={"last_read_seq": position},
            )
    return ReadState(
        conversation_id=conversation_id,
        last_read_seq=position,
        unread_count=await repository.unread_count(session, conversation_id, position),
    )


async def stream_rows(session: AnySession, ids: list[UUID]) -> list[asyncpg.Record]:
    """For the SSE broker: (id, version, deleted, json) of these messages."""
    return await repository.messages_for_stream(session, ids)


async def changed_since(session: UserSession, since_xid: int, limit: int) -> list[asyncpg.Record]:
    """For the SSE resume: (id, version, deleted, json) of messages changed from `since_xid` on (RLS)."""
    return await repository.changed_messages(session, since_xid, limit)
