"""Chat between the operator and each client: conversations, messages, read positions."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import OneStatement, Session
from api.problems import JSONBytes, responses
from services.chat import service
from services.chat.schemas import (
    ConversationRead,
    MessageCreate,
    MessageRead,
    MessageUpdate,
    ReadPosition,
    ReadState,
)
from services.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/chat", tags=["chat"])


@router.get("/conversations", response_model=Page[ConversationRead], responses=responses(401, 403, 404, 422))
async def list_conversations(
    session: Session,
    client_id: UUID | None = Query(None, description="Only this client's conversations"),
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
) -> JSONBytes:
    """List my conversations with last message and unread count, most recent activity first."""
    return JSONBytes(await service.list_conversations_json(session, client_id=client_id, cursor=cursor, limit=limit))


@router.put(
    "/clients/{client_id}/conversation", response_model=ConversationRead, responses=responses(401, 403, 404, 409)
)
async def open_direct_conversation(session: Session, client_id: UUID) -> ConversationRead:
    """Open a client's direct conversation with the operator (created on first use)."""
    return await service.open_direct_conversation(session, client_id)


@router.get("/conversations/{conversation_id}", response_model=ConversationRead, responses=responses(401, 403, 404))
async def get_conversation(session: Session, conversation_id: UUID) -> JSONBytes:
    """Read a conversation with its last message and my unread count."""
    return JSONBytes(await service.get_conversation_json(session, conversation_id))


@router.get(
    "/conversations/{conversation_id}/messages",
    response_model=Page[MessageRead],
    responses=responses(401, 403, 404, 422),
)
async def list_messages(
    session: Session,
    conversation_id: UUID,
    since_seq: int | None = Query(None, ge=0, description="Only messages after this seq (catching up)"),
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
) -> JSONBytes:
    """List a conversation's messages, newest first, one keyset page at a time."""
    return JSONBytes(
        await service.list_messages_json(session, conversation_id, cursor=cursor, since_seq=since_seq, limit=limit)
    )


@router.post(
    "/conversations/{conversation_id}/messages",
    response_model=MessageRead,
    status_code=201,
    responses=responses(401, 403, 404, 409, 422),
)
async def send_message(session: OneStatement, conversation_id: UUID, data: MessageCreate) -> JSONBytes:
    """Send a message (text, attachments, reply); notifies the other side."""
    return JSONBytes(await service.post_message(session, conversation_id, data), status_code=201)


@router.patch("/messages/{message_id}", response_model=MessageRead, responses=responses(401, 403, 404, 409, 422))
async def edit_message(session: OneStatement, message_id: UUID, data: MessageUpdate) -> JSONBytes:
    """Edit my message's text or attachments."""
    return JSONBytes(await service.edit_message(session, message_id, data))


@router.delete("/messages/{message_id}", response_model=MessageRead, responses=responses(401, 403, 404, 409))
async def delete_message(session: OneStatement, message_id: UUID) -> JSONBytes:
    """Delete my message; a tombstone stays in the conversation."""
    return JSONBytes(await service.delete_message(session, message_id))


@router.post("/conversations/{conversation_id}/read", response_model=ReadState, responses=responses(401, 403, 404, 422))
async def mark_conversation_read(
    session: OneStatement, conversation_id: UUID, data: ReadPosition | None = None
) -> ReadState:
    """Move my read position forward (default: to the latest message)."""
    return await service.mark_read(session, conversation_id, data.seq if data else None)
