"""Chat tables in SQL under `authenticated`: client A's member sees and writes nothing of client B's,
edits only their own messages, and cannot forge what the database assigns."""

from __future__ import annotations

from typing import NamedTuple
from uuid import UUID

import asyncpg
import pytest

from tests.conftest import Tenant, User
from tests.rls.conftest import AsUser, Denied


class Chat(NamedTuple):
    conversation: UUID
    message: UUID


Chats = dict[UUID, Chat]


@pytest.fixture
async def chats(sql: asyncpg.Connection, tenant_a: Tenant, tenant_b: Tenant, operator: User) -> Chats:
    """A direct conversation per client with one message from its member and a read position."""
    out: Chats = {}
    for tenant in (tenant_a, tenant_b):
        conversation: UUID = await sql.fetchval(
            "insert into chat_conversations (client_id) values ($1) returning id", tenant.id
        )
        message: UUID = await sql.fetchval(
            "insert into chat_messages (conversation_id, author_id, body) values ($1, $2, 'hi') returning id",
            conversation,
            tenant.member.id,
        )
        await sql.execute(
            "insert into chat_reads (conversation_id, user_id, client_id, last_read_seq) values ($1, $2, $3, 1)",
            conversation,
            tenant.member.id,
            tenant.id,
        )
        out[tenant.id] = Chat(conversation, message)
    return out


@pytest.mark.isolates("chat_conversations", "chat_messages", "chat_reads")
@pytest.mark.parametrize("table", ["chat_conversations", "chat_messages", "chat_reads"])
async def test_member_sees_only_own_client_rows(
    chats: Chats, as_user: AsUser, operator: User, tenant_a: Tenant, table: str
) -> None:
    async with as_user(tenant_a.member) as conn:
        assert {r[0] for r in await conn.fetch(f"select client_id from public.{table}")} == {tenant_a.id}
    async with as_user(operator) as conn:
        assert await conn.fetchval(f"select count(*) from public.{table}") == 2


async def test_member_cannot_write_into_another_client(
    chats: Chats, as_user: AsUser, denied: Denied, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    conv_b, message_b = chats[tenant_b.id]
    async with as_user(tenant_a.member) as conn:
        assert await denied(conn, "insert into public.chat_conversations (client_id) values ($1)", tenant_b.id)
        assert await denied(
            conn,
            "insert into public.chat_messages (conversation_id, author_id, body) values ($1, $2, 'intrusion')",
            conv_b,
            tenant_a.member.id,
        )
        assert await denied(conn, "update public.chat_messages set body = 'x' where id = $1", message_b)
        assert await denied(
            conn,
            "insert into public.chat_reads (conversation_id, user_id, client_id) values ($1, $2, $3)",
            conv_b,
            tenant_a.member.id,
            tenant_b.id,
        )
        assert await denied(conn, "update public.chat_reads set last_read_seq = 0 where client_id = $1", tenant_b.id)
        assert await denied(conn, "update public.chat_conversations set title = 'x' where client_id = $1", tenant_b.id)


async def test_member_edits_only_own_messages_and_never_deletes_rows(
    chats: Chats, sql: asyncpg.Connection, as_user: AsUser, denied: Denied, operator: User, tenant_a: Tenant
) -> None:
    conversation, own = chats[tenant_a.id]
    from_operator = await sql.fetchval(
        "insert into chat_messages (conversation_id, author_id, body) values ($1, $2, 'from mikl') returning id",
        conversation,
        operator.id,
    )
    async with as_user(tenant_a.member) as conn:
        assert await denied(conn, "update public.chat_messages set body = 'x' where id = $1", from_operator)
        assert await denied(conn, "delete from public.chat_messages where id = $1", own)
        assert await denied(conn, "update public.chat_messages set seq = 99 where id = $1", own)
        assert await denied(conn, "update public.chat_messages set author_id = $2 where id = $1", own, operator.id)
        assert not await denied(conn, "update public.chat_messages set deleted_at = now() where id = $1", own)
        row = await conn.fetchrow("select body, deleted_at, version from public.chat_messages where id = $1", own)
        assert row["body"] is None and row["deleted_at"] and row["version"] == 2
        with pytest.raises(asyncpg.ObjectNotInPrerequisiteStateError):  # a tombstone is final
            async with conn.transaction():
                await conn.execute(
                    "update public.chat_messages set deleted_at = null, body = 'back' where id = $1", own
                )


async def test_inserted_messages_get_server_assigned_fields(
    chats: Chats, as_user: AsUser, denied: Denied, operator: User, tenant_a: Tenant
) -> None:
    conversation, _ = chats[tenant_a.id]
    async with as_user(tenant_a.member) as conn:
        assert await denied(
            conn,
            "insert into public.chat_messages (conversation_id, author_id, body) values ($1, $2, 'forged author')",
            conversation,
            operator.id,
        )
        assert await denied(
            conn,
            "insert into public.chat_messages (conversation_id, author_id, body, seq,"
            " client_id) values ($1, $2, 'x', 1, $3)",
            conversation,
            tenant_a.member.id,
            tenant_a.id,
        )
        row = await conn.fetchrow(
            "insert into public.chat_messages (conversation_id, author_id, body) values ($1, $2, e'a\\x01b')"
            " returning seq, client_id, author_role, body",
            conversation,
            tenant_a.member.id,
        )
        assert tuple(row) == (2, tenant_a.id, "member", "ab")


async def test_chat_tables_are_published_to_realtime(sql: asyncpg.Connection) -> None:
    published = {
        r[0] for r in await sql.fetch("select tablename from pg_publication_tables where pubname = 'supabase_realtime'")
    }
    assert {"chat_conversations", "chat_messages", "chat_reads", "notifications"} <= published


async def test_a_read_position_stays_on_a_conversation_of_its_own_client(
    chats: Chats, as_user: AsUser, denied: Denied, operator: User, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    """Tagging the row with one's own client_id must not let it point at another client's conversation."""
    conv_a, _ = chats[tenant_a.id]
    conv_b, _ = chats[tenant_b.id]
    async with as_user(tenant_a.member) as conn:
        assert await denied(
            conn,
            "insert into public.chat_reads (conversation_id, user_id, client_id, last_read_seq) values ($1, $2, $3, 1)",
            conv_b,
            tenant_a.member.id,
            tenant_a.id,
        )
    async with as_user(operator) as conn:  # even the operator keeps client_id and conversation consistent
        assert await denied(
            conn,
            "insert into public.chat_reads (conversation_id, user_id, client_id) values ($1, $2, $3)",
            conv_b,
            operator.id,
            tenant_a.id,
        )
        assert not await denied(
            conn,
            "insert into public.chat_reads (conversation_id, user_id, client_id) values ($1, $2, $3)",
            conv_a,
            operator.id,
            tenant_a.id,
        )
