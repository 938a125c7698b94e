"""The built-in "homework due soon": open, shared homework due within the window gets one reminder for
the client's members (notification and e-mail), fired once; done, internal, archived or far-off homework
gets none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg

from services.core.db import Database
from services.reminders import builtin, service
from tests.conftest import Tenant, User
from tests.factories import create_document

WINDOW = timedelta(hours=24)


async def homework(sql: asyncpg.Connection, tenant: Tenant, title: str, due_in: timedelta, **extra: object) -> UUID:
    doc = await create_document(sql, tenant.id, title=title, document_type="devoir", **extra)  # type: ignore[arg-type]
    await sql.execute(
        "update public.documents set homework_due_at = now() + $2::interval where id = $1", doc.id, due_in
    )
    return doc.id


async def produce(db: Database) -> int:
    async with db.service_session() as session:
        return await builtin.schedule_homework_due_soon(session, WINDOW)


async def test_homework_due_soon_reminds_the_clients_members_once(
    db: Database, sql: asyncpg.Connection, tenant_a: Tenant, tenant_b: Tenant, operator: User
) -> None:
    soon = await homework(sql, tenant_a, "Business plan", timedelta(hours=5))
    await homework(sql, tenant_a, "Later", timedelta(days=3))
    await homework(sql, tenant_a, "Overdue", timedelta(hours=-1))
    await homework(sql, tenant_a, "Internal", timedelta(hours=5), visibility="internal")
    done = await homework(sql, tenant_b, "Done", timedelta(hours=5))
    await sql.execute(
        "update public.documents set homework_completed = true, homework_completed_at = now() where id = $1", done
    )
    archived = await homework(sql, tenant_b, "Archived", timedelta(hours=5))
    await sql.execute("update public.documents set archived_at = now() where id = $1", archived)

    assert await produce(db) == 1
    assert await produce(db) == 1  # the same reminder, still pending (idempotent)
    row = await sql.fetchrow("select * from public.reminders")
    assert (row["kind"], row["subject_id"], row["client_id"]) == (builtin.HOMEWORK_DUE_SOON, str(soon), tenant_a.id)
    due = await sql.fetchval("select homework_due_at from public.documents where id = $1", soon)
    assert row["due_at"] == due - WINDOW and row["audience"] == "members" and row["email"]
    assert row["link"] == f"/documents/{soon}" and "Business plan" in row["title"]

    async with db.service_session() as session:
        assert await service.fire_due(session, batch=10) == 1
    assert await produce(db) == 0  # fired: scheduling it again changes nothing
    async with db.service_session() as session:
        assert await service.fire_due(session, batch=10) == 0
    notified = await sql.fetch("select user_id, title, link from public.notifications")
    assert [(n["user_id"], n["link"]) for n in notified] == [(tenant_a.member.id, f"/documents/{soon}")]
    emails = await sql.fetch("select to_address from public.email_outbox")
    assert [e["to_address"] for e in emails] == [tenant_a.member.email]


async def test_a_homework_moved_later_gets_a_new_reminder_when_its_new_time_comes(
    db: Database, sql: asyncpg.Connection, tenant_a: Tenant
) -> None:
    doc = await homework(sql, tenant_a, "Pitch", timedelta(hours=2))
    assert await produce(db) == 1
    async with db.service_session() as session:
        assert await service.fire_due(session, batch=10) == 1
    await sql.execute("update public.documents set homework_due_at = now() + interval '3 days' where id = $1", doc)
    assert await produce(db) == 0  # not within the window yet
    later = datetime.now(UTC) + timedelta(days=2, hours=1)
    async with db.service_session() as session:
        assert await builtin.schedule_homework_due_soon(session, WINDOW, now=later) == 1
    statuses = await sql.fetch("select status from public.reminders order by due_at")
    assert [s["status"] for s in statuses] == ["fired", "pending"]
