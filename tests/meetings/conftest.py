"""Meetings against the real database and an in-process LiveKit (Twirp) server; webhooks signed the
way LiveKit signs them (a JWT whose `sha256` claim is the body's hash)."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from livekit import api
from pydantic import SecretStr

from services.core.settings import Settings
from tests.integrations.test_livekit import FakeTwirp

KEY = "devkey"
SECRET = "a-dev-secret-that-is-at-least-32-bytes-long"
FIXTURES = Path(__file__).parent.parent / "fixtures"
WEBHOOK = "/api/v1/webhooks/livekit"


@pytest.fixture
async def twirp() -> AsyncIterator[tuple[FakeTwirp, str]]:
    fake = FakeTwirp()
    app = web.Application()
    app.router.add_post("/twirp/{method:.+}", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()
    fake.assert_all_called()


@pytest.fixture
def settings(settings: Settings, twirp: tuple[FakeTwirp, str]) -> Settings:
    return settings.model_copy(
        update={
            "livekit_url": twirp[1],
            "livekit_api_key": KEY,
            "livekit_api_secret": SecretStr(SECRET),
            "livekit_egress_s3_endpoint": "https://abcd.storage.supabase.co/storage/v1/s3",
            "livekit_egress_s3_access_key": "s3-access",
            "livekit_egress_s3_secret": SecretStr("s3-secret"),
            "deepgram_api_key": SecretStr("dg-key"),
            "deepseek_api_key": SecretStr("ds-key"),
        }
    )


def signed(body: str, *, secret: str = SECRET, ttl: timedelta = timedelta(minutes=5)) -> str:
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    return api.AccessToken(KEY, secret).with_sha256(digest).with_ttl(ttl).to_jwt()


def room_event(event: str, event_id: str, room_name: str, **extra: Any) -> str:
    """A webhook body shaped like tests/fixtures/livekit_webhook_room_started.json, for our room."""
    recorded = json.loads((FIXTURES / "livekit_webhook_room_started.json").read_text())["event"]
    body = copy.deepcopy(recorded)
    body.update({"event": event, "id": event_id, **extra})
    body["room"]["name"] = room_name
    return json.dumps(body, indent=2)


def egress_ended(event_id: str, room_name: str, egress_id: str, filename: str, size: int = 2048) -> str:
    """proto3 JSON of an egress_ended event (integrations-reference §4.6: int64 as strings, ns times)."""
    return json.dumps(
        {
            "event": "egress_ended",
            "id": event_id,
            "createdAt": "1767265200",
            "egressInfo": {
                "egressId": egress_id,
                "roomId": "RM_hycBMAjmt6Ub",
                "roomName": room_name,
                "status": "EGRESS_COMPLETE",
                "startedAt": "1767261600000000000",
                "endedAt": "1767265200000000000",
                "fileResults": [
                    {
                        "filename": filename,
                        "startedAt": "1767261600000000000",
                        "endedAt": "1767265200000000000",
                        "duration": "3600000000000",
                        "size": str(size),
                        "location": f"https://abcd.storage.supabase.co/storage/v1/s3/foxeo/{filename}",
                    }
                ],
            },
        }
    )


async def deliver(client: httpx.AsyncClient, body: str, authorization: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/webhook+json", "Authorization": authorization or signed(body)}
    return await client.post(WEBHOOK, content=body.encode(), headers=headers)
