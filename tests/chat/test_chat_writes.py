"""The chat writes under concurrency, and the notification fan-out they do in the same call."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import httpx

from tests.chat.conftest import OpenConversation, Send
from tests.conftest import Tenant, User


async def test_concurrent_senders_get_gapless_seqs_each_audited_and_notified(
    client: httpx.AsyncClient,
    operator: User,
    tenant_a: Tenant,
    sql: asyncpg.Connection,
    open_conversation: OpenConversation,
) -> None:
    conversation = (await open_conversation(tenant_a.member, tenant_a))["id"]
    url = f"/api/v1/chat/conversations/{conversation}/messages"
    responses = await asyncio.gather(
        *(
            client.post(url, headers=(operator if i % 2 else tenant_a.member).headers, json={"body": f"m{i}"})
            for i in range(12)
        )
    )
    assert [r.status_code for r in responses] == [201] * 12
    assert sorted(r.json()["seq"] for r in responses) == list(range(1, 13))
    assert await sql.fetchval("select last_seq from chat_conversations where id = $1", conversation) == 12
    sent = await sql.fetchval("select count(*) from audit_log where action = 'chat.message_sent'")
    notified = await sql.fetch("select user_id, count(*) as n from notifications group by user_id order by n")
    assert sent == 12
    assert {(r["user_id"], r["n"]) for r in notified} == {(operator.id, 6), (tenant_a.member.id, 6)}


async def test_the_fan_out_honours_the_recipients_preferences(
    client: httpx.AsyncClient,
    operator: User,
    tenant_a: Tenant,
    sql: asyncpg.Connection,
    open_conversation: OpenConversation,
    send: Send,
) -> None:
    conversation = (await open_conversation(operator, tenant_a))["id"]
    await sql.execute(
        "insert into profiles (user_id, notification_prefs, quiet_hours) values ($1, $2::jsonb, $3::jsonb)"
        " on conflict (user_id) do update set notification_prefs = excluded.notification_prefs,"
        " quiet_hours = excluded.quiet_hours",
        tenant_a.member.id,
        json.dumps({"chat": {"enabled": False}}),
        "{}",
    )
    await send(operator, conversation, "personne ne sera notifié")
    assert await sql.fetchval("select count(*) from notifications") == 0
    # Quiet hours all day (00:00 to 23:59 UTC, the minute before midnight aside): no sound, still a badge.
    await sql.execute(
        "update profiles set notification_prefs = '{}', quiet_hours = $2::jsonb where user_id = $1",
        tenant_a.member.id,
        json.dumps({"enabled": True, "start": "00:00", "end": "23:59", "time_zone": "UTC"}),
    )
    message = await send(operator, conversation, "x" * 200)
    row = await sql.fetchrow("select user_id, title, body, sound, badge, entity_id from notifications")
    assert (row["user_id"], row["title"], row["entity_id"]) == (tenant_a.member.id, "Nouveau message", message["id"])
    assert len(row["body"]) == 140 and row["body"].endswith("…") and row["badge"] is True
    assert row["sound"] is (await sql.fetchval("select to_char(now() at time zone 'UTC', 'HH24:MI')") == "23:59")


async def test_marking_read_at_once_moves_the_position_once(
    client: httpx.AsyncClient,
    operator: User,
    tenant_a: Tenant,
    sql: asyncpg.Connection,
    open_conversation: OpenConversation,
    send: Send,
) -> None:
    conversation = (await open_conversation(tenant_a.member, tenant_a))["id"]
    for body in ("a", "b", "c"):
        await send(tenant_a.member, conversation, body)
    url = f"/api/v1/chat/conversations/{conversation}/read"
    results = await asyncio.gather(*(client.post(url, headers=operator.headers) for _ in range(4)))
    assert {(r.status_code, r.json()["last_read_seq"], r.json()["unread_count"]) for r in results} == {(200, 3, 0)}
    audited = await sql.fetch("select before, after from audit_log where action = 'chat.read'")
    assert [(json.loads(a["before"]), json.loads(a["after"])) for a in audited] == [
        ({"last_read_seq": 0}, {"last_read_seq": 3})
    ]
