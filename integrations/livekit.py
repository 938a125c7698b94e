"""OpenVidu 3 through the LiveKit server API (`livekit-api`): rooms, join tokens, recordings, agent, webhooks.

The SDK speaks Twirp over aiohttp (not httpx): one `aiohttp.ClientSession`, created lazily inside the
running loop and closed by `aclose()`. Every SDK failure leaves this module as one of our errors.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

import aiohttp
import jwt
from google.protobuf.json_format import Parse as parse_proto_json
from google.protobuf.json_format import ParseError
from livekit import api
from pydantic import BaseModel, ConfigDict, Field

from integrations.errors import (
    IntegrationError,
    NotConfiguredError,
    NotFoundError,
    RequestError,
    TransientError,
    WebhookSignatureError,
)

VENDOR = "livekit"
ParticipantRole = Literal["operator", "client"]
DEFAULT_TOKEN_TTL = timedelta(hours=1)
MAX_TOKEN_TTL = timedelta(hours=6)  # the SDK's own default; join tokens are only needed to connect
MAX_EGRESS_PAGES = 50
T = TypeVar("T")

# Twirp error codes -> HTTP statuses (twitchtv/twirp spec); transient ones become TransientError.
TWIRP_STATUS = {
    "invalid_argument": 400, "malformed": 400, "out_of_range": 400, "bad_route": 404, "not_found": 404,
    "unauthenticated": 401, "permission_denied": 403, "already_exists": 409, "aborted": 409,
    "failed_precondition": 412, "unimplemented": 501, "resource_exhausted": 429, "canceled": 408,
    "deadline_exceeded": 504, "internal": 500, "unknown": 500, "unavailable": 503, "dataloss": 500,
}
TRANSIENT_TWIRP_CODES = frozenset({"resource_exhausted", "canceled", "deadline_exceeded", "internal",
                                   "unavailable", "dataloss"})


@dataclass(frozen=True)
class S3Storage:
    """An S3-compatible bucket for recordings, e.g. Supabase Storage's S3 endpoint
    (`https://<ref>.storage.supabase.co/storage/v1/s3`, path style; its keys bypass RLS)."""

    endpoint: str
    region: str
    bucket: str
    access_key: str
    secret: str = field(repr=False)
    force_path_style: bool = True


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


def _from_seconds(value: int) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value > 0 else None


def _from_ns(value: int) -> datetime | None:
    return datetime.fromtimestamp(value / 1e9, UTC) if value > 0 else None


def _enum_name(enum: Any, value: int) -> str:
    try:
        return str(enum.Name(value))
    except ValueError:  # a value newer than our livekit-protocol
        return str(value)


class RoomInfo(_Model):
    sid: str
    name: str
    empty_timeout: int = 0
    departure_timeout: int = 0
    max_participants: int = 0
    metadata: str = ""
    num_participants: int = 0
    active_recording: bool = False
    created_at: datetime | None = None

    @classmethod
    def from_proto(cls, room: api.Room) -> RoomInfo:
        return cls(sid=room.sid, name=room.name, empty_timeout=room.empty_timeout,
                   departure_timeout=room.departure_timeout, max_participants=room.max_participants,
                   metadata=room.metadata, num_participants=room.num_participants,
                   active_recording=room.active_recording, created_at=_from_seconds(room.creation_time))


class ParticipantInfo(_Model):
    sid: str
    identity: str
    name: str = ""
    state: str = ""  # JOINING | JOINED | ACTIVE | DISCONNECTED
    kind: str = ""  # STANDARD | AGENT | EGRESS | ...
    metadata: str = ""
    is_publisher: bool = False
    joined_at: datetime | None = None

    @classmethod
    def from_proto(cls, p: api.ParticipantInfo) -> ParticipantInfo:
        return cls(sid=p.sid, identity=p.identity, name=p.name,
                   state=_enum_name(api.ParticipantInfo.State, p.state),
                   kind=_enum_name(api.ParticipantInfo.Kind, p.kind), metadata=p.metadata,
                   is_publisher=p.is_publisher, joined_at=_from_seconds(p.joined_at))


class RecordingFile(_Model):
    filename: str
    location: str  # final object URL in the bucket
    size: int = 0
    duration_seconds: float = 0.0
    started_at: datetime | None = None
    ended_at: datetime | None = None


class EgressInfo(_Model):
    egress_id: str
    room_name: str = ""
    room_id: str = ""
    status: str  # EGRESS_STARTING | EGRESS_ACTIVE | EGRESS_ENDING | EGRESS_COMPLETE | EGRESS_FAILED | ...
    started_at: datetime | None = None
    ended_at: datetime | None = None
    updated_at: datetime | None = None
    error: str = ""
    error_code: int = 0
    files: list[RecordingFile] = Field(default_factory=list)

    @classmethod
    def from_proto(cls, info: api.EgressInfo) -> EgressInfo:
        results = list(info.file_results)
        if not results and info.HasField("file"):  # deprecated single-file field of older servers
            results = [info.file]
        files = [RecordingFile(filename=f.filename, location=f.location, size=f.size,
                               duration_seconds=f.duration / 1e9, started_at=_from_ns(f.started_at),
                               ended_at=_from_ns(f.ended_at)) for f in results]
        return cls(egress_id=info.egress_id, room_name=info.room_name, room_id=info.room_id,
                   status=_enum_name(api.EgressStatus, info.status), started_at=_from_ns(info.started_at),
                   ended_at=_from_ns(info.ended_at), updated_at=_from_ns(info.updated_at), error=info.error,
                   error_code=info.error_code, files=files)


class AgentDispatchInfo(_Model):
    id: str
    agent_name: str
    room: str
    metadata: str = ""


class LiveKitEvent(_Model):
    """Any verified webhook; the subclasses type the ones Foxeo acts on. `id` is the idempotency key."""

    event: str
    id: str
    created_at: datetime | None = None
    room: RoomInfo | None = None
    participant: ParticipantInfo | None = None
    egress: EgressInfo | None = None


class RoomStarted(LiveKitEvent):
    event: Literal["room_started"]
    room: RoomInfo


class RoomFinished(LiveKitEvent):
    event: Literal["room_finished"]
    room: RoomInfo


class ParticipantJoined(LiveKitEvent):
    event: Literal["participant_joined"]
    participant: ParticipantInfo


class ParticipantLeft(LiveKitEvent):
    event: Literal["participant_left", "participant_connection_aborted"]
    participant: ParticipantInfo


class EgressStarted(LiveKitEvent):
    event: Literal["egress_started"]
    egress: EgressInfo


class EgressUpdated(LiveKitEvent):
    event: Literal["egress_updated"]
    egress: EgressInfo


class EgressEnded(LiveKitEvent):
    event: Literal["egress_ended"]
    egress: EgressInfo


EVENT_TYPES: dict[str, type[LiveKitEvent]] = {
    "room_started": RoomStarted, "room_finished": RoomFinished, "participant_joined": ParticipantJoined,
    "participant_left": ParticipantLeft, "participant_connection_aborted": ParticipantLeft,
    "egress_started": EgressStarted, "egress_updated": EgressUpdated, "egress_ended": EgressEnded,
}


def event_from_proto(event: api.WebhookEvent) -> LiveKitEvent:
    fields: dict[str, Any] = {"event": event.event, "id": event.id,
                              "created_at": _from_seconds(event.created_at)}
    if event.HasField("room"):
        fields["room"] = RoomInfo.from_proto(event.room)
    if event.HasField("participant"):
        fields["participant"] = ParticipantInfo.from_proto(event.participant)
    if event.HasField("egress_info"):
        fields["egress"] = EgressInfo.from_proto(event.egress_info)
    cls = EVENT_TYPES.get(event.event, LiveKitEvent)
    try:
        return cls.model_validate(fields)
    except ValueError:  # a known event without its object: keep it, untyped
        return LiveKitEvent.model_validate(fields)


def map_twirp_error(exc: api.TwirpError) -> IntegrationError:
    code = exc.code or "unknown"
    status = TWIRP_STATUS.get(code) or exc.status or 500
    message = f"{code}: {exc.message}" if exc.message else code
    if code in TRANSIENT_TWIRP_CODES or status >= 500:
        return TransientError(VENDOR, message, status_code=exc.status or status)
    cls = NotFoundError if code == "not_found" else RequestError  # bad_route: an endpoint, not an object
    return cls(VENDOR, status, exc.message or code, {"code": code, "msg": exc.message, "meta": exc.metadata})


def _metadata(value: str | Mapping[str, Any] | None) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


class LiveKitClient:
    """One per process. Missing settings make only the calls that need them fail (NotConfiguredError)."""

    def __init__(
        self,
        url: str | None,
        api_key: str | None,
        api_secret: str | None,
        *,
        timeout: float = 10.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.url = url or None
        self.api_key = api_key or None
        self.api_secret = api_secret or None
        self.timeout = timeout
        self._session = session
        self._api: api.LiveKitAPI | None = None

    @property
    def configured(self) -> bool:
        return bool(self.url and self.api_key and self.api_secret)

    def _credentials(self) -> tuple[str, str]:
        if not self.api_key:
            raise NotConfiguredError(VENDOR, "LIVEKIT_API_KEY")
        if not self.api_secret:
            raise NotConfiguredError(VENDOR, "LIVEKIT_API_SECRET")
        return self.api_key, self.api_secret

    def _lkapi(self) -> api.LiveKitAPI:
        if not self.url:
            raise NotConfiguredError(VENDOR, "LIVEKIT_URL")
        key, secret = self._credentials()
        if self._api is None:
            self._api = api.LiveKitAPI(self.url, key, secret, session=self._session,
                                       timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._api

    async def aclose(self) -> None:
        if self._api is not None:
            await self._api.aclose()
            self._api = None

    async def _call(self, request: Awaitable[T]) -> T:
        # Our own deadline: livekit-api 1.2.2's TwirpClient passes `timeout=None` on every post, which
        # aiohttp reads as "no timeout", silently overriding the session's ClientTimeout.
        try:
            async with asyncio.timeout(self.timeout):
                return await request
        except api.TwirpError as exc:
            raise map_twirp_error(exc) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientError(VENDOR, f"{type(exc).__name__}: {exc}") from exc

    # ------------------------------------------------------------------------------------ rooms

    async def create_room(
        self,
        name: str,
        *,
        empty_timeout: int = 300,
        departure_timeout: int = 20,
        max_participants: int = 0,
        metadata: str | Mapping[str, Any] | None = None,
    ) -> RoomInfo:
        """Create (or get, LiveKit's CreateRoom is idempotent on the name) a room; 0 = no participant cap."""
        lk = self._lkapi()
        request = api.CreateRoomRequest(name=name, empty_timeout=empty_timeout,
                                        departure_timeout=departure_timeout,
                                        max_participants=max_participants, metadata=_metadata(metadata))
        return RoomInfo.from_proto(await self._call(lk.room.create_room(request)))

    async def delete_room(self, name: str) -> None:
        lk = self._lkapi()
        await self._call(lk.room.delete_room(api.DeleteRoomRequest(room=name)))

    async def list_participants(self, room: str) -> list[ParticipantInfo]:
        lk = self._lkapi()
        response = await self._call(lk.room.list_participants(api.ListParticipantsRequest(room=room)))
        return [ParticipantInfo.from_proto(p) for p in response.participants]

    # ----------------------------------------------------------------------------------- tokens

    def join_token(
        self,
        room: str,
        identity: str,
        role: ParticipantRole,
        *,
        name: str | None = None,
        metadata: str | Mapping[str, Any] | None = None,
        ttl: timedelta = DEFAULT_TOKEN_TTL,
    ) -> str:
        """A JWT to join `room`. Clients may join, publish and subscribe; the operator also administers
        the room (room_admin) and records it (room_record)."""
        key, secret = self._credentials()
        if not timedelta(0) < ttl <= MAX_TOKEN_TTL:
            raise ValueError(f"ttl must be within (0, {MAX_TOKEN_TTL}]")
        if role not in ("operator", "client"):
            raise ValueError(f"unknown role {role!r}")
        operator = role == "operator"
        grants = api.VideoGrants(
            room_join=True, room=room, can_publish=True, can_subscribe=True, can_publish_data=True,
            room_admin=True if operator else None, room_record=True if operator else None,
            can_update_own_metadata=False,
        )
        token = api.AccessToken(key, secret).with_identity(identity).with_grants(grants).with_ttl(ttl)
        if name:
            token = token.with_name(name)
        if metadata is not None:
            token = token.with_metadata(_metadata(metadata))
        return token.to_jwt()

    # ------------------------------------------------------------------------------- recordings

    async def start_recording(
        self,
        room: str,
        storage: S3Storage,
        *,
        filepath: str = "recordings/{room_name}/{time}",
        audio_only: bool = False,
        file_type: Literal["mp4", "ogg"] = "mp4",
        layout: str = "grid",
    ) -> EgressInfo:
        """Start a room-composite recording uploaded to `storage` (`{room_name}`, `{time}` are expanded
        by the egress service; it appends the extension when `filepath` has none)."""
        lk = self._lkapi()
        output = api.EncodedFileOutput(
            file_type=api.EncodedFileType.MP4 if file_type == "mp4" else api.EncodedFileType.OGG,
            filepath=filepath,
            s3=api.S3Upload(access_key=storage.access_key, secret=storage.secret, region=storage.region,
                            endpoint=storage.endpoint, bucket=storage.bucket,
                            force_path_style=storage.force_path_style),
        )
        request = api.RoomCompositeEgressRequest(room_name=room, layout=layout, audio_only=audio_only,
                                                 file_outputs=[output])
        return EgressInfo.from_proto(await self._call(lk.egress.start_room_composite_egress(request)))

    async def stop_recording(self, egress_id: str) -> EgressInfo:
        lk = self._lkapi()
        info = await self._call(lk.egress.stop_egress(api.StopEgressRequest(egress_id=egress_id)))
        return EgressInfo.from_proto(info)

    async def list_egress(self, room: str | None = None, *, active: bool = False) -> list[EgressInfo]:
        lk = self._lkapi()
        items: list[EgressInfo] = []
        page_token = ""
        for _ in range(MAX_EGRESS_PAGES):
            request = api.ListEgressRequest(room_name=room or "", active=active)
            if page_token:
                request.page_token.token = page_token
            response = await self._call(lk.egress.list_egress(request))
            items.extend(EgressInfo.from_proto(info) for info in response.items)
            page_token = response.next_page_token.token if response.HasField("next_page_token") else ""
            if not page_token:
                break
        return items

    # ------------------------------------------------------------------------------------ agent

    async def dispatch_agent(
        self, room: str, agent_name: str, *, metadata: str | Mapping[str, Any] | None = None
    ) -> AgentDispatchInfo:
        """Explicitly dispatch an agent (OpenVidu's speech-processing agent in `manual` mode) to `room`."""
        lk = self._lkapi()
        request = api.CreateAgentDispatchRequest(agent_name=agent_name, room=room,
                                                 metadata=_metadata(metadata))
        dispatch = await self._call(lk.agent_dispatch.create_dispatch(request))
        return AgentDispatchInfo(id=dispatch.id, agent_name=dispatch.agent_name, room=dispatch.room,
                                 metadata=dispatch.metadata)

    # --------------------------------------------------------------------------------- webhooks

    def parse_webhook(self, body: bytes | str, authorization: str | None) -> LiveKitEvent:
        """Verify a webhook and type it. `Authorization` is a bare JWT (no `Bearer `) signed with the API
        key/secret whose `sha256` claim is base64(SHA-256(raw body)).

        Same checks as `api.WebhookReceiver`, but the hash is taken over the raw bytes and compared in
        constant time, and every failure is a WebhookSignatureError (the SDK raises bare Exceptions).
        """
        key, secret = self._credentials()
        if not authorization:
            raise WebhookSignatureError(VENDOR, "missing Authorization header")
        token = authorization.strip()
        if token.lower().startswith("bearer "):  # not what LiveKit sends, but harmless to accept
            token = token[7:].strip()
        raw = body.encode() if isinstance(body, str) else body
        try:
            claims = api.TokenVerifier(key, secret).verify(token)
        except (jwt.PyJWTError, ValueError) as exc:
            raise WebhookSignatureError(VENDOR, f"invalid token: {exc}") from exc
        try:
            expected = base64.b64decode(claims.sha256 or "", validate=True)
        except ValueError as exc:
            raise WebhookSignatureError(VENDOR, "malformed sha256 claim") from exc
        if not expected or not hmac.compare_digest(expected, hashlib.sha256(raw).digest()):
            raise WebhookSignatureError(VENDOR, "body hash mismatch")
        try:
            event = parse_proto_json(raw.decode("utf-8"), api.WebhookEvent(), ignore_unknown_fields=True)
        except (ParseError, UnicodeDecodeError) as exc:
            raise WebhookSignatureError(VENDOR, f"unreadable payload: {exc}") from exc
        return event_from_proto(event)
