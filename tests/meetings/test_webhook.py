"""POST /api/v1/webhooks/livekit: verified on the raw body, applied once per event id."""

from __future__ import annotations

import json
from datetime import timedelta

import asyncpg
import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from services.core.settings import Settings
from tests.conftest import Tenant, User
from tests.meetings.conftest import deliver, egress_ended, room_event, signed


async def meeting_of(sql: asyncpg.Connection, operator: User, tenant: Tenant) -> tuple[str, str]:
    meeting_id = await sql.fetchval(
        "insert into meetings (client_id, dashboard, kind, room_name, created_by)"
        " values ($1, 'hub', 'full', 'foxeo-' || gen_random_uuid(), $2) returning id",
        tenant.id,
        operator.id,
    )
    await sql.execute("update meetings set room_name = 'foxeo-' || id where id = $1", meeting_id)
    return str(meeting_id), f"foxeo-{meeting_id}"


def participant(event: str, event_id: str, room: str, user: User, role: str) -> str:
    body = json.loads(room_event(event, event_id, room))
    body["participant"] = {
        "sid": f"PA_{event_id}",
        "identity": str(user.id),
        "name": user.email,
        "state": "ACTIVE",
        "joinedAt": "1767261600",
        "metadata": json.dumps({"role": role, "user_id": str(user.id)}),
    }
    return json.dumps(body)


async def test_room_and_attendance_events(
    client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    meeting_id, room = await meeting_of(sql, operator, tenant_a)
    assert (await deliver(client, room_event("room_started", "EV_1", room))).json() == {
        "received": True,
        "duplicate": False,
    }
    assert await sql.fetchval("select status from meetings where id = $1::uuid", meeting_id) == "live"
    for event_id, who, role in (("EV_2", operator, "operator"), ("EV_3", tenant_a.member, "member")):
        assert (await deliver(client, participant("participant_joined", event_id, room, who, role))).status_code == 200
    left = json.loads(participant("participant_left", "EV_4", room, tenant_a.member, "member"))
    left["createdAt"] = "1767263400"  # 30 minutes after joining
    assert (await deliver(client, json.dumps(left))).status_code == 200
    finished = room_event("room_finished", "EV_5", room, createdAt="1767265200")
    assert (await deliver(client, finished)).status_code == 200

    detail = (await client.get(f"/api/v1/meetings/{meeting_id}", headers=tenant_a.member.headers)).json()
    assert detail["status"] == "ended"
    attendance = {(p["role"], p["user_id"], p["duration_seconds"]) for p in detail["participants"]}
    assert attendance == {("operator", str(operator.id), 3600), ("member", str(tenant_a.member.id), 1800)}
    actions = [r[0] for r in await sql.fetch("select action from audit_log where action like 'meeting.%' order by id")]
    assert actions.count("meeting.participant_joined") == 2 and actions.count("meeting.participant_left") == 1
    assert "meeting.live" in actions and "meeting.ended" in actions


async def test_a_duplicated_webhook_is_applied_once(
    client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    _, room = await meeting_of(sql, operator, tenant_a)
    body = participant("participant_joined", "EV_1", room, tenant_a.member, "member")
    first = await deliver(client, body)
    second = await deliver(client, body, signed(body))
    assert first.json()["duplicate"] is False and second.status_code == 200 and second.json()["duplicate"] is True
    assert await sql.fetchval("select count(*) from meeting_participants") == 1
    assert await sql.fetchval("select count(*) from webhook_events") == 1


async def test_egress_ended_twice_gives_one_recording_update_and_one_job(
    client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    meeting_id, room = await meeting_of(sql, operator, tenant_a)
    await sql.execute(
        "insert into meeting_recordings (client_id, meeting_id, egress_id, status, storage_path, phase,"
        " consent_agreed_by, consent_agreed_at, created_by) values ($1, $2::uuid, 'EG_1', 'active', 'p', 'lab',"
        " 'Alice', now(), $3)",
        tenant_a.id,
        meeting_id,
        operator.id,
    )
    body = egress_ended("EV_9", room, "EG_1", "p", size=4096)
    for _ in range(2):
        assert (await deliver(client, body)).status_code == 200
    again = egress_ended("EV_10", room, "EG_1", "p", size=4096)  # a new event id for the same egress
    assert (await deliver(client, again)).status_code == 200
    row = await sql.fetchrow("select status, size_bytes, duration_seconds from meeting_recordings")
    assert (row["status"], row["size_bytes"], row["duration_seconds"]) == ("ended", 4096, 3600)
    jobs = await sql.fetch("select kind, idempotency_key from jobs")
    assert [(j["kind"], j["idempotency_key"]) for j in jobs] == [
        ("meetings.file_recording", "meetings.file_recording:EG_1")
    ]
    assert await sql.fetchval("select transcription_status from meetings") == "pending"


async def test_forged_or_replayed_webhooks_are_refused_and_change_nothing(
    client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    _, room = await meeting_of(sql, operator, tenant_a)
    body = room_event("room_started", "EV_1", room)
    cases = {
        "tampered body": (body.replace('"emptyTimeout": 300', '"emptyTimeout": 301'), signed(body)),
        "other secret": (body, signed(body, secret="another-secret-that-is-32-bytes-long!!")),
        "expired": (body, signed(body, ttl=timedelta(minutes=-5))),
        "garbage": (body, "not-a-jwt"),
    }
    for name, (sent, authorization) in cases.items():
        response = await deliver(client, sent, authorization)
        assert response.status_code == 401, name
        assert response.headers["content-type"] == "application/problem+json"
    missing = await client.post("/api/v1/webhooks/livekit", content=body)
    assert missing.status_code == 401
    assert await sql.fetchval("select count(*) from webhook_events") == 0
    assert await sql.fetchval("select status from meetings") == "scheduled"


async def test_not_configured_answers_503_naming_the_secret(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    from integrations.livekit import LiveKitClient

    app.state.job_context.resources.provide(LiveKitClient, LiveKitClient(settings.livekit_url, "devkey", None))
    body = room_event("room_started", "EV_1", "foxeo-x")
    response = await deliver(client, body)
    assert response.status_code == 503
    assert "LIVEKIT_API_SECRET" in response.json()["detail"]
    assert isinstance(settings.livekit_api_secret, SecretStr)
