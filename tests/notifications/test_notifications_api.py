"""My notifications through the API: list with filters, badge summary, mark as read."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from services.notifications import service
from services.notifications.errors import NotificationNotFound
from tests.conftest import Tenant, User
from tests.notifications.conftest import OpenSession


@pytest.fixture
async def inbox(app: FastAPI, tenant_a: Tenant, tenant_b: Tenant) -> User:
    """Five notifications for tenant A's member (3 chat, 1 validation, 1 system), one for B's."""
    async with app.state.db.service_session() as session:
        for i in range(3):
            await service.notify(
                session, user_ids=[tenant_a.member.id], source="chat", title=f"chat {i}", client_id=tenant_a.id
            )
        await service.notify(session, user_ids=[tenant_a.member.id], source="validation_hub", title="validée")
        await service.notify(session, user_ids=[tenant_a.member.id], source="system", title="info")
        await service.notify(session, user_ids=[tenant_b.member.id], source="chat", title="for B")
    return tenant_a.member


async def test_list_filters_and_keyset(client: httpx.AsyncClient, inbox: User, sql: asyncpg.Connection) -> None:
    await sql.execute("update notifications set badge = false where source = 'system'")
    r = await client.get("/api/v1/notifications?limit=2", headers=inbox.headers)
    page = r.json()
    assert r.status_code == 200 and [n["title"] for n in page["items"]] == ["info", "validée"]
    rest = (
        await client.get(f"/api/v1/notifications?limit=10&cursor={page['next_cursor']}", headers=inbox.headers)
    ).json()
    assert [n["title"] for n in rest["items"]] == ["chat 2", "chat 1", "chat 0"]
    assert rest["next_cursor"] is None
    chat = (await client.get("/api/v1/notifications?source=chat", headers=inbox.headers)).json()
    assert len(chat["items"]) == 3
    r = await client.get("/api/v1/notifications?source=billing", headers=inbox.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "source"
    assert (await client.get("/api/v1/notifications?cursor=xx", headers=inbox.headers)).status_code == 422


async def test_summary_and_mark_read(client: httpx.AsyncClient, inbox: User, sql: asyncpg.Connection) -> None:
    await sql.execute("update notifications set badge = false where source = 'system'")
    summary = (await client.get("/api/v1/notifications/summary", headers=inbox.headers)).json()
    assert summary == {"chat": 3, "validation_hub": 1, "system": 0, "total": 4}
    chat = (await client.get("/api/v1/notifications?source=chat&limit=1", headers=inbox.headers)).json()
    first = chat["items"][0]
    r = await client.post(f"/api/v1/notifications/{first['id']}/read", headers=inbox.headers)
    assert r.status_code == 200 and r.json()["read_at"]
    r = await client.post("/api/v1/notifications/read?source=chat", headers=inbox.headers)
    assert r.json() == {"updated": 2}
    unread = (await client.get("/api/v1/notifications?unread=true", headers=inbox.headers)).json()["items"]
    assert sorted(n["source"] for n in unread) == ["system", "validation_hub"]
    assert (await client.post("/api/v1/notifications/read", headers=inbox.headers)).json() == {"updated": 2}
    assert (await client.get("/api/v1/notifications/summary", headers=inbox.headers)).json()["total"] == 0
    assert await sql.fetchval("select count(*) from audit_log where action like 'notification%read%'") == 3


async def test_anonymous_401_and_someone_elses_notification_404(
    client: httpx.AsyncClient, inbox: User, tenant_b: Tenant, sql: asyncpg.Connection
) -> None:
    theirs = await sql.fetchval("select id from notifications where user_id = $1", tenant_b.member.id)
    assert (await client.get("/api/v1/notifications")).status_code == 401
    assert (await client.get("/api/v1/notifications/summary")).status_code == 401
    r = await client.post(f"/api/v1/notifications/{theirs}/read", headers=inbox.headers)
    assert r.status_code == 404 and r.json()["code"] == "notification_not_found"
    r = await client.post(f"/api/v1/notifications/{uuid.uuid4()}/read", headers=inbox.headers)
    assert r.status_code == 404
    mine = (await client.get("/api/v1/notifications", headers=inbox.headers)).json()["items"]
    assert str(theirs) not in {n["id"] for n in mine}
    assert (await client.post("/api/v1/notifications/read", headers=inbox.headers)).status_code == 200
    assert await sql.fetchval("select read_at from notifications where id = $1", theirs) is None


async def test_malformed_or_out_of_range_cursors_are_422_not_500(client: httpx.AsyncClient, inbox: User) -> None:
    from services.core.pagination import encode_cursor

    a_uuid = str(uuid.uuid4())
    for values in (
        ("0001-01-01T00:00:00+14:00", a_uuid),
        ("9999-12-31T23:59:59-14:00", a_uuid),
        ("2025-01-01T00:00:00", a_uuid),
        ("2025-01-01T00:00:00+00:00", 5),
        (5, a_uuid),
    ):
        r = await client.get(f"/api/v1/notifications?cursor={encode_cursor(*values)}", headers=inbox.headers)
        assert r.status_code == 422 and r.json()["field"] == "cursor", (values, r.text)


async def test_marking_read_twice_at_once_audits_once(
    app: FastAPI, user_session: OpenSession, inbox: User, sql: asyncpg.Connection
) -> None:
    """The second call waits for the first's row lock, then finds the notification already read."""
    note = await sql.fetchval("select id from notifications where user_id = $1 limit 1", inbox.id)
    async with user_session(inbox) as first:
        await service.mark_read(first, note)
        async with user_session(inbox) as second:
            racing = asyncio.create_task(service.mark_read(second, note))
            await asyncio.sleep(0.2)
            assert not racing.done()  # blocked on the row until `first` commits
            await first.conn.execute("commit; begin")  # commit `first`, keep its context manager happy
            again = await racing
    assert again.read_at is not None
    assert await sql.fetchval("select count(*) from audit_log where action = 'notification.read'") == 1


async def test_marking_read_a_notification_purged_meanwhile_is_404(
    app: FastAPI, user_session: OpenSession, inbox: User, sql: asyncpg.Connection
) -> None:
    note = await sql.fetchval("select id from notifications where user_id = $1 limit 1", inbox.id)
    async with app.state.db.service_session() as purge:
        await purge.execute("delete from notifications where id = $1", note)  # the retention job, uncommitted
        async with user_session(inbox) as session:
            racing = asyncio.create_task(service.mark_read(session, note))
            await asyncio.sleep(0.2)
            await purge.conn.execute("commit; begin")
            with pytest.raises(NotificationNotFound):
                await racing


async def test_post_routes_refuse_anonymous(client: httpx.AsyncClient, inbox: User, sql: asyncpg.Connection) -> None:
    note = await sql.fetchval("select id from notifications where user_id = $1 limit 1", inbox.id)
    assert (await client.post("/api/v1/notifications/read")).status_code == 401
    assert (await client.post(f"/api/v1/notifications/{note}/read")).status_code == 401
    assert await sql.fetchval("select count(*) from notifications where read_at is not null") == 0
