"""meetings, meeting_participants, meeting_recordings, webhook_events, transcripts and
transcript_segments under RLS, in SQL: a member sees their client's meetings and attendance only,
starts only simple meetings as themselves, and never sees recordings, transcripts or webhook events."""

from __future__ import annotations

import asyncpg
import pytest

from tests.conftest import Tenant, User
from tests.rls.conftest import AsUser, Denied


@pytest.fixture
async def arranged(sql: asyncpg.Connection, tenant_a: Tenant, tenant_b: Tenant, operator: User) -> None:
    for tenant in (tenant_a, tenant_b):
        meeting = await sql.fetchval(
            "insert into meetings (id, client_id, dashboard, kind, room_name, created_by)"
            " select g, $1, 'hub', 'full', 'foxeo-' || g, $2 from gen_random_uuid() g returning id",
            tenant.id,
            operator.id,
        )
        await sql.execute(
            "insert into meeting_participants (client_id, meeting_id, identity, role, joined_at)"
            " values ($1, $2, 'someone', 'member', now())",
            tenant.id,
            meeting,
        )
        recording = await sql.fetchval(
            "insert into meeting_recordings (client_id, meeting_id, storage_path, phase, consent_agreed_by,"
            " consent_agreed_at, created_by) values ($1, $2, 'p-' || gen_random_uuid(), 'lab', 'Alice', now(), $3)"
            " returning id",
            tenant.id,
            meeting,
            operator.id,
        )
        transcript = await sql.fetchval(
            "insert into transcripts (client_id, meeting_id, recording_id) values ($1, $2, $3) returning id",
            tenant.id,
            meeting,
            recording,
        )
        await sql.execute(
            "insert into transcript_segments (client_id, transcript_id, position, speaker, start_seconds,"
            " end_seconds, text) values ($1, $2, 0, 0, 0, 1, 'Bonjour')",
            tenant.id,
            transcript,
        )
    await sql.execute("insert into webhook_events (sender, event_id, event) values ('livekit', 'EV_1', 'room_started')")


@pytest.mark.isolates("meetings", "meeting_participants", "meeting_recordings", "transcripts", "transcript_segments")
async def test_member_sees_own_meetings_and_attendance_only(arranged: None, as_user: AsUser, tenant_a: Tenant) -> None:
    async with as_user(tenant_a.member) as conn:
        for table in ("meetings", "meeting_participants"):
            assert {r[0] for r in await conn.fetch(f"select client_id from public.{table}")} == {tenant_a.id}
        for table in ("meeting_recordings", "transcripts", "transcript_segments", "webhook_events"):
            assert await conn.fetchval(f"select count(*) from public.{table}") == 0, table


async def test_member_writes_nothing_but_their_own_simple_meeting(
    arranged: None, as_user: AsUser, denied: Denied, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    async with as_user(tenant_a.member) as conn:
        for tenant in (tenant_a, tenant_b):
            for table in ("meetings", "meeting_participants", "meeting_recordings", "transcripts"):
                assert await denied(
                    conn, f"update public.{table} set client_id = client_id where client_id = $1", tenant.id
                )
                assert await denied(conn, f"delete from public.{table} where client_id = $1", tenant.id)
        insert = (
            "insert into public.meetings (id, client_id, dashboard, kind, room_name, created_by)"
            " select g, $1, $2, $3, 'foxeo-' || g, $4 from gen_random_uuid() g"
        )
        assert await denied(conn, insert, tenant_b.id, "one", "simple", tenant_a.member.id)
        assert await denied(conn, insert, tenant_a.id, "hub", "full", tenant_a.member.id)
        assert await denied(conn, insert, tenant_a.id, "lab", "simple", tenant_b.member.id)
        assert not await denied(conn, insert, tenant_a.id, "lab", "simple", tenant_a.member.id)
        assert await denied(
            conn,
            "insert into public.meeting_participants (client_id, meeting_id, identity, role, joined_at)"
            " select client_id, id, 'x', 'member', now() from public.meetings limit 1",
        )
        assert await denied(
            conn, "insert into public.webhook_events (sender, event_id, event) values ('livekit', 'x', 'y')"
        )


async def test_operator_reads_everything(arranged: None, as_user: AsUser, operator: User) -> None:
    async with as_user(operator) as conn:
        for table in ("meetings", "meeting_participants", "meeting_recordings", "transcripts", "transcript_segments"):
            assert await conn.fetchval(f"select count(*) from public.{table}") == 2, table
        assert await conn.fetchval("select count(*) from public.webhook_events") == 1
