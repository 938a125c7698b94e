"""The engine fires each due reminder once: concurrent firings, a retry, a restart after downtime."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest

from services.core.db import Database
from services.core.jobs import registered_handlers, registered_jobs, run_locked
from services.reminders import jobs, service
from services.reminders.errors import ReminderForbidden, ReminderInvalid
from services.reminders.schemas import ReminderRead
from tests.conftest import Tenant, User
from tests.jobs.kit import principal_of

NOW = datetime.now(UTC)


async def _schedule(
    db: Database, tenant: Tenant, due_at: datetime, subject: str = "s1", **extra: object
) -> ReminderRead:
    async with db.service_session() as session:
        return await service.schedule(
            session, kind="agenda.session_tomorrow", subject_type="appointment", subject_id=subject, due_at=due_at,
            title="Séance demain à 10h", client_id=tenant.id, audience="all", **extra,  # type: ignore[arg-type]
        )  # fmt: skip


async def _fire(db: Database, batch: int = 10) -> int:
    async with db.service_session() as session:
        return await service.fire_due(session, batch=batch)


async def _notified(sql: asyncpg.Connection, user: User) -> int:
    count: int = await sql.fetchval("select count(*) from public.notifications where user_id = $1", user.id)
    return count


async def test_schedule_is_idempotent_per_kind_subject_and_due_time(db: Database, tenant_a: Tenant) -> None:
    first = await _schedule(db, tenant_a, NOW + timedelta(hours=1))
    again = await _schedule(db, tenant_a, NOW + timedelta(hours=1), body="ignored")
    other = await _schedule(db, tenant_a, NOW + timedelta(hours=2))
    assert again == first and again.body is None
    assert other.id != first.id and other.status == "pending"


async def test_a_cancelled_reminder_scheduled_again_is_pending_with_the_new_content(
    db: Database, tenant_a: Tenant
) -> None:
    first = await _schedule(db, tenant_a, NOW + timedelta(hours=1))
    async with db.service_session() as session:
        cancelled = await service.cancel(session, kind="agenda.session_tomorrow", subject_id="s1")
        assert [r.id for r in cancelled] == [first.id] and cancelled[0].status == "cancelled"
        assert await service.cancel(session, kind="agenda.session_tomorrow", subject_id="s1") == []
    revived = await _schedule(db, tenant_a, NOW + timedelta(hours=1), body="moved to 11h")
    assert (revived.id, revived.status, revived.body, revived.cancelled_at) == (
        first.id,
        "pending",
        "moved to 11h",
        None,
    )


async def test_a_due_reminder_fires_once_into_notifications_and_emails(
    db: Database, sql: asyncpg.Connection, tenant_a: Tenant, operator: User
) -> None:
    reminder = await _schedule(db, tenant_a, NOW - timedelta(minutes=1), email=True, link="/agenda")
    await _schedule(db, tenant_a, NOW + timedelta(hours=1), subject="later")
    assert await _fire(db) == 1
    assert await _fire(db) == 0
    assert await _notified(sql, tenant_a.member) == 1 and await _notified(sql, operator) == 1
    emails = await sql.fetch(
        "select to_address, subject, status, reminder_id from public.email_outbox order by to_address"
    )
    assert [(e["to_address"], e["status"], e["reminder_id"]) for e in emails] == sorted(
        [(tenant_a.member.email, "queued", reminder.id), (operator.email, "queued", reminder.id)]
    )
    jobs = await sql.fetchval("select count(*) from public.jobs where kind = 'reminders.send_email'")
    assert jobs == 2
    row = await sql.fetchrow("select status, fired_at from public.reminders where id = $1", reminder.id)
    assert row["status"] == "fired" and row["fired_at"] is not None
    again = await _schedule(db, tenant_a, NOW - timedelta(minutes=1), email=True, link="/agenda")
    assert again.status == "fired"  # scheduling it again neither revives nor re-fires it
    assert await _fire(db) == 0


async def test_two_concurrent_firings_never_fire_a_reminder_twice(
    db: Database, sql: asyncpg.Connection, tenant_a: Tenant
) -> None:
    for i in range(25):
        await _schedule(db, tenant_a, NOW - timedelta(seconds=i), subject=f"s{i}")
    counts = await asyncio.gather(_fire(db, batch=3), _fire(db, batch=3), _fire(db, batch=3))
    assert sum(counts) == 25
    assert await _notified(sql, tenant_a.member) == 25
    fired = await sql.fetchval("select count(*) from public.audit_log where action = 'reminder.fired'")
    assert fired == 25


async def test_a_reminder_missed_while_down_fires_once_when_the_engine_comes_back(
    db: Database, sql: asyncpg.Connection, tenant_a: Tenant
) -> None:
    reminder = await _schedule(db, tenant_a, NOW + timedelta(hours=1))
    # The service was down across the due time: the reminder's time passed with nobody to fire it.
    await sql.execute("update public.reminders set due_at = now() - interval '3 days' where id = $1", reminder.id)
    assert await _fire(db) == 1
    assert await _fire(db) == 0
    assert await _notified(sql, tenant_a.member) == 1


async def test_a_failed_firing_leaves_the_reminder_pending_to_fire_once_later(
    db: Database, sql: asyncpg.Connection, tenant_a: Tenant
) -> None:
    await _schedule(db, tenant_a, NOW - timedelta(minutes=1))
    with pytest.raises(RuntimeError):
        async with db.service_session() as session:
            assert await service.fire_due(session, batch=10) == 1
            raise RuntimeError("the job's transaction fails after firing")  # e.g. the connection drops
    assert await sql.fetchval("select status from public.reminders") == "pending"
    assert await _notified(sql, tenant_a.member) == 0
    assert await _fire(db) == 1
    assert await _notified(sql, tenant_a.member) == 1


async def test_a_member_session_cannot_schedule_or_queue_email(db: Database, tenant_a: Tenant) -> None:
    with pytest.raises(ReminderForbidden):
        async with db.user_session(principal_of(tenant_a.member)) as session:
            await service.schedule(
                session, kind="agenda.session_tomorrow", subject_type="appointment", subject_id="x",
                due_at=NOW, title="t", client_id=tenant_a.id, audience="members",
            )  # fmt: skip
    with pytest.raises(ReminderForbidden):
        async with db.user_session(principal_of(tenant_a.member)) as session:
            await service.send_email(session, to="a@example.com", subject="s", text="t")


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("kind", {"kind": "NoModule"}),
        ("subject_type", {"subject_type": "Bad Type"}),
        ("subject_id", {"subject_id": ""}),
        ("due_at", {"due_at": datetime(2030, 1, 1)}),
        ("title", {"title": " \x01 "}),
        ("client_id", {"client_id": None}),
        ("link", {"link": "//evil.example"}),
        ("body", {"body": "x" * 2001}),
    ],
)
async def test_bad_input_is_refused_before_any_write(
    db: Database, sql: asyncpg.Connection, tenant_a: Tenant, field: str, changes: dict[str, object]
) -> None:
    values: dict[str, object] = {
        "kind": "agenda.session_tomorrow", "subject_type": "appointment", "subject_id": "s", "due_at": NOW,
        "title": "t", "client_id": tenant_a.id, "audience": "members",
    }  # fmt: skip
    async with db.service_session() as session:
        with pytest.raises(ReminderInvalid) as caught:
            await service.schedule(session, **{**values, **changes})  # type: ignore[arg-type]
    assert caught.value.extra["field"] == field
    assert await sql.fetchval("select count(*) from public.reminders") == 0


async def test_send_email_refuses_header_injection(db: Database, sql: asyncpg.Connection) -> None:
    async with db.service_session() as session:
        for to, subject in (("a@example.com\r\nBcc: x@y.z", "s"), ("a@example.com", "s\r\nBcc: x@y.z")):
            with pytest.raises(ReminderInvalid):
                await service.send_email(session, to=to, subject=subject, text="t")
        email_id: UUID = await service.send_email(session, to="a@example.com", subject="Hello", text="Body")
    assert await sql.fetchval("select status from public.email_outbox where id = $1", email_id) == "queued"


async def test_the_engine_runs_as_a_periodic_job_under_its_advisory_lock(
    db: Database, sql: asyncpg.Connection, tenant_a: Tenant
) -> None:
    periodic = {job.name: job for job in registered_jobs()}
    assert {"reminders.fire", "reminders.homework_due_soon"} <= periodic.keys()
    assert jobs.SEND_EMAIL_JOB in registered_handlers()
    await _schedule(db, tenant_a, NOW - timedelta(minutes=1))
    # Two replicas' schedulers tick at once: one holds the lock and fires, the other skips its turn.
    ran = await asyncio.gather(*(run_locked(db, periodic["reminders.fire"]) for _ in range(2)))
    assert sorted(ran) == [False, True] or ran == [True, True]  # the second may start after the first ended
    assert await _notified(sql, tenant_a.member) == 1
    assert await run_locked(db, periodic["reminders.homework_due_soon"])
