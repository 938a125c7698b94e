"""My notifications through the API: list with filters, badge summary, mark as read."""

from __future__ import annotations

import uuid

import pytest

from services.notifications import service


@pytest.fixture
async def inbox(app, tenant_a, tenant_b):
    """Five notifications for tenant A's member (3 chat, 1 validation, 1 system), one for B's."""
    async with app.state.db.service_session() as session:
        for i in range(3):
            await service.notify(session, user_ids=[tenant_a.member.id], source="chat", title=f"chat {i}",
                                 client_id=tenant_a.id)
        await service.notify(session, user_ids=[tenant_a.member.id], source="validation_hub", title="validée")
        await service.notify(session, user_ids=[tenant_a.member.id], source="system", title="info")
        await service.notify(session, user_ids=[tenant_b.member.id], source="chat", title="for B")
    return tenant_a.member


async def test_list_filters_and_keyset(client, inbox, sql):
    await sql.execute("update notifications set badge = false where source = 'system'")
    r = await client.get("/api/v1/notifications?limit=2", headers=inbox.headers)
    page = r.json()
    assert r.status_code == 200 and [n["title"] for n in page["items"]] == ["info", "validée"]
    rest = (await client.get(f"/api/v1/notifications?limit=10&cursor={page['next_cursor']}",
                             headers=inbox.headers)).json()
    assert [n["title"] for n in rest["items"]] == ["chat 2", "chat 1", "chat 0"]
    assert rest["next_cursor"] is None
    chat = (await client.get("/api/v1/notifications?source=chat", headers=inbox.headers)).json()
    assert len(chat["items"]) == 3
    r = await client.get("/api/v1/notifications?source=billing", headers=inbox.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "source"
    assert (await client.get("/api/v1/notifications?cursor=xx", headers=inbox.headers)).status_code == 422


async def test_summary_and_mark_read(client, inbox, sql):
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


async def test_anonymous_401_and_someone_elses_notification_404(client, inbox, tenant_b, sql):
    theirs = await sql.fetchval("select id from notifications where user_id = $1", tenant_b.member.id)
    assert (await client.get("/api/v1/notifications")).status_code == 401
    assert (await client.get("/api/v1/notifications/summary")).status_code == 401
    r = await client.post(f"/api/v1/notifications/{theirs}/read", headers=inbox.headers)
    assert r.status_code == 404 and r.json()["code"] == "notification_not_found"
    r = await client.post(f"/api/v1/notifications/{uuid.uuid4()}/read", headers=inbox.headers)
    assert r.status_code == 404
    mine = (await client.get("/api/v1/notifications", headers=inbox.headers)).json()["items"]
    assert str(theirs) not in {n["id"] for n in mine}
    await client.post("/api/v1/notifications/read", headers=inbox.headers)
    assert await sql.fetchval("select read_at from notifications where id = $1", theirs) is None
