"""The reminders and outbox routes: the operator lists (filters, keyset pages), cancels and reads the
outbox; a member lists only the reminders addressed to their client's members; anonymous gets 401."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.core.db import Database
from services.reminders import service
from services.reminders.schemas import Audience, ReminderRead
from tests.conftest import Tenant, User

BASE = datetime(2031, 3, 2, 9, 0, tzinfo=UTC)


async def _schedule(
    db: Database,
    tenant: Tenant | None,
    hours: int,
    *,
    kind: str = "agenda.session_tomorrow",
    audience: Audience = "all",
) -> ReminderRead:
    async with db.service_session() as session:
        return await service.schedule(
            session, kind=kind, subject_type="appointment", subject_id=f"{kind}-{hours}",
            due_at=BASE + timedelta(hours=hours),
            title=f"Rappel {hours}", client_id=None if tenant is None else tenant.id, audience=audience,
            suggested_message="Bonjour, on se voit demain ?",
        )  # fmt: skip


@pytest.fixture
async def reminders(db: Database, tenant_a: Tenant, tenant_b: Tenant) -> list[ReminderRead]:
    return [
        await _schedule(db, tenant_a, 1),
        await _schedule(db, tenant_a, 2, kind="prospects.follow_up", audience="operator"),
        await _schedule(db, tenant_b, 3),
        await _schedule(db, None, 4, kind="prospects.follow_up", audience="operator"),
        await _schedule(db, tenant_a, 5, audience="members"),
    ]


async def _ids(http: httpx.AsyncClient, user: User, **params: Any) -> list[uuid.UUID]:
    r = await http.get("/api/v1/reminders", headers=user.headers, params=params)
    assert r.status_code == 200, r.text
    return [uuid.UUID(item["id"]) for item in r.json()["items"]]


async def test_the_operator_lists_every_reminder_soonest_first_in_keyset_pages(
    client: httpx.AsyncClient, operator: User, reminders: list[ReminderRead]
) -> None:
    seen: list[uuid.UUID] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/api/v1/reminders", headers=operator.headers, params=params)
        assert r.status_code == 200, r.text
        seen += [uuid.UUID(item["id"]) for item in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [r.id for r in reminders]
    forged = await client.get("/api/v1/reminders", headers=operator.headers, params={"cursor": "bm9wZQ"})
    assert forged.status_code == 422


async def test_the_list_filters_by_status_kind_client_and_due_range(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, reminders: list[ReminderRead]
) -> None:
    ids = [r.id for r in reminders]
    assert await _ids(client, operator, kind="prospects.follow_up") == [ids[1], ids[3]]
    assert await _ids(client, operator, client_id=str(tenant_a.id)) == [ids[0], ids[1], ids[4]]
    window = {"due_from": (BASE + timedelta(hours=2)).isoformat(), "due_to": "2031-03-02T13:30:00"}  # naive: UTC
    assert await _ids(client, operator, **window) == [ids[1], ids[2], ids[3]]
    assert await _ids(client, operator, status="cancelled") == []
    bad = await client.get("/api/v1/reminders", headers=operator.headers, params={"status": "snoozed"})
    assert bad.status_code == 422
    out_of_range = await client.get(
        "/api/v1/reminders", headers=operator.headers, params={"due_from": "0001-01-01T00:00:00+14:00"}
    )
    assert out_of_range.status_code == 422 and out_of_range.json()["code"] == "reminder_invalid"


async def test_a_member_lists_only_the_reminders_addressed_to_their_clients_members(
    client: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, reminders: list[ReminderRead]
) -> None:
    assert await _ids(client, tenant_a.member) == [reminders[0].id, reminders[4].id]
    assert await _ids(client, tenant_a.member, client_id=str(tenant_b.id)) == []
    assert await _ids(client, tenant_b.member) == [reminders[2].id]


async def test_the_operator_cancels_a_pending_reminder_once(
    client: httpx.AsyncClient, sql: Any, operator: User, tenant_a: Tenant, reminders: list[ReminderRead]
) -> None:
    target = reminders[0].id
    denied = await client.post(f"/api/v1/reminders/{target}/cancel", headers=tenant_a.member.headers)
    assert denied.status_code == 403
    r = await client.post(f"/api/v1/reminders/{target}/cancel", headers=operator.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled" and r.json()["cancelled_at"] is not None
    again = await client.post(f"/api/v1/reminders/{target}/cancel", headers=operator.headers)
    assert again.status_code == 409 and again.json()["code"] == "reminder_not_pending"
    missing = await client.post(f"/api/v1/reminders/{uuid.uuid4()}/cancel", headers=operator.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "reminder_not_found"
    audit = await sql.fetchrow("select actor_id, client_id from public.audit_log where action = 'reminder.cancelled'")
    assert (audit["actor_id"], audit["client_id"]) == (operator.id, tenant_a.id)


async def test_the_outbox_is_the_operators_to_read(
    client: httpx.AsyncClient, db: Database, operator: User, tenant_a: Tenant
) -> None:
    ids = []
    for i in range(3):  # one transaction each: the outbox lists by creation time, newest first
        async with db.service_session() as session:
            ids.append(
                await service.send_email(
                    session, to=f"user{i}@example.com", subject=f"Sujet {i}", text=f"Texte {i}", client_id=tenant_a.id
                )
            )
    r = await client.get("/api/v1/reminders/outbox", headers=operator.headers, params={"limit": 2})
    assert r.status_code == 200, r.text
    page = r.json()
    assert [uuid.UUID(item["id"]) for item in page["items"]] == ids[::-1][:2]
    assert page["items"][0]["status"] == "queued" and "body" not in page["items"][0]
    rest = await client.get(
        "/api/v1/reminders/outbox", headers=operator.headers, params={"cursor": page["next_cursor"]}
    )
    assert rest.status_code == 200
    assert [uuid.UUID(item["id"]) for item in rest.json()["items"]] == [ids[0]]
    filtered = await client.get(
        "/api/v1/reminders/outbox", headers=operator.headers, params={"status": "sent", "client_id": str(tenant_a.id)}
    )
    assert filtered.status_code == 200 and filtered.json()["items"] == []
    detail = await client.get(f"/api/v1/reminders/outbox/{ids[1]}", headers=operator.headers)
    assert detail.status_code == 200
    assert (detail.json()["to_address"], detail.json()["body"]) == ("user1@example.com", "Texte 1")
    missing = await client.get(f"/api/v1/reminders/outbox/{uuid.uuid4()}", headers=operator.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "email_not_found"
    for path in ("/api/v1/reminders/outbox", f"/api/v1/reminders/outbox/{ids[0]}"):
        member = await client.get(path, headers=tenant_a.member.headers)
        assert member.status_code == 403
        anonymous = await client.get(path)
        assert anonymous.status_code == 401


async def test_anonymous_callers_get_401(client: httpx.AsyncClient, reminders: list[ReminderRead]) -> None:
    listed = await client.get("/api/v1/reminders")
    assert listed.status_code == 401
    cancelled = await client.post(f"/api/v1/reminders/{reminders[0].id}/cancel")
    assert cancelled.status_code == 401
