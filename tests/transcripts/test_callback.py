"""Long recordings: Deepgram's callback mode, answered on our signed, expiring callback URL."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
import respx
from fastapi import FastAPI

from services.core.errors import Unauthorized
from services.transcripts.callback import callback_token, verify_callback_token
from tests.conftest import Tenant, User
from tests.integrations.test_livekit import FakeTwirp
from tests.meetings.test_meetings import URL, run_jobs
from tests.transcripts.conftest import DEEPSEEK_URL, LISTEN, SUMMARY, completion, diarized
from tests.transcripts.test_chain import record_meeting


async def test_long_recording_goes_through_the_callback(
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
    listen = vendors.post(LISTEN).respond(200, json={"request_id": "cb-request-1"})
    vendors.post(DEEPSEEK_URL).respond(200, json=completion(json.dumps(SUMMARY)))
    done = await record_meeting(app, client, operator, tenant_a, fake, sql, duration_ns=3600 * 10**9)
    await run_jobs(app)
    callback = listen.calls.last.request.url.params["callback"]
    assert callback.startswith("http://127.0.0.1:8000/api/v1/webhooks/deepgram/")
    assert await sql.fetchval("select status from transcripts") == "processing"
    assert await sql.fetchval("select transcription_status from meetings") == "processing"
    path = urlsplit(callback).path

    payload = diarized()
    payload["metadata"]["request_id"] = "cb-request-1"
    forged = path[:-4] + ("aaaa" if not path.endswith("aaaa") else "bbbb")
    assert (await client.post(forged, json=payload)).status_code == 401
    other = dict(payload, metadata={**payload["metadata"], "request_id": "someone-else"})
    assert (await client.post(path, json=other)).status_code == 401
    assert (await client.post(path, content=b"not json")).status_code == 422
    assert await sql.fetchval("select count(*) from transcript_segments") == 0

    first = await client.post(path, json=payload)
    assert first.status_code == 200 and first.json()["duplicate"] is False
    again = await client.post(path, json=payload)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert await sql.fetchval("select count(*) from transcript_segments") == 3
    await run_jobs(app)
    detail = (await client.get(f"{URL}/{done['meeting']['id']}", headers=operator.headers)).json()
    assert detail["transcription_status"] == "done"
    assert await sql.fetchval("select summary_status from transcripts") == "done"
    assert listen.call_count == 1


def test_callback_tokens_are_bound_and_expire() -> None:
    import uuid

    key, other = b"k" * 32, b"o" * 32
    transcript = uuid.uuid4()
    token = callback_token(key, transcript, 600, now=1000)
    assert verify_callback_token(key, token, now=1500) == transcript
    for bad_key, now, bad in ((key, 1700, token), (other, 1500, token), (key, 1500, token + "x"), (key, 1500, "x.y")):
        with pytest.raises(Unauthorized):
            verify_callback_token(bad_key, bad, now=now)


async def test_transcripts_are_the_operators_only(
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
    vendors.post(DEEPSEEK_URL).respond(200, json=completion(json.dumps(SUMMARY)))
    done = await record_meeting(app, client, operator, tenant_a, fake, sql)
    await run_jobs(app)
    transcript_id = await sql.fetchval("select id from transcripts")
    member = tenant_a.member.headers
    assert (
        await client.get("/api/v1/transcripts", params={"meeting_id": done["meeting"]["id"]}, headers=member)
    ).status_code == 403
    assert (await client.get(f"/api/v1/transcripts/{transcript_id}", headers=member)).status_code == 403
    # The member's meeting detail shows attendance but neither recordings nor their documents.
    detail = (await client.get(f"{URL}/{done['meeting']['id']}", headers=member)).json()
    assert detail["recordings"] == [] and detail["transcription_status"] == "done"
