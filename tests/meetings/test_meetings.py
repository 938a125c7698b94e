"""Meetings routes: who starts what, join tokens, attendance detail, recording with consent."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import jwt
from fastapi import FastAPI
from livekit import api

from services.core.jobs import registered_handlers
from services.core.settings import Settings
from services.core.worker import Worker
from tests.conftest import Tenant, User
from tests.integrations.test_livekit import FakeTwirp
from tests.meetings.conftest import KEY, SECRET

URL = "/api/v1/meetings"


async def run_jobs(app: FastAPI) -> None:
    await Worker(app.state.job_context, registered_handlers()).run_pending()


async def start(client: httpx.AsyncClient, user: User, tenant: Tenant, **body: Any) -> dict[str, Any]:
    response = await client.post(URL, json={"client_id": str(tenant.id), **body}, headers=user.headers)
    assert response.status_code == 201, response.text
    meeting: dict[str, Any] = response.json()
    return meeting


async def test_operator_starts_a_hub_meeting_and_the_room_is_created_by_a_job(
    app: FastAPI,
    client: httpx.AsyncClient,
    operator: User,
    tenant_a: Tenant,
    twirp: tuple[FakeTwirp, str],
    sql: asyncpg.Connection,
) -> None:
    fake, _ = twirp
    fake.add("livekit.RoomService/CreateRoom", api.Room(sid="RM_1", name="x"))
    meeting = await start(client, operator, tenant_a, title="Point mensuel")
    assert (meeting["dashboard"], meeting["kind"], meeting["status"]) == ("hub", "full", "scheduled")
    assert meeting["room_name"] == f"foxeo-{meeting['id']}"
    assert fake.calls == []  # never inside the request
    await run_jobs(app)
    (call,) = fake.called("livekit.RoomService/CreateRoom")
    assert api.CreateRoomRequest.FromString(call.body).name == meeting["room_name"]
    assert await sql.fetchval("select count(*) from audit_log where action = 'meeting.started'") == 1


async def test_members_start_simple_meetings_for_their_own_client_only(
    client: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, sql: asyncpg.Connection
) -> None:
    meeting = await start(client, tenant_a.member, tenant_a)
    assert (meeting["kind"], meeting["dashboard"]) == ("simple", "lab")
    one = await start(client, tenant_b.member, tenant_b)
    assert one["dashboard"] == "one"
    full = await client.post(URL, json={"client_id": str(tenant_a.id), "kind": "full"}, headers=tenant_a.member.headers)
    assert full.status_code == 403
    other = await client.post(URL, json={"client_id": str(tenant_b.id)}, headers=tenant_a.member.headers)
    assert other.status_code == 404
    assert await sql.fetchval("select count(*) from meetings") == 2


async def test_join_tokens_by_role_and_only_for_the_clients_people(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, tenant_b: Tenant, settings: Settings
) -> None:
    meeting = await start(client, operator, tenant_a)
    for user, admin in ((operator, True), (tenant_a.member, None)):
        response = await client.post(f"{URL}/{meeting['id']}/token", headers=user.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        claims = jwt.decode(body["token"], SECRET, algorithms=["HS256"], issuer=KEY)
        assert claims["sub"] == str(user.id) == body["identity"]
        assert claims["video"]["room"] == meeting["room_name"]
        assert claims["video"]["canPublish"] is True and claims["video"]["canSubscribe"] is True
        assert claims["video"].get("roomAdmin") is admin and claims["video"].get("roomRecord") is admin
        assert claims["exp"] - claims["nbf"] == settings.livekit_token_ttl_seconds
        assert body["url"] == settings.livekit_url
    denied = await client.post(f"{URL}/{meeting['id']}/token", headers=tenant_b.member.headers)
    assert denied.status_code == 404


async def test_list_and_detail_are_per_client(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    a = await start(client, operator, tenant_a)
    await start(client, operator, tenant_a)
    await start(client, operator, tenant_b)
    page = await client.get(URL, params={"client_id": str(tenant_a.id), "limit": 1}, headers=operator.headers)
    assert page.status_code == 200
    assert len(page.json()["items"]) == 1 and page.json()["next_cursor"]
    rest = await client.get(
        URL, params={"client_id": str(tenant_a.id), "cursor": page.json()["next_cursor"]}, headers=operator.headers
    )
    assert [m["id"] for m in page.json()["items"] + rest.json()["items"]].count(a["id"]) == 1
    assert len(rest.json()["items"]) == 1
    mine = await client.get(URL, params={"client_id": str(tenant_a.id)}, headers=tenant_a.member.headers)
    assert len(mine.json()["items"]) == 2
    other = await client.get(URL, params={"client_id": str(tenant_a.id)}, headers=tenant_b.member.headers)
    assert other.status_code == 404
    detail = await client.get(f"{URL}/{a['id']}", headers=tenant_a.member.headers)
    assert detail.status_code == 200 and detail.json()["participants"] == []
    assert (await client.get(f"{URL}/{a['id']}", headers=tenant_b.member.headers)).status_code == 404
    forged = await client.get(URL, params={"client_id": str(tenant_a.id), "cursor": "x"}, headers=operator.headers)
    assert forged.status_code == 422


async def test_recording_needs_consent_and_the_operator(
    app: FastAPI,
    client: httpx.AsyncClient,
    operator: User,
    tenant_a: Tenant,
    tenant_b: Tenant,
    twirp: tuple[FakeTwirp, str],
    sql: asyncpg.Connection,
) -> None:
    fake, _ = twirp
    meeting = await start(client, operator, tenant_a)
    fake.add("livekit.RoomService/CreateRoom", api.Room(sid="RM_1", name=meeting["room_name"]))
    rec_url = f"{URL}/{meeting['id']}/recordings"
    member = await client.post(rec_url, headers=tenant_a.member.headers)
    assert member.status_code == 403
    missing = await client.post(rec_url, headers=operator.headers)
    assert missing.status_code == 422
    assert "consent" in missing.json()["detail"]
    consent = {"agreed_by": "Alice Martin (Alpha Studio)"}
    assert (
        await client.post(f"{URL}/{meeting['id']}/consent", json=consent, headers=tenant_b.member.headers)
    ).status_code == 403
    agreed = await client.post(f"{URL}/{meeting['id']}/consent", json=consent, headers=operator.headers)
    assert agreed.status_code == 200 and agreed.json()["consent_agreed_by"] == consent["agreed_by"]
    assert await sql.fetchval("select count(*) from meeting_recordings") == 0

    fake.add(
        "livekit.Egress/StartRoomCompositeEgress", api.EgressInfo(egress_id="EG_1", room_name=meeting["room_name"])
    )
    started = await client.post(rec_url, headers=operator.headers)
    assert started.status_code == 202, started.text
    recording = started.json()
    assert recording["consent_agreed_by"] == consent["agreed_by"] and recording["status"] == "starting"
    again = await client.post(rec_url, headers=operator.headers)
    assert again.status_code == 409
    await run_jobs(app)
    (call,) = fake.called("livekit.Egress/StartRoomCompositeEgress")
    sent = api.RoomCompositeEgressRequest.FromString(call.body)
    path = f"clients/{tenant_a.id}/documents/{recording['id']}/v1/recording.mp4"
    assert sent.room_name == meeting["room_name"] and sent.file_outputs[0].filepath == path
    assert sent.file_outputs[0].s3.bucket == "foxeo"
    assert await sql.fetchval("select egress_id from meeting_recordings") == "EG_1"

    fake.add("livekit.Egress/StopEgress", api.EgressInfo(egress_id="EG_1", status=api.EGRESS_ENDING))
    stop = await client.post(f"{rec_url}/{recording['id']}/stop", headers=operator.headers)
    assert stop.status_code == 202 and stop.json()["status"] == "stopping"
    await run_jobs(app)
    assert api.StopEgressRequest.FromString(fake.called("livekit.Egress/StopEgress")[0].body).egress_id == "EG_1"


async def test_simple_meetings_are_never_recorded(client: httpx.AsyncClient, tenant_a: Tenant, operator: User) -> None:
    meeting = await start(client, tenant_a.member, tenant_a)
    consent = await client.post(f"{URL}/{meeting['id']}/consent", json={"agreed_by": "x"}, headers=operator.headers)
    assert consent.status_code == 422


async def test_recording_without_egress_storage_answers_503_naming_it(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, settings: Settings, app: FastAPI
) -> None:
    app.state.settings = settings.model_copy(update={"livekit_egress_s3_endpoint": None})
    meeting = await start(client, operator, tenant_a)
    consent = await client.post(f"{URL}/{meeting['id']}/consent", json={"agreed_by": "Alice"}, headers=operator.headers)
    assert consent.status_code in (200, 201), consent.text
    response = await client.post(f"{URL}/{meeting['id']}/recordings", headers=operator.headers)
    assert response.status_code == 503
    assert "LIVEKIT_EGRESS_S3_ENDPOINT" in response.json()["detail"]


async def test_without_livekit_no_meeting_starts_and_the_setting_is_named(
    app: FastAPI,
    client: httpx.AsyncClient,
    operator: User,
    tenant_a: Tenant,
    settings: Settings,
    sql: asyncpg.Connection,
) -> None:
    app.state.settings = settings.model_copy(update={"livekit_api_secret": None})
    response = await client.post(URL, json={"client_id": str(tenant_a.id)}, headers=operator.headers)
    assert response.status_code == 503
    assert response.json()["setting"] == "LIVEKIT_API_SECRET"
    assert await sql.fetchval("select count(*) from meetings") == 0
