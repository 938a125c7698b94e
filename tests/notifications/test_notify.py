"""notify(): the one entry point other modules use, called from the actor's own session."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from fastapi import FastAPI

from services.notifications import jobs, service
from services.notifications.errors import InvalidNotification, NotifyForbidden
from tests.conftest import Tenant, User, World
from tests.notifications.conftest import OpenSession


async def test_member_notifies_operators_about_their_own_client_only(
    user_session: OpenSession, operator: User, tenant_a: Tenant, tenant_b: Tenant, sql: asyncpg.Connection
) -> None:
    async with user_session(tenant_a.member) as session:
        ids = await service.notify_operators(
            session, source="validation_hub", title="Soumission", client_id=tenant_a.id, link="/validations/1"
        )
    assert len(ids) == 1
    row = await sql.fetchrow("select user_id, actor_id, priority, sound, badge from notifications")
    assert (row["user_id"], row["actor_id"], row["priority"]) == (operator.id, tenant_a.member.id, "high")
    with pytest.raises(NotifyForbidden):
        async with user_session(tenant_a.member) as session:
            await service.notify_operators(session, source="system", title="x", client_id=tenant_b.id)
    with pytest.raises(NotifyForbidden):
        async with user_session(tenant_a.member) as session:
            await service.notify(
                session, user_ids=[tenant_b.member.id], source="chat", title="spam", client_id=tenant_a.id
            )
    with pytest.raises(NotifyForbidden):
        async with user_session(tenant_a.member) as session:
            await service.notify_client_members(session, tenant_b.id, source="chat", title="spam")
    assert await sql.fetchval("select count(*) from notifications") == 1


async def test_operator_notifies_members_and_the_actor_is_skipped(
    user_session: OpenSession, operator: User, world: World, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    colleague = await world.user()
    await sql.execute(
        "insert into client_members (client_id, user_id, email) values ($1, $2, $3)",
        tenant_a.id,
        colleague.id,
        colleague.email,
    )
    async with user_session(operator) as session:
        ids = await service.notify_client_members(session, tenant_a.id, source="system", title="Bienvenue")
    assert len(ids) == 2
    async with user_session(tenant_a.member) as session:
        ids = await service.notify_client_members(session, tenant_a.id, source="chat", title="Coucou")
    assert [r[0] for r in await sql.fetch("select user_id from notifications where id = any($1)", ids)] == [
        colleague.id
    ]


async def test_preferences_decide_creation_and_flags(
    user_session: OpenSession, operator: User, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    now, hour = datetime.now(UTC), timedelta(hours=1)  # quiet hours around now, whatever the time
    await sql.execute(
        "insert into profiles (user_id, notification_prefs, quiet_hours) values ($1, $2::jsonb, $3::jsonb)",
        tenant_a.member.id,
        json.dumps({"chat": {"enabled": False}, "system": {"sound": True, "badge": False}}),
        json.dumps(
            {"enabled": True, "start": f"{(now - hour):%H:%M}", "end": f"{(now + hour):%H:%M}", "time_zone": "UTC"}
        ),
    )
    async with user_session(operator) as session:
        assert await service.notify(session, user_ids=[tenant_a.member.id], source="chat", title="x") == []
        await service.notify(session, user_ids=[tenant_a.member.id], source="system", title="quiet")
        await service.notify(session, user_ids=[tenant_a.member.id], source="system", title="urgent", priority="high")
    rows = {r["title"]: r for r in await sql.fetch("select title, priority, sound, badge from notifications")}
    quiet = rows["quiet"]
    assert (quiet["sound"], quiet["badge"], quiet["priority"]) == (False, False, "low")
    assert (rows["urgent"]["sound"], rows["urgent"]["priority"]) == (True, "high")


async def test_user_without_profile_gets_the_defaults(
    user_session: OpenSession, operator: User, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    await sql.execute("delete from profiles where user_id = $1", tenant_a.member.id)
    async with user_session(operator) as session:
        await service.notify(session, user_ids=[tenant_a.member.id], source="system", title="x")
    row = await sql.fetchrow("select priority, sound, badge from notifications")
    assert tuple(row) == ("low", False, True)


async def test_input_is_checked_and_cleaned(
    user_session: OpenSession, operator: User, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    async with user_session(operator) as session:
        with pytest.raises(InvalidNotification):
            await service.notify(session, user_ids=[tenant_a.member.id], source="chat", title=" \x00 ")
        with pytest.raises(InvalidNotification):
            await service.notify(
                session, user_ids=[tenant_a.member.id], source="chat", title="x", link="javascript:alert(1)"
            )
        await service.notify(
            session, user_ids=[tenant_a.member.id, tenant_a.member.id], source="chat", title="T" * 300, body="b\x07ody"
        )
    row = await sql.fetchrow("select title, body from notifications")
    assert len(row["title"]) == 200 and row["title"].endswith("…") and row["body"] == "body"
    assert await sql.fetchval("select count(*) from audit_log where action = 'notifications.created'") == 1


async def test_service_session_may_notify_anyone_and_retention_purges_old_read(
    app: FastAPI, operator: User, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    async with app.state.db.service_session() as session:
        ids = await service.notify(
            session, user_ids=[tenant_a.member.id, operator.id], source="system", title="Maintenance"
        )
    assert len(ids) == 2
    old = datetime.now(UTC) - timedelta(days=400)
    await sql.execute("update notifications set read_at = $1 where user_id = $2", old, tenant_a.member.id)
    async with app.state.db.service_session() as session:
        assert await jobs.purge_read_notifications(session) == 1
    assert [r[0] for r in await sql.fetch("select user_id from notifications")] == [operator.id]
    purged = await sql.fetchval("select actor_role from audit_log where action = 'notifications.purged'")
    assert purged == "system"


async def test_links_that_leave_the_app_are_refused(
    user_session: OpenSession, operator: User, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    """`//host` and `/\\host` look like app paths but browsers open another site."""
    async with user_session(operator) as session:
        for link in ("//evil.example.com/login", "/\\evil.example.com", "http://plain.example.com"):
            with pytest.raises(InvalidNotification):
                await service.notify(session, user_ids=[tenant_a.member.id], source="chat", title="x", link=link)
        await service.notify(session, user_ids=[tenant_a.member.id], source="chat", title="x", link="/chat/1")
    assert await sql.fetchval("select link from notifications") == "/chat/1"
