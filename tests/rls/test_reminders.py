"""reminders and email_outbox under RLS, in SQL: a member sees the reminders addressed to their own
client's members (never operator-only ones, never another client's), writes none, and sees no e-mail;
the operator sees and manages everything; the engine's function is the service role's only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from tests.conftest import Tenant, User

_SCHEDULE = (
    "select id from private.schedule_reminder($1, $2, 'appointment', $3, now() + interval '1 day', $4, true,"
    " 'Rappel', null, null, null, null)"
)


@pytest.fixture
async def arranged(sql: asyncpg.Connection, tenant_a: Tenant, tenant_b: Tenant) -> dict[str, UUID]:
    ids: dict[str, UUID] = {}
    for name, tenant in (("a", tenant_a), ("b", tenant_b)):
        for audience in ("operator", "members", "all"):
            ids[f"{name}-{audience}"] = await sql.fetchval(
                _SCHEDULE, tenant.id, "agenda.session_tomorrow", f"{name}-{audience}", audience
            )
        await sql.execute(
            "select private.queue_email($1, 'Sujet', 'Texte', $2, null, null)", f"{name}@x.test", tenant.id
        )
    ids["none"] = await sql.fetchval(_SCHEDULE, None, "prospects.follow_up", "p-1", "operator")
    return ids


@pytest.mark.isolates("reminders", "email_outbox")
async def test_a_member_sees_their_clients_member_reminders_only_and_no_email(
    arranged: dict[str, UUID], as_user: Callable[[Any], Any], tenant_a: Tenant
) -> None:
    async with as_user(tenant_a.member) as conn:
        seen = {r["id"] for r in await conn.fetch("select id from public.reminders")}
        assert seen == {arranged["a-members"], arranged["a-all"]}
        assert await conn.fetchval("select count(*) from public.email_outbox") == 0


@pytest.mark.isolates("reminders", "email_outbox")
async def test_a_member_writes_no_reminder_and_no_email(
    arranged: dict[str, UUID], as_user: Callable[[Any], Any], denied: Callable[..., Any], tenant_a: Tenant
) -> None:
    async with as_user(tenant_a.member) as conn:
        for key in ("a-members", "a-all", "b-all", "b-operator"):
            assert await denied(conn, "update public.reminders set title = 'x' where id = $1", arranged[key])
            assert await denied(conn, "delete from public.reminders where id = $1", arranged[key])
            assert await denied(conn, "select private.cancel_reminders($1, null, null, null)", arranged[key])
        for tenant_id in (tenant_a.id, None):
            assert await denied(conn, _SCHEDULE, tenant_id, "agenda.session_tomorrow", "new", "operator")
        assert await denied(conn, "select private.queue_email('m@x.test', 's', 't', $1, null, null)", tenant_a.id)
        assert await denied(conn, "update public.email_outbox set status = 'sent', sent_at = now()")
        assert await denied(conn, "delete from public.email_outbox")
        assert await denied(conn, "select private.fire_due_reminders(10, null)")
    # The member's session changed nothing: the cancellations above found no row they may update.
    async with as_user(tenant_a.member) as conn:
        statuses = await conn.fetch("select status from public.reminders")
        assert {s["status"] for s in statuses} == {"pending"}


async def test_the_operator_sees_manages_and_queues_everything(
    arranged: dict[str, UUID], as_user: Callable[[Any], Any], denied: Callable[..., Any], operator: User
) -> None:
    async with as_user(operator) as conn:
        assert await conn.fetchval("select count(*) from public.reminders") == 7
        assert await conn.fetchval("select count(*) from public.email_outbox") == 2
        cancelled = await conn.fetch("select id from private.cancel_reminders($1, null, null, null)", arranged["b-all"])
        assert [c["id"] for c in cancelled] == [arranged["b-all"]]
        assert await conn.fetchval("select private.queue_email('m@x.test', 's', 't', null, null, null)") is not None
        assert await denied(conn, "delete from public.reminders")
        assert await denied(conn, "update public.email_outbox set status = 'sent', sent_at = now()")
        assert await denied(conn, "select private.fire_due_reminders(10, null)")
