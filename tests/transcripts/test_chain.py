"""The whole chain on the embedded default: room → recording → egress_ended webhook → document →
transcription job (Deepgram) → summary job (LLM) → accepted tasks, driving the worker directly."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import respx
from fastapi import FastAPI
from livekit import api

from services.documents.storage import build_storage
from tests.conftest import Tenant, User
from tests.integrations.test_livekit import FakeTwirp
from tests.meetings.conftest import deliver, egress_ended, room_event
from tests.meetings.test_meetings import URL, run_jobs, start
from tests.transcripts.conftest import DEEPSEEK_URL, LISTEN, SUMMARY, completion, diarized

AUDIO = b"\x00\x00\x00\x18ftypmp42" + b"recorded-meeting" * 64


async def record_meeting(
    app: FastAPI,
    client: httpx.AsyncClient,
    operator: User,
    tenant: Tenant,
    fake: FakeTwirp,
    sql: asyncpg.Connection,
    *,
    duration_ns: int = 300 * 10**9,
) -> dict[str, Any]:
    """Start, consent, record, and deliver egress_ended (the egress uploaded AUDIO to the path)."""
    fake.add("livekit.RoomService/CreateRoom", api.Room(sid="RM_1", name="r"))
    fake.add("livekit.Egress/StartRoomCompositeEgress", api.EgressInfo(egress_id="EG_1"))
    meeting = await start(client, operator, tenant, title="Lancement du site")
    consent = await client.post(
        f"{URL}/{meeting['id']}/consent", json={"agreed_by": "Alice Martin"}, headers=operator.headers
    )
    assert consent.status_code in (200, 201), consent.text
    recording = (await client.post(f"{URL}/{meeting['id']}/recordings", headers=operator.headers)).json()
    await run_jobs(app)
    assert (await deliver(client, room_event("room_started", "EV_1", meeting["room_name"]))).status_code == 200
    path = await sql.fetchval("select storage_path from meeting_recordings where id = $1::uuid", recording["id"])
    storage = build_storage(app.state.settings)
    await storage.put(path, AUDIO, content_type="video/mp4")
    await storage.aclose()
    body = json.loads(egress_ended("EV_2", meeting["room_name"], "EG_1", path, size=len(AUDIO)))
    body["egressInfo"]["fileResults"][0]["duration"] = str(duration_ns)  # 5 min: under the callback threshold
    for _ in range(2):  # LiveKit redelivers: one recording, one job
        assert (await deliver(client, json.dumps(body))).status_code == 200
    return {"meeting": meeting, "recording": recording, "path": path}


async def test_full_chain(
    app: FastAPI,
    client: httpx.AsyncClient,
    operator: User,
    tenant_a: Tenant,
    twirp: tuple[FakeTwirp, str],
    sql: asyncpg.Connection,
    vendors: respx.MockRouter,
    llm: None,
) -> None:
    fake, _ = twirp
    listen = vendors.post(LISTEN).respond(200, json=diarized())
    summary = vendors.post(DEEPSEEK_URL).respond(200, json=completion(json.dumps(SUMMARY)))
    done = await record_meeting(app, client, operator, tenant_a, fake, sql)
    meeting, recording = done["meeting"], done["recording"]

    await run_jobs(app)

    # The recording became an internal document of source `meeting`, with the file's real hash.
    doc = await sql.fetchrow(
        "select d.source, d.visibility, v.sha256, v.size_bytes, v.storage_path from documents d"
        " join document_versions v on v.id = d.current_version_id where d.id = $1::uuid",
        recording["id"],
    )
    assert (doc["source"], doc["visibility"]) == ("meeting", "internal")
    assert (doc["sha256"], doc["size_bytes"], doc["storage_path"]) == (
        hashlib.sha256(AUDIO).hexdigest(),
        len(AUDIO),
        done["path"],
    )
    # Deepgram got a short-lived signed link, French, diarized, utterances.
    request = listen.calls.last.request
    assert request.headers["Authorization"] == "Token dg-key"
    params = request.url.params
    assert (params["model"], params["language"], params["diarize"], params["utterances"]) == (
        "nova-3",
        "fr",
        "true",
        "true",
    )
    assert "callback" not in params
    signed_url = json.loads(request.content)["url"]
    assert "/api/v1/storage/" in signed_url and "token=" in signed_url

    detail = (await client.get(f"{URL}/{meeting['id']}", headers=operator.headers)).json()
    assert detail["transcription_status"] == "done" and detail["transcription_error"] is None
    assert detail["recordings"][0]["document_id"] == recording["id"]
    (transcript,) = (
        await client.get("/api/v1/transcripts", params={"meeting_id": meeting["id"]}, headers=operator.headers)
    ).json()
    full = (await client.get(f"/api/v1/transcripts/{transcript['id']}", headers=operator.headers)).json()
    # The utterance labelled speaker 1 ends with two words of speaker 0: split there.
    assert [(s["speaker"], s["text"]) for s in full["segments"]] == [
        (0, "Bonjour Alice."),
        (1, "Bonjour, on lance le site."),
        (0, "Très bien."),
    ]
    assert full["duration_seconds"] == 4.3 and full["language"] == "fr"
    assert full["summary_status"] == "done" and full["summary"] == SUMMARY
    sent = json.loads(summary.calls.last.request.content)
    assert (
        sent["model"] == "deepseek-flash"
        and "Intervenant 1 : Bonjour, on lance le site." in sent["messages"][-1]["content"]
    )
    assert (
        await sql.fetchval(
            "select count(*) from notifications where user_id = $1 and title = 'Transcription prête'", operator.id
        )
        == 1
    )
    assert await sql.fetchval("select count(*) from jobs where kind like 'transcripts.%'") == 2
    assert await sql.fetchval("select count(*) from jobs where status <> 'done'") == 0

    # The operator accepts the first action item into the project's tasks.
    project = await sql.fetchval(
        "insert into projects (client_id, kind, phase, name) values ($1, 'delivery', 'lab', 'Site') returning id",
        tenant_a.id,
    )
    accept_url = f"/api/v1/transcripts/{transcript['id']}/action-items/accept"
    body = {"items": [0], "project_id": str(project)}
    member = await client.post(accept_url, json=body, headers=tenant_a.member.headers)
    assert member.status_code == 403
    accepted = await client.post(accept_url, json=body, headers=operator.headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["transcript"]["accepted_items"] == [0]
    task = await sql.fetchrow("select title, source, source_ref, due_date::text from project_tasks")
    assert tuple(task) == ("Envoyer la maquette", "meeting", f"meeting:{meeting['id']}#0", "2026-12-07")
    assert (await client.post(accept_url, json=body, headers=operator.headers)).status_code == 409
    assert (await client.post(accept_url, json={**body, "items": [5]}, headers=operator.headers)).status_code == 422
    assert await sql.fetchval("select count(*) from project_tasks") == 1


async def test_invalid_summary_is_retried_once_then_kept_flagged(
    app: FastAPI,
    client: httpx.AsyncClient,
    operator: User,
    tenant_a: Tenant,
    twirp: tuple[FakeTwirp, str],
    sql: asyncpg.Connection,
    vendors: respx.MockRouter,
    llm: None,
) -> None:
    fake, _ = twirp
    vendors.post(LISTEN).respond(200, json=diarized())
    summary = vendors.post(DEEPSEEK_URL).mock(
        side_effect=[
            httpx.Response(200, json=completion("Voici le résumé : tout va bien.")),
            httpx.Response(200, json=completion('{"summary": ""}')),
        ]
    )
    await record_meeting(app, client, operator, tenant_a, fake, sql)
    await run_jobs(app)
    assert summary.call_count == 2
    retry = json.loads(summary.calls.last.request.content)["messages"]
    assert retry[-2]["content"] == "Voici le résumé : tout va bien." and "invalide" in retry[-1]["content"]
    row = await sql.fetchrow("select summary_status, summary, summary_raw from transcripts")
    assert (row["summary_status"], row["summary"], row["summary_raw"]) == ("flagged", None, '{"summary": ""}')


async def test_a_refused_transcription_fails_the_meeting_with_its_reason(
    app: FastAPI,
    client: httpx.AsyncClient,
    operator: User,
    tenant_a: Tenant,
    twirp: tuple[FakeTwirp, str],
    sql: asyncpg.Connection,
    vendors: respx.MockRouter,
    llm: None,
) -> None:
    fake, _ = twirp
    error = {
        "err_code": "Bad Request",
        "err_msg": "failed to process audio: corrupt or unsupported data",
        "request_id": "r",
    }
    vendors.post(LISTEN).respond(400, json=error)
    done = await record_meeting(app, client, operator, tenant_a, fake, sql)
    await run_jobs(app)
    detail = (await client.get(f"{URL}/{done['meeting']['id']}", headers=operator.headers)).json()
    assert detail["transcription_status"] == "failed"
    assert "corrupt or unsupported data" in detail["transcription_error"]
    assert await sql.fetchval("select status from jobs where kind = 'transcripts.transcribe'") == "dead"


async def test_transient_failures_retry_then_fail_visibly_when_exhausted(
    app: FastAPI,
    client: httpx.AsyncClient,
    operator: User,
    tenant_a: Tenant,
    twirp: tuple[FakeTwirp, str],
    sql: asyncpg.Connection,
    vendors: respx.MockRouter,
    llm: None,
) -> None:
    fake, _ = twirp
    listen = vendors.post(LISTEN).respond(503, json={"err_code": "Service Unavailable", "err_msg": "busy"})
    done = await record_meeting(app, client, operator, tenant_a, fake, sql)
    await sql.execute("update jobs set max_attempts = 2 where kind = 'meetings.file_recording'")
    await run_jobs(app)
    await sql.execute("update jobs set max_attempts = 2 where kind = 'transcripts.transcribe'")
    assert await sql.fetchval("select status from jobs where kind = 'transcripts.transcribe'") == "failed"
    assert await sql.fetchval("select transcription_status from meetings") == "processing"
    await sql.execute("update jobs set run_after = now() where status = 'failed'")
    await run_jobs(app)
    assert listen.call_count == 2
    detail = (await client.get(f"{URL}/{done['meeting']['id']}", headers=operator.headers)).json()
    assert detail["transcription_status"] == "failed" and "busy" in detail["transcription_error"]


async def test_lab_action_items_become_journey_steps_or_homework(
    app: FastAPI,
    client: httpx.AsyncClient,
    operator: User,
    tenant_a: Tenant,
    tenant_b: Tenant,
    twirp: tuple[FakeTwirp, str],
    sql: asyncpg.Connection,
    vendors: respx.MockRouter,
    llm: None,
) -> None:
    fake, _ = twirp
    vendors.post(LISTEN).respond(200, json=diarized())
    vendors.post(DEEPSEEK_URL).respond(200, json=completion(json.dumps(SUMMARY)))
    await record_meeting(app, client, operator, tenant_a, fake, sql)
    await run_jobs(app)
    transcript = await sql.fetchval("select id from transcripts")
    journey = await sql.fetchval(
        "insert into projects (client_id, kind, phase, name, status) values ($1, 'journey', 'lab', 'Parcours',"
        " 'active') returning id",
        tenant_a.id,
    )
    other = await sql.fetchval(
        "insert into projects (client_id, kind, phase, name) values ($1, 'delivery', 'one', 'B') returning id",
        tenant_b.id,
    )
    url = f"/api/v1/transcripts/{transcript}/action-items/accept"
    foreign = await client.post(url, json={"items": [0], "project_id": str(other)}, headers=operator.headers)
    assert foreign.status_code == 422
    step = await client.post(
        url, json={"items": [0], "project_id": str(journey), "target": "step"}, headers=operator.headers
    )
    assert step.status_code == 200, step.text
    assert await sql.fetchval("select title from project_steps where id = $1", UUID(step.json()["created_ids"][0])) == (
        "Envoyer la maquette"
    )
    homework = await client.post(
        url, json={"items": [1], "project_id": str(journey), "target": "homework"}, headers=operator.headers
    )
    assert homework.status_code == 200, homework.text
    doc = await sql.fetchrow(
        "select title, document_type, source, project_id, visibility from documents where id = $1",
        UUID(homework.json()["created_ids"][0]),
    )
    assert tuple(doc) == ("Rédiger les textes de l'accueil — Ton chaleureux", "devoir", "meeting", journey, "shared")
    assert homework.json()["transcript"]["accepted_items"] == [0, 1]
