"""LiveKit / OpenVidu client against an in-process Twirp server.

livekit-api sends its Twirp calls through aiohttp, which respx cannot intercept; instead each test
gets a real aiohttp server on 127.0.0.1 (`aiohttp.test_utils.TestServer`) that records every request
(path, headers, protobuf body) and answers with canned protobuf messages or Twirp JSON errors.
Like respx's `assert_all_called`, every registered route must have been called by the end of the test.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from google.protobuf.json_format import MessageToJson
from google.protobuf.message import Message
from livekit import api

from integrations.errors import (
    NotConfiguredError,
    NotFoundError,
    RequestError,
    TransientError,
    WebhookSignatureError,
)
from integrations.livekit import (
    EgressEnded,
    LiveKitClient,
    LiveKitEvent,
    ParticipantJoined,
    ParticipantLeft,
    RoomStarted,
    S3Storage,
)

KEY = "devkey"
SECRET = "a-dev-secret-that-is-at-least-32-bytes-long"


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes

    def claims(self) -> dict[str, Any]:
        """The JWT the SDK minted for this call, verified with our secret."""
        scheme, _, token = self.headers["Authorization"].partition(" ")
        assert scheme == "Bearer"
        return jwt.decode(token, SECRET, algorithms=["HS256"], issuer=KEY)


@dataclass
class FakeTwirp:
    routes: dict[str, list[tuple[int, Message | dict[str, Any]]]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    delay: float = 0.0

    def add(self, method: str, *responses: Message | dict[str, Any], status: int = 200) -> None:
        """Register `/twirp/<method>` answering `responses` in order (the last one repeats)."""
        self.routes.setdefault(f"/twirp/{method}", []).extend((status, r) for r in responses)

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.path == f"/twirp/{method}"]

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append(Call(request.path, dict(request.headers), await request.read()))
        if self.delay:
            await asyncio.sleep(self.delay)
        queue = self.routes.get(request.path)
        if not queue:
            return web.json_response({"code": "bad_route", "msg": f"no route {request.path}"}, status=404)
        status, response = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(response, Message):
            return web.Response(body=response.SerializeToString(), content_type="application/protobuf")
        return web.json_response(response, status=status)

    def assert_all_called(self) -> None:
        missing = set(self.routes) - {c.path for c in self.calls}
        assert not missing, f"routes never called: {sorted(missing)}"


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
async def client(twirp: tuple[FakeTwirp, str]) -> AsyncIterator[LiveKitClient]:
    lk = LiveKitClient(twirp[1], KEY, SECRET, timeout=2)
    yield lk
    await lk.aclose()


STORAGE = S3Storage(
    endpoint="https://abcd.storage.supabase.co/storage/v1/s3",
    region="eu-west-3",
    bucket="recordings",
    access_key="s3-access",
    secret="s3-secret",
)


# ------------------------------------------------------------------------------------------ rooms


async def test_create_room(twirp: tuple[FakeTwirp, str], client: LiveKitClient) -> None:
    fake, _ = twirp
    fake.add(
        "livekit.RoomService/CreateRoom",
        api.Room(
            sid="RM_1",
            name="foxeo-42",
            empty_timeout=300,
            departure_timeout=20,
            max_participants=4,
            creation_time=1767261600,
            metadata='{"meeting_id":"m-42"}',
        ),
    )

    room = await client.create_room("foxeo-42", empty_timeout=300, max_participants=4, metadata={"meeting_id": "m-42"})

    (call,) = fake.called("livekit.RoomService/CreateRoom")
    assert call.headers["Content-Type"] == "application/protobuf"
    sent = api.CreateRoomRequest.FromString(call.body)
    assert (sent.name, sent.empty_timeout, sent.departure_timeout) == ("foxeo-42", 300, 20)
    assert sent.max_participants == 4
    assert json.loads(sent.metadata) == {"meeting_id": "m-42"}
    claims = call.claims()
    assert claims["iss"] == KEY
    assert claims["video"]["roomCreate"] is True
    assert room.sid == "RM_1"
    assert room.max_participants == 4
    assert room.created_at == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


async def test_delete_room_and_list_participants(twirp: tuple[FakeTwirp, str], client: LiveKitClient) -> None:
    fake, _ = twirp
    fake.add("livekit.RoomService/DeleteRoom", api.DeleteRoomResponse())
    fake.add(
        "livekit.RoomService/ListParticipants",
        api.ListParticipantsResponse(
            participants=[
                api.ParticipantInfo(
                    sid="PA_1",
                    identity="user-1",
                    name="MiKL",
                    state=api.ParticipantInfo.ACTIVE,
                    joined_at=1767261600,
                    is_publisher=True,
                ),
                api.ParticipantInfo(sid="PA_2", identity="agent-1", kind=api.ParticipantInfo.AGENT),
            ]
        ),
    )

    await client.delete_room("foxeo-42")
    participants = await client.list_participants("foxeo-42")

    (delete,) = fake.called("livekit.RoomService/DeleteRoom")
    assert api.DeleteRoomRequest.FromString(delete.body).room == "foxeo-42"
    assert delete.claims()["video"]["roomCreate"] is True
    (listing,) = fake.called("livekit.RoomService/ListParticipants")
    assert listing.claims()["video"] == {
        "roomAdmin": True,
        "room": "foxeo-42",
        "canPublish": True,
        "canSubscribe": True,
        "canPublishData": True,
    }
    assert [(p.identity, p.state, p.kind) for p in participants] == [
        ("user-1", "ACTIVE", "STANDARD"),
        ("agent-1", "JOINING", "AGENT"),
    ]
    assert participants[0].joined_at == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (404, {"code": "not_found", "msg": "requested room does not exist"}, NotFoundError),
        (400, {"code": "invalid_argument", "msg": "room name is required"}, RequestError),
        (401, {"code": "unauthenticated", "msg": "invalid token"}, RequestError),
        (503, {"code": "unavailable", "msg": "no nodes available"}, TransientError),
        (500, {"code": "internal", "msg": "boom"}, TransientError),
        (429, {"code": "resource_exhausted", "msg": "slow down"}, TransientError),
    ],
)
async def test_twirp_errors(
    twirp: tuple[FakeTwirp, str], client: LiveKitClient, status: int, body: dict[str, Any], error: type[Exception]
) -> None:
    fake, _ = twirp
    fake.add("livekit.RoomService/ListParticipants", body, status=status)
    with pytest.raises(error) as caught:
        await client.list_participants("foxeo-42")
    assert type(caught.value) is error
    if isinstance(caught.value, RequestError):
        assert caught.value.status_code == status
        assert caught.value.vendor_message == body["msg"]


async def test_timeout_is_transient(twirp: tuple[FakeTwirp, str]) -> None:
    fake, url = twirp
    fake.add("livekit.RoomService/DeleteRoom", api.DeleteRoomResponse())
    fake.delay = 1.0
    lk = LiveKitClient(url, KEY, SECRET, timeout=0.1)
    with pytest.raises(TransientError):
        await lk.delete_room("foxeo-42")
    await lk.aclose()


async def test_connection_refused_is_transient() -> None:
    lk = LiveKitClient("http://127.0.0.1:1", KEY, SECRET, timeout=2)
    with pytest.raises(TransientError):
        await lk.create_room("foxeo-42")
    await lk.aclose()


@pytest.mark.parametrize(
    ("url", "key", "secret", "setting"),
    [
        (None, KEY, SECRET, "LIVEKIT_URL"),
        ("http://x", None, SECRET, "LIVEKIT_API_KEY"),
        ("http://x", KEY, "", "LIVEKIT_API_SECRET"),
    ],
)
async def test_not_configured(url: str | None, key: str | None, secret: str | None, setting: str) -> None:
    lk = LiveKitClient(url, key, secret)
    assert not lk.configured
    with pytest.raises(NotConfiguredError) as caught:
        await lk.create_room("foxeo-42")
    assert caught.value.setting == setting


def test_tokens_and_webhooks_need_key_and_secret_only() -> None:
    lk = LiveKitClient(None, None, SECRET)
    with pytest.raises(NotConfiguredError, match="LIVEKIT_API_KEY"):
        lk.join_token("r", "u", "client")
    with pytest.raises(NotConfiguredError, match="LIVEKIT_API_KEY"):
        lk.parse_webhook(b"{}", "x")
    assert LiveKitClient(None, KEY, SECRET).join_token("r", "u", "client")


# ----------------------------------------------------------------------------------------- tokens


def test_operator_token_grants() -> None:
    token = LiveKitClient(None, KEY, SECRET).join_token(
        "foxeo-42", "user-1", "operator", name="MiKL", metadata={"role": "operator"}, ttl=timedelta(minutes=30)
    )
    claims = api.TokenVerifier(KEY, SECRET).verify(token)
    assert claims.identity == "user-1"
    assert claims.name == "MiKL"
    assert json.loads(claims.metadata) == {"role": "operator"}
    assert claims.video is not None
    video = claims.video
    assert (video.room_join, video.room) == (True, "foxeo-42")
    assert video.room_admin is True and video.room_record is True
    assert video.can_publish and video.can_subscribe
    raw = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert raw["exp"] - raw["nbf"] == 30 * 60


def test_client_token_grants() -> None:
    token = LiveKitClient(None, KEY, SECRET).join_token("foxeo-42", "user-9", "client")
    raw = jwt.decode(token, SECRET, algorithms=["HS256"], issuer=KEY)
    assert raw["sub"] == "user-9"
    assert raw["video"] == {
        "roomJoin": True,
        "room": "foxeo-42",
        "canPublish": True,
        "canSubscribe": True,
        "canPublishData": True,
        "canUpdateOwnMetadata": False,
    }
    assert raw["exp"] - raw["nbf"] == 3600  # default TTL: one hour


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(hours=-1), timedelta(hours=7)])
def test_token_ttl_bounds(ttl: timedelta) -> None:
    with pytest.raises(ValueError):
        LiveKitClient(None, KEY, SECRET).join_token("foxeo-42", "u", "client", ttl=ttl)


# ------------------------------------------------------------------------------ recordings, agent


def egress_info(status: int, **extra: Any) -> api.EgressInfo:
    return api.EgressInfo(
        egress_id="EG_1",
        room_id="RM_1",
        room_name="foxeo-42",
        status=status,  # type: ignore[arg-type]
        started_at=1767261600_000_000_000,
        **extra,
    )


async def test_start_and_stop_recording(twirp: tuple[FakeTwirp, str], client: LiveKitClient) -> None:
    fake, _ = twirp
    fake.add("livekit.Egress/StartRoomCompositeEgress", egress_info(api.EGRESS_STARTING))
    done = egress_info(
        api.EGRESS_COMPLETE,
        ended_at=1767265200_000_000_000,
        file_results=[
            api.FileInfo(
                filename="recordings/foxeo-42/2026-01-01T100000.mp4",
                size=52_428_800,
                duration=3600_000_000_000,
                started_at=1767261600_000_000_000,
                ended_at=1767265200_000_000_000,
                location="https://abcd.storage.supabase.co/storage/v1/s3/recordings/recordings/foxeo-42/x.mp4",
            )
        ],
    )
    fake.add("livekit.Egress/StopEgress", done)

    started = await client.start_recording("foxeo-42", STORAGE, audio_only=True, file_type="ogg")
    stopped = await client.stop_recording(started.egress_id)

    (start,) = fake.called("livekit.Egress/StartRoomCompositeEgress")
    assert start.claims()["video"]["roomRecord"] is True
    sent = api.RoomCompositeEgressRequest.FromString(start.body)
    assert (sent.room_name, sent.layout, sent.audio_only) == ("foxeo-42", "grid", True)
    (output,) = sent.file_outputs
    assert output.file_type == api.EncodedFileType.OGG
    assert output.filepath == "recordings/{room_name}/{time}"
    s3 = output.s3
    assert (s3.endpoint, s3.region, s3.bucket) == (STORAGE.endpoint, "eu-west-3", "recordings")
    assert (s3.access_key, s3.secret, s3.force_path_style) == ("s3-access", "s3-secret", True)
    assert started.status == "EGRESS_STARTING"
    assert started.started_at == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    (stop,) = fake.called("livekit.Egress/StopEgress")
    assert api.StopEgressRequest.FromString(stop.body).egress_id == "EG_1"
    assert stopped.status == "EGRESS_COMPLETE"
    (recording,) = stopped.files
    assert recording.location.endswith("/x.mp4")
    assert recording.duration_seconds == 3600
    assert recording.size == 52_428_800


async def test_list_egress_follows_pages(twirp: tuple[FakeTwirp, str], client: LiveKitClient) -> None:
    fake, _ = twirp
    fake.add(
        "livekit.Egress/ListEgress",
        api.ListEgressResponse(items=[egress_info(api.EGRESS_ACTIVE)], next_page_token=api.TokenPagination(token="p2")),
        api.ListEgressResponse(items=[egress_info(api.EGRESS_FAILED, error="upload failed")]),
    )

    items = await client.list_egress("foxeo-42", active=False)

    calls = fake.called("livekit.Egress/ListEgress")
    first, second = (api.ListEgressRequest.FromString(c.body) for c in calls)
    assert (first.room_name, first.page_token.token) == ("foxeo-42", "")
    assert second.page_token.token == "p2"
    assert [(i.status, i.error) for i in items] == [("EGRESS_ACTIVE", ""), ("EGRESS_FAILED", "upload failed")]


async def test_dispatch_agent(twirp: tuple[FakeTwirp, str], client: LiveKitClient) -> None:
    fake, _ = twirp
    fake.add(
        "livekit.AgentDispatchService/CreateDispatch",
        api.AgentDispatch(id="AD_1", agent_name="speech-processing", room="foxeo-42", metadata="{}"),
    )

    dispatch = await client.dispatch_agent("foxeo-42", "speech-processing", metadata={})

    (call,) = fake.called("livekit.AgentDispatchService/CreateDispatch")
    sent = api.CreateAgentDispatchRequest.FromString(call.body)
    assert (sent.agent_name, sent.room, sent.metadata) == ("speech-processing", "foxeo-42", "{}")
    assert call.claims()["video"]["roomAdmin"] is True
    assert call.claims()["video"]["room"] == "foxeo-42"
    assert (dispatch.id, dispatch.agent_name) == ("AD_1", "speech-processing")


# --------------------------------------------------------------------------------------- webhooks


def signed(body: str, key: str = KEY, secret: str = SECRET, ttl: timedelta = timedelta(minutes=5)) -> str:
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    return api.AccessToken(key, secret).with_sha256(digest).with_ttl(ttl).to_jwt()


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_webhook_fixture_room_started(fixture_json: Callable[[str], Any]) -> None:
    recorded = fixture_json("livekit_webhook_room_started.json")
    body = recorded["_raw_body"]
    lk = LiveKitClient(None, "myapikey", "thiskeyistotallyunsafe")  # the SDK test's credentials

    event = lk.parse_webhook(body.encode(), signed(body, "myapikey", "thiskeyistotallyunsafe"))

    assert isinstance(event, RoomStarted)
    assert event.id == "EV_eugWmGhovZmm"
    assert event.created_at == datetime.fromtimestamp(1692985556, UTC)
    assert (event.room.sid, event.room.name) == ("RM_hycBMAjmt6Ub", "Demo Room")
    assert event.room.empty_timeout == 300
    assert event.room.created_at == datetime.fromtimestamp(1692627281, UTC)


def test_webhook_egress_ended_and_participants() -> None:
    lk = LiveKitClient(None, KEY, SECRET)
    info = egress_info(
        api.EGRESS_COMPLETE,
        file_results=[
            api.FileInfo(filename="a.mp4", location="https://s3.example/recordings/a.mp4", duration=5_000_000_000)
        ],
    )
    body = MessageToJson(api.WebhookEvent(event="egress_ended", id="EV_2", created_at=1767265200, egress_info=info))
    ended = lk.parse_webhook(body, signed(body))
    assert isinstance(ended, EgressEnded)
    assert ended.egress.status == "EGRESS_COMPLETE"
    assert ended.egress.files[0].location == "https://s3.example/recordings/a.mp4"
    assert ended.egress.files[0].duration_seconds == 5

    room = api.Room(sid="RM_1", name="foxeo-42")
    who = api.ParticipantInfo(sid="PA_1", identity="user-1", state=api.ParticipantInfo.ACTIVE)
    for name, cls in [
        ("participant_joined", ParticipantJoined),
        ("participant_left", ParticipantLeft),
        ("participant_connection_aborted", ParticipantLeft),
    ]:
        body = MessageToJson(api.WebhookEvent(event=name, id="EV_3", room=room, participant=who))
        event = lk.parse_webhook(body, signed(body))
        assert isinstance(event, cls)
        assert event.participant is not None and event.participant.identity == "user-1"
        assert event.room is not None and event.room.name == "foxeo-42"

    body = json.dumps(
        {
            "event": "track_published",
            "id": "EV_4",
            "room": {"sid": "RM_1", "name": "foxeo-42"},
            "track": {"sid": "TR_1"},
            "someFutureField": 1,
        }
    )
    other = lk.parse_webhook(body, signed(body))
    assert type(other) is LiveKitEvent
    assert other.event == "track_published"


def test_webhook_accepts_bearer_prefix() -> None:
    body = json.dumps({"event": "room_finished", "id": "EV_5", "room": {"sid": "RM_1", "name": "r"}})
    event = LiveKitClient(None, KEY, SECRET).parse_webhook(body, f"Bearer {signed(body)}")
    assert event.event == "room_finished"


@pytest.mark.parametrize("case", ["tampered", "wrong_secret", "wrong_key", "missing", "expired", "no_hash", "garbage"])
def test_webhook_rejected(case: str) -> None:
    body = json.dumps({"event": "room_started", "id": "EV_1", "room": {"sid": "RM_1", "name": "foxeo-42"}})
    header: str | None = {
        "tampered": signed(body),
        "wrong_secret": signed(body, secret="another-secret-that-is-32-bytes-long!!"),
        "wrong_key": signed(body, key="otherkey"),
        "missing": None,
        "expired": signed(body, ttl=timedelta(minutes=-5)),
        "no_hash": api.AccessToken(KEY, SECRET).to_jwt(),
        "garbage": "not-a-jwt",
    }[case]
    if case == "tampered":
        body = body.replace("foxeo-42", "foxeo-43")
    with pytest.raises(WebhookSignatureError):
        LiveKitClient(None, KEY, SECRET).parse_webhook(body.encode(), header)
