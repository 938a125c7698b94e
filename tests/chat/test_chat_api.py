"""Chat through the API: one conversation per client, messages, edits, tombstones, read positions."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from tests.chat.conftest import OpenConversation, Send
from tests.conftest import Tenant, User, World


async def test_direct_conversation_is_created_once_and_seen_by_both_sides(
    client: httpx.AsyncClient,
    operator: User,
    tenant_a: Tenant,
    sql: asyncpg.Connection,
    open_conversation: OpenConversation,
) -> None:
    by_member = await open_conversation(tenant_a.member, tenant_a)
    by_operator = await open_conversation(operator, tenant_a)
    assert by_member["id"] == by_operator["id"]
    assert by_member["client_name"] == "Alpha Studio" and by_member["kind"] == "direct"
    assert by_member["last_message"] is None and by_member["unread_count"] == 0
    assert await sql.fetchval("select count(*) from chat_conversations") == 1
    assert await sql.fetchval("select count(*) from audit_log where action = 'chat.conversation_opened'") == 1


async def test_message_round_trip_with_unread_counts_and_read_position(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, open_conversation: OpenConversation, send: Send
) -> None:
    conversation = (await open_conversation(tenant_a.member, tenant_a))["id"]
    first = await send(tenant_a.member, conversation, "  Bonjour MiKL !\r\nÇa va ?  ")
    assert first["body"] == "Bonjour MiKL !\nÇa va ?"
    assert first["seq"] == 1 and first["author_role"] == "member"
    await send(tenant_a.member, conversation, "second")
    r = await client.get(f"/api/v1/chat/conversations/{conversation}", headers=operator.headers)
    assert r.json()["unread_count"] == 2 and r.json()["last_message"]["body"] == "second"
    mine = await client.get(f"/api/v1/chat/conversations/{conversation}", headers=tenant_a.member.headers)
    assert mine.json()["unread_count"] == 0  # one's own messages are never unread
    r = await client.post(f"/api/v1/chat/conversations/{conversation}/read", headers=operator.headers, json={"seq": 1})
    assert r.status_code == 200 and r.json() == {"conversation_id": conversation, "last_read_seq": 1, "unread_count": 1}
    r = await client.post(f"/api/v1/chat/conversations/{conversation}/read", headers=operator.headers)
    assert r.json()["last_read_seq"] == 2 and r.json()["unread_count"] == 0
    back = await client.post(
        f"/api/v1/chat/conversations/{conversation}/read", headers=operator.headers, json={"seq": 1}
    )
    assert back.json()["last_read_seq"] == 2  # never moves back
    past = await client.post(
        f"/api/v1/chat/conversations/{conversation}/read", headers=operator.headers, json={"seq": 9}
    )
    assert past.status_code == 422 and past.json()["field"] == "seq"


async def test_operator_inbox_lists_every_client_by_activity_with_unread(
    client: httpx.AsyncClient, operator: User, world: World, open_conversation: OpenConversation, send: Send
) -> None:
    tenants = [await world.tenant(f"Client {i}") for i in range(3)]
    conversations = [(await open_conversation(t.member, t))["id"] for t in tenants]
    await send(tenants[0].member, conversations[0], "old")
    await send(tenants[2].member, conversations[2], "newer")
    await send(tenants[1].member, conversations[1], "newest")
    await send(tenants[1].member, conversations[1], "newest again")
    r = await client.get("/api/v1/chat/conversations?limit=2", headers=operator.headers)
    page = r.json()
    assert [c["client_name"] for c in page["items"]] == ["Client 1", "Client 2"]
    assert [c["unread_count"] for c in page["items"]] == [2, 1]
    assert page["items"][0]["last_message"]["body"] == "newest again"
    rest = await client.get(
        f"/api/v1/chat/conversations?limit=2&cursor={page['next_cursor']}", headers=operator.headers
    )
    assert [c["client_name"] for c in rest.json()["items"]] == ["Client 0"]
    assert rest.json()["next_cursor"] is None
    member_view = await client.get("/api/v1/chat/conversations", headers=tenants[0].member.headers)
    assert [c["id"] for c in member_view.json()["items"]] == [conversations[0]]


async def test_pagination_is_newest_first_and_stable_while_messages_arrive(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, open_conversation: OpenConversation, send: Send
) -> None:
    conversation = (await open_conversation(operator, tenant_a))["id"]
    for i in range(5):
        await send(operator if i % 2 else tenant_a.member, conversation, f"m{i}")
    url = f"/api/v1/chat/conversations/{conversation}/messages"
    headers = tenant_a.member.headers
    first = (await client.get(f"{url}?limit=2", headers=headers)).json()
    assert [m["body"] for m in first["items"]] == ["m4", "m3"]
    await send(operator, conversation, "arrived meanwhile")
    second = (await client.get(f"{url}?limit=2&cursor={first['next_cursor']}", headers=headers)).json()
    assert [m["body"] for m in second["items"]] == ["m2", "m1"]
    third = (await client.get(f"{url}?limit=2&cursor={second['next_cursor']}", headers=headers)).json()
    assert [m["body"] for m in third["items"]] == ["m0"] and third["next_cursor"] is None
    newer = (await client.get(f"{url}?since_seq=5", headers=tenant_a.member.headers)).json()
    assert [m["body"] for m in newer["items"]] == ["arrived meanwhile"]
    bad = await client.get(f"{url}?cursor=nonsense", headers=tenant_a.member.headers)
    assert bad.status_code == 422


async def test_edit_and_delete_only_ones_own_message_audited_with_tombstone(
    client: httpx.AsyncClient,
    operator: User,
    tenant_a: Tenant,
    sql: asyncpg.Connection,
    open_conversation: OpenConversation,
    send: Send,
) -> None:
    conversation = (await open_conversation(tenant_a.member, tenant_a))["id"]
    message = await send(tenant_a.member, conversation, "typo")
    r = await client.patch(f"/api/v1/chat/messages/{message['id']}", headers=operator.headers, json={"body": "hijack"})
    assert r.status_code == 403 and r.json()["code"] == "not_your_message"
    r = await client.patch(
        f"/api/v1/chat/messages/{message['id']}", headers=tenant_a.member.headers, json={"body": "fixed"}
    )
    assert r.status_code == 200, r.text
    edited = r.json()
    assert edited["body"] == "fixed" and edited["edited_at"] and edited["version"] == 2
    r = await client.delete(f"/api/v1/chat/messages/{message['id']}", headers=operator.headers)
    assert r.status_code == 403
    r = await client.delete(f"/api/v1/chat/messages/{message['id']}", headers=tenant_a.member.headers)
    tombstone = r.json()
    assert r.status_code == 200 and tombstone["body"] is None and tombstone["deleted_at"]
    assert tombstone["version"] == 3
    again = await client.patch(
        f"/api/v1/chat/messages/{message['id']}", headers=tenant_a.member.headers, json={"body": "revive"}
    )
    assert again.status_code == 409 and again.json()["code"] == "message_deleted"
    listed = (await client.get(f"/api/v1/chat/conversations/{conversation}/messages", headers=operator.headers)).json()
    assert [(m["id"], m["body"]) for m in listed["items"]] == [(message["id"], None)]
    audit = await sql.fetch(
        "select action, before ->> 'body' as before, after ->> 'body' as after"
        " from audit_log where entity_type = 'chat_message' order by id"
    )
    assert [tuple(a) for a in audit] == [
        ("chat.message_sent", None, None),
        ("chat.message_edited", "typo", "fixed"),
        ("chat.message_deleted", "fixed", None),
    ]
    unread = (await client.get(f"/api/v1/chat/conversations/{conversation}", headers=operator.headers)).json()
    assert unread["unread_count"] == 0  # deleted messages are not unread


async def test_replies_must_stay_in_the_conversation(
    client: httpx.AsyncClient,
    operator: User,
    tenant_a: Tenant,
    tenant_b: Tenant,
    open_conversation: OpenConversation,
    send: Send,
) -> None:
    conv_a = (await open_conversation(operator, tenant_a))["id"]
    conv_b = (await open_conversation(operator, tenant_b))["id"]
    in_b = await send(operator, conv_b, "for B")
    r = await client.post(
        f"/api/v1/chat/conversations/{conv_a}/messages",
        headers=operator.headers,
        json={"body": "re", "reply_to_id": in_b["id"]},
    )
    assert r.status_code == 422 and r.json()["field"] == "reply_to_id"
    original = await send(tenant_a.member, conv_a, "question")
    reply = await send(operator, conv_a, "answer", reply_to_id=original["id"])
    assert reply["reply_to_id"] == original["id"]


async def test_bad_input_is_422_and_writes_nothing(
    client: httpx.AsyncClient, tenant_a: Tenant, sql: asyncpg.Connection, open_conversation: OpenConversation
) -> None:
    conversation = (await open_conversation(tenant_a.member, tenant_a))["id"]
    url = f"/api/v1/chat/conversations/{conversation}/messages"
    for payload, field in (
        ({"body": "   \x01 "}, "body"),
        ({"body": "x" * 4001}, "body"),
        ({"body": "x", "attachment_ids": ["nope"]}, "attachment_ids.0"),
        ({"body": "x", "attachment_ids": [str(uuid.uuid4()) for _ in range(11)]}, "attachment_ids"),
        ({"body": "x", "author_id": str(uuid.uuid4())}, "author_id"),
    ):
        r = await client.post(url, headers=tenant_a.member.headers, json=payload)
        assert r.status_code == 422, (payload, r.text)
        assert r.json()["errors"][0]["field"] == field
    assert await sql.fetchval("select count(*) from chat_messages") == 0


async def test_attachments_are_shared_documents_of_the_same_client(
    client: httpx.AsyncClient,
    operator: User,
    tenant_a: Tenant,
    tenant_b: Tenant,
    sql: asyncpg.Connection,
    open_conversation: OpenConversation,
    send: Send,
) -> None:
    conversation = (await open_conversation(tenant_a.member, tenant_a))["id"]

    async def document(tenant: Tenant, visibility: str = "shared") -> str:
        return str(
            await sql.fetchval(
                "insert into documents (client_id, title, phase, visibility)"
                " values ($1, 'Devis', 'lab', $2) returning id",
                tenant.id,
                visibility,
            )
        )

    mine, theirs = await document(tenant_a), await document(tenant_b)
    internal = await document(tenant_a, "internal")
    message = await send(tenant_a.member, conversation, "", attachment_ids=[mine, mine])
    assert message["attachment_ids"] == [mine] and message["body"] is None
    url = f"/api/v1/chat/conversations/{conversation}/messages"
    for user, attachment in (
        (tenant_a.member, theirs),
        (operator, theirs),
        (tenant_a.member, internal),
        (operator, internal),
        (operator, str(uuid.uuid4())),
    ):
        r = await client.post(url, headers=user.headers, json={"body": "x", "attachment_ids": [attachment]})
        assert r.status_code == 422 and r.json()["field"] == "attachment_ids", r.text
    # The database floor, for writers other than the API (supabase-js): same client only.
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await sql.execute(
            "insert into chat_messages (conversation_id, author_id, attachment_ids) values ($1, $2, $3)",
            uuid.UUID(conversation),
            operator.id,
            [uuid.UUID(theirs)],
        )


async def test_archived_client_is_read_only_and_disabled_chat_is_403(
    client: httpx.AsyncClient,
    operator: User,
    tenant_a: Tenant,
    sql: asyncpg.Connection,
    open_conversation: OpenConversation,
    send: Send,
) -> None:
    conversation = (await open_conversation(tenant_a.member, tenant_a))["id"]
    message = await send(tenant_a.member, conversation, "before archive")
    await sql.execute("update clients set status = 'archived' where id = $1", tenant_a.id)
    r = await client.post(
        f"/api/v1/chat/conversations/{conversation}/messages", headers=operator.headers, json={"body": "x"}
    )
    assert r.status_code == 409 and r.json()["code"] == "client_archived"
    r = await client.delete(f"/api/v1/chat/messages/{message['id']}", headers=tenant_a.member.headers)
    assert r.status_code == 409 and r.json()["code"] == "client_archived"
    await sql.execute("update clients set status = 'lab' where id = $1", tenant_a.id)
    await sql.execute("update client_configs set active_modules = '{documents}' where client_id = $1", tenant_a.id)
    r = await client.get(f"/api/v1/chat/conversations/{conversation}/messages", headers=tenant_a.member.headers)
    assert r.status_code == 403 and r.json()["code"] == "chat_disabled"
    assert (
        await client.get(f"/api/v1/chat/conversations/{conversation}/messages", headers=operator.headers)
    ).status_code == 200


async def test_a_message_notifies_the_other_side_only(
    client: httpx.AsyncClient,
    operator: User,
    tenant_a: Tenant,
    sql: asyncpg.Connection,
    open_conversation: OpenConversation,
    send: Send,
) -> None:
    conversation = (await open_conversation(tenant_a.member, tenant_a))["id"]
    await send(tenant_a.member, conversation, "Une question sur le devis")
    rows = await sql.fetch("select user_id, source, title, body, link from notifications")
    assert [(r["user_id"], r["source"]) for r in rows] == [(operator.id, "chat")]
    assert rows[0]["title"] == "Nouveau message — Alpha Studio" and rows[0]["link"] == f"/chat/{conversation}"
    await send(operator, conversation, "Voici la réponse")
    assert await sql.fetchval("select count(*) from notifications where user_id = $1", tenant_a.member.id) == 1


async def test_anonymous_401_and_other_tenant_404(
    client: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, open_conversation: OpenConversation, send: Send
) -> None:
    conversation = (await open_conversation(tenant_a.member, tenant_a))["id"]
    message = await send(tenant_a.member, conversation, "secret")
    outsider = tenant_b.member.headers
    assert (await client.get("/api/v1/chat/conversations")).status_code == 401
    for method, url, body in (
        ("PUT", f"/api/v1/chat/clients/{tenant_a.id}/conversation", None),
        ("GET", f"/api/v1/chat/conversations/{conversation}", None),
        ("GET", f"/api/v1/chat/conversations/{conversation}/messages", None),
        ("POST", f"/api/v1/chat/conversations/{conversation}/messages", {"body": "intrusion"}),
        ("POST", f"/api/v1/chat/conversations/{conversation}/read", None),
        ("PATCH", f"/api/v1/chat/messages/{message['id']}", {"body": "x"}),
        ("DELETE", f"/api/v1/chat/messages/{message['id']}", None),
    ):
        r = await client.request(method, url, headers=outsider, json=body)
        assert r.status_code == 404, (method, url, r.status_code)
    listed = await client.get(f"/api/v1/chat/conversations?client_id={tenant_a.id}", headers=outsider)
    assert listed.status_code == 404
    assert (await client.get("/api/v1/chat/conversations", headers=outsider)).json()["items"] == []


async def test_malformed_or_out_of_range_cursors_are_422_not_500(
    client: httpx.AsyncClient, tenant_a: Tenant, open_conversation: OpenConversation, send: Send
) -> None:
    from services.core.pagination import encode_cursor

    conversation = (await open_conversation(tenant_a.member, tenant_a))["id"]
    await send(tenant_a.member, conversation, "x")
    headers = tenant_a.member.headers
    messages = f"/api/v1/chat/conversations/{conversation}/messages"
    a_uuid = str(uuid.uuid4())
    for url, field in (
        (f"{messages}?since_seq={2**63}", "since_seq"),
        (f"{messages}?cursor={encode_cursor(2**63)}", "cursor"),
        (f"{messages}?cursor={encode_cursor(True)}", "cursor"),
        (f"{messages}?cursor={encode_cursor(-1)}", "cursor"),
        (f"/api/v1/chat/conversations?cursor={encode_cursor('0001-01-01T00:00:00+14:00', a_uuid)}", "cursor"),
        (f"/api/v1/chat/conversations?cursor={encode_cursor('2025-01-01T00:00:00', a_uuid)}", "cursor"),
        (f"/api/v1/chat/conversations?cursor={encode_cursor('2025-01-01T00:00:00+00:00', 5)}", "cursor"),
    ):
        r = await client.get(url, headers=headers)
        assert r.status_code == 422 and r.json()["field"] == field, (url, r.status_code, r.text)
    assert (await client.get(f"{messages}?since_seq={2**63 - 1}", headers=headers)).json()["items"] == []


async def test_members_inbox_hides_clients_whose_chat_is_off(
    client: httpx.AsyncClient,
    operator: User,
    world: World,
    sql: asyncpg.Connection,
    open_conversation: OpenConversation,
    send: Send,
) -> None:
    """Listing without a client filter must apply the same rule as every other chat route."""
    member = await world.user()
    tenants = [await world.tenant(name) for name in ("Chat on", "Chat off")]
    for tenant in tenants:
        await sql.execute(
            "insert into client_members (client_id, user_id, email) values ($1, $2, $3)",
            tenant.id,
            member.id,
            member.email,
        )
        await send(operator, (await open_conversation(operator, tenant))["id"], f"to {tenant.id}")
    await sql.execute("update client_configs set active_modules = '{documents}' where client_id = $1", tenants[1].id)
    listed = (await client.get("/api/v1/chat/conversations", headers=member.headers)).json()["items"]
    assert [c["client_id"] for c in listed] == [str(tenants[0].id)]
    everything = (await client.get("/api/v1/chat/conversations", headers=operator.headers)).json()["items"]
    assert len(everything) == 2


async def test_every_chat_route_refuses_anonymous(
    client: httpx.AsyncClient, tenant_a: Tenant, open_conversation: OpenConversation, send: Send
) -> None:
    conversation = (await open_conversation(tenant_a.member, tenant_a))["id"]
    message = (await send(tenant_a.member, conversation, "x"))["id"]
    for method, url in (
        ("GET", "/api/v1/chat/conversations"),
        ("PUT", f"/api/v1/chat/clients/{tenant_a.id}/conversation"),
        ("GET", f"/api/v1/chat/conversations/{conversation}"),
        ("GET", f"/api/v1/chat/conversations/{conversation}/messages"),
        ("POST", f"/api/v1/chat/conversations/{conversation}/messages"),
        ("POST", f"/api/v1/chat/conversations/{conversation}/read"),
        ("PATCH", f"/api/v1/chat/messages/{message}"),
        ("DELETE", f"/api/v1/chat/messages/{message}"),
    ):
        r = await client.request(method, url, json={"body": "x"} if method in ("POST", "PATCH") else None)
        assert r.status_code == 401, (method, url, r.status_code)


@pytest.mark.parametrize("body", ["Bonjour\x00 MiKL", "bell\x07", "c1\x85"])
async def test_control_characters_in_a_message_are_refused_not_stripped(
    client: httpx.AsyncClient, tenant_a: Tenant, sql: asyncpg.Connection, open_conversation: OpenConversation, body: str
) -> None:
    conversation = (await open_conversation(tenant_a.member, tenant_a))["id"]
    url = f"/api/v1/chat/conversations/{conversation}/messages"
    r = await client.post(url, headers=tenant_a.member.headers, json={"body": body})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body", r.text
    assert await sql.fetchval("select count(*) from chat_messages") == 0


async def test_the_declared_body_limit_is_the_enforced_one(
    app: FastAPI, client: httpx.AsyncClient, tenant_a: Tenant, open_conversation: OpenConversation
) -> None:
    declared = app.openapi()["components"]["schemas"]["MessageCreate"]["properties"]["body"]["maxLength"]
    conversation = (await open_conversation(tenant_a.member, tenant_a))["id"]
    url = f"/api/v1/chat/conversations/{conversation}/messages"
    r = await client.post(url, headers=tenant_a.member.headers, json={"body": "x" * declared})
    assert r.status_code == 201, r.text
    r = await client.post(url, headers=tenant_a.member.headers, json={"body": "x" * (declared + 1)})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
