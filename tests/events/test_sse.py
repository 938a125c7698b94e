"""The SSE endpoint through a real server: committed messages reach entitled streams only, resume
with Last-Event-ID replays from the database, and one LISTEN connection serves every stream."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from tests.conftest import Tenant, User
from tests.events.conftest import OpenStream


async def _conversation(client: httpx.AsyncClient, user: User, tenant: Tenant) -> str:
    r = await client.put(f"/api/v1/chat/clients/{tenant.id}/conversation", headers=user.headers)
    conversation_id: str = r.json()["id"]
    return conversation_id


async def _send(client: httpx.AsyncClient, user: User, conversation: str, body: str) -> dict[str, Any]:
    r = await client.post(
        f"/api/v1/chat/conversations/{conversation}/messages", headers=user.headers, json={"body": body}
    )
    assert r.status_code == 201, r.text
    message: dict[str, Any] = r.json()
    return message


async def test_a_committed_message_reaches_the_other_side_and_never_another_client(
    client: httpx.AsyncClient,
    open_stream: OpenStream,
    operator: User,
    tenant_a: Tenant,
    tenant_b: Tenant,
    sql: asyncpg.Connection,
) -> None:
    conv_a = await _conversation(client, operator, tenant_a)
    conv_b = await _conversation(client, operator, tenant_b)
    mikl, alice, bob = (
        await open_stream(operator),
        await open_stream(tenant_a.member),
        await open_stream(tenant_b.member),
    )
    for stream in (mikl, alice, bob):
        ready = await stream.until("ready")
        assert ready.data == {"resumed": False, "replayed": 0, "reset": False} and ready.id

    sent = await _send(client, tenant_a.member, conv_a, "Bonjour MiKL")
    event = await mikl.until("message.created")
    assert event.data["id"] == sent["id"] and event.data["body"] == "Bonjour MiKL" and event.id
    note = await mikl.until("notification.created")
    assert note.data["source"] == "chat" and note.data["entity_id"] == sent["id"]
    assert (await alice.until("message.created")).data["id"] == sent["id"]  # the author's other tabs

    # Events are delivered in commit order: if A's message could reach Bob, it would come before this.
    for_bob = await _send(client, operator, conv_b, "Pour Bob")
    first_for_bob = await bob.next()
    assert (first_for_bob.event, first_for_bob.data["id"]) == ("message.created", for_bob["id"])
    assert (await bob.until("notification.created")).data["entity_id"] == for_bob["id"]
    assert all(
        e.data is None or e.data.get("client_id") in (None, str(tenant_b.id))
        for e in bob.received
        if e.event.startswith("message")
    )

    edited = await client.patch(
        f"/api/v1/chat/messages/{sent['id']}", headers=tenant_a.member.headers, json={"body": "Bonjour MiKL !"}
    )
    assert edited.status_code == 200
    update = await mikl.until("message.updated")
    assert update.data["body"] == "Bonjour MiKL !" and update.data["version"] == 2
    assert (
        await client.delete(f"/api/v1/chat/messages/{sent['id']}", headers=tenant_a.member.headers)
    ).status_code == 200
    assert (await alice.until("message.deleted")).data["body"] is None
    # Not one connection per stream: the pool plus the broker's single LISTEN connection.
    listeners = await sql.fetchval("select count(*) from pg_stat_activity where query ilike 'listen%'")
    assert listeners == 1


async def test_last_event_id_resumes_what_was_committed_while_away(
    client: httpx.AsyncClient, open_stream: OpenStream, operator: User, tenant_a: Tenant
) -> None:
    conversation = await _conversation(client, operator, tenant_a)
    alice = await open_stream(tenant_a.member)
    await alice.until("ready")
    first = await _send(client, operator, conversation, "one")
    assert (await alice.until("message.created")).data["id"] == first["id"]
    cursor = alice.last_id
    await alice.response.aclose()

    missed = [await _send(client, operator, conversation, f"while away {i}") for i in range(3)]
    assert (
        await client.patch(f"/api/v1/chat/messages/{first['id']}", headers=operator.headers, json={"body": "uno"})
    ).status_code == 200
    back = await open_stream(tenant_a.member, last_event_id=cursor)
    events = []
    while (event := await back.next()).event != "ready":
        events.append(event)
    assert event.data["resumed"] is True and event.id
    replayed_ids = {e.data["id"] for e in events if e.event.startswith("message")}
    assert {m["id"] for m in missed} <= replayed_ids and first["id"] in replayed_ids
    assert sum(e.event == "notification.created" for e in events) >= 3
    assert all(e.data.get("client_id") == str(tenant_a.id) for e in events if e.event.startswith("message"))
    live = await _send(client, operator, conversation, "live again")
    assert (await back.until("message.created")).data["id"] == live["id"]


async def test_resume_never_replays_another_clients_rows(
    client: httpx.AsyncClient, open_stream: OpenStream, operator: User, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    conv_b = await _conversation(client, operator, tenant_b)
    alice = await open_stream(tenant_a.member)
    ready = await alice.until("ready")
    await alice.response.aclose()
    await _send(client, operator, conv_b, "B only")
    back = await open_stream(tenant_a.member, last_event_id=ready.id)
    event = await back.next()
    assert event.event == "ready" and event.data["replayed"] == 0


async def test_anonymous_is_401_and_a_garbage_last_event_id_is_ignored(
    live_url: str, open_stream: OpenStream, tenant_a: Tenant
) -> None:
    async with httpx.AsyncClient(base_url=live_url) as http:
        r = await http.get("/api/v1/events")
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    stream = await open_stream(tenant_a.member, last_event_id="'; drop table x; --")
    assert (await stream.until("ready")).data["resumed"] is False


async def test_shutdown_closes_open_streams(app: FastAPI, open_stream: OpenStream, tenant_a: Tenant) -> None:
    stream = await open_stream(tenant_a.member)
    await stream.until("ready")
    assert app.state.events.subscriber_count == 1
    app.state.events.close_streams("shutdown")
    assert (await stream.until("close")).data == {"reason": "shutdown"}
    for _ in range(50):
        if app.state.events.subscriber_count == 0:
            break
        await asyncio.sleep(0.02)
    assert app.state.events.subscriber_count == 0


async def test_no_new_stream_once_shutting_down_and_cursor_parsing(
    app: FastAPI, live_url: str, tenant_a: Tenant
) -> None:
    from services.events.stream import parse_cursor

    assert parse_cursor(" 12345 ") == 12345
    assert parse_cursor("abc") is None and parse_cursor(None) is None and parse_cursor("9" * 25) is None
    app.state.events.close_streams("shutdown")
    async with httpx.AsyncClient(base_url=live_url) as http:
        r = await http.get("/api/v1/events", headers=tenant_a.member.headers)
        assert r.status_code == 503 and r.json()["code"] == "service_unavailable"


async def test_a_lost_listener_closes_streams_for_resume_and_reconnects(
    client: httpx.AsyncClient, open_stream: OpenStream, operator: User, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    conversation = await _conversation(client, operator, tenant_a)
    alice = await open_stream(tenant_a.member)
    ready = await alice.until("ready")
    await sql.execute("select pg_terminate_backend(pid) from pg_stat_activity where query ilike 'listen%'")
    assert (await alice.until("close")).data == {"reason": "reconnect"}
    missed = await _send(client, operator, conversation, "while the listener was down")
    for _ in range(100):  # the broker reconnects by itself
        if await sql.fetchval("select count(*) from pg_stat_activity where query ilike 'listen%'"):
            break
        await asyncio.sleep(0.05)
    back = await open_stream(tenant_a.member, last_event_id=ready.id)
    replayed = await back.until("message.created")
    assert replayed.data["id"] == missed["id"]
    live = await _send(client, operator, conversation, "live")
    assert (await back.until("message.created")).data["id"] == live["id"]


async def test_open_streams_hold_no_request_transaction_nor_pooled_connection(
    app: FastAPI,
    client: httpx.AsyncClient,
    open_stream: OpenStream,
    operator: User,
    tenant_a: Tenant,
    sql: asyncpg.Connection,
) -> None:
    """The stream never opens the request's transaction (RequestContext would only end it when the
    response ends, i.e. never): more open streams than pooled connections, and requests still run."""
    from api.deps import get_session
    from api.routers.events import router

    def calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
        for dependency in dependant.dependencies:
            yield dependency.call
            yield from calls(dependency)

    (route,) = router.routes
    assert isinstance(route, APIRoute)
    assert get_session not in set(calls(route.dependant))
    streams = [await open_stream(tenant_a.member) for _ in range(app.state.db.pool_size + 2)]
    for stream in streams:
        await stream.until("ready")
    assert (
        await sql.fetchval(
            "select count(*) from pg_stat_activity where application_name = 'foxeo'"
            " and state like 'idle in transaction%'"
        )
        == 0
    )
    conversation = await _conversation(client, operator, tenant_a)
    sent = await asyncio.wait_for(_send(client, operator, conversation, "still served"), 5)
    for stream in streams:
        assert (await stream.until("message.created")).data["id"] == sent["id"]


async def test_a_member_removed_from_a_client_has_their_streams_closed(
    client: httpx.AsyncClient,
    open_stream: OpenStream,
    operator: User,
    tenant_a: Tenant,
    tenant_b: Tenant,
    sql: asyncpg.Connection,
) -> None:
    alice, bob = await open_stream(tenant_a.member), await open_stream(tenant_b.member)
    await alice.until("ready")
    await bob.until("ready")
    await sql.execute("delete from client_members where user_id = $1", tenant_a.member.id)
    assert (await alice.until("close")).data == {"reason": "membership_revoked"}
    with pytest.raises(EOFError):
        await alice.next()
    # Only that user's streams end.
    sent = await _send(client, operator, await _conversation(client, operator, tenant_b), "Toujours là")
    assert (await bob.until("message.created")).data["id"] == sent["id"]


async def test_a_deleted_users_stream_asks_to_reauthenticate(
    open_stream: OpenStream, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    await sql.execute("update auth.users set deleted_at = now() where id = $1", tenant_a.member.id)
    stream = await open_stream(tenant_a.member)
    assert (await stream.until("reauthenticate")).data == {"reason": "user_not_found"}
    with pytest.raises(EOFError):
        await stream.next()
