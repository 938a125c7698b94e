"""Mirror of migrations/0020_chat.sql (tests/core/test_tables.py keeps them equal)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, FetchedValue, ForeignKey, Integer, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY

from services.core.tables import metadata

chat_conversations = Table(
    "chat_conversations",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE"), nullable=False),
    Column("kind", Text, nullable=False, server_default=FetchedValue()),
    Column("subject_id", Uuid),
    Column("title", Text),
    Column("last_seq", BigInteger, nullable=False, server_default=FetchedValue()),
    Column("last_activity_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
)

chat_messages = Table(
    "chat_messages",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("conversation_id", Uuid, ForeignKey("public.chat_conversations.id", ondelete="CASCADE"), nullable=False),
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("author_id", Uuid),
    Column("author_role", Text, nullable=False),
    Column("body", Text),
    Column("attachment_ids", ARRAY(Uuid), nullable=False, server_default=FetchedValue()),
    Column("reply_to_id", Uuid, ForeignKey("public.chat_messages.id", ondelete="SET NULL")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("edited_at", DateTime(timezone=True)),
    Column("deleted_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False, server_default=FetchedValue()),
    Column("change_xid", BigInteger, nullable=False, server_default=FetchedValue()),
    Column("stream_xmin", BigInteger, nullable=False, server_default=FetchedValue()),
)

chat_reads = Table(
    "chat_reads",
    metadata,
    Column("conversation_id", Uuid, ForeignKey("public.chat_conversations.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Uuid, primary_key=True),
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE"), nullable=False),
    Column("last_read_seq", BigInteger, nullable=False, server_default=FetchedValue()),
    Column("read_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
)
