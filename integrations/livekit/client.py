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
from datetime import timedelta
from typing import Any, Literal, TypeVar

import aiohttp
import jwt
from google.protobuf.json_format import Parse as parse_proto_json
from google.protobuf.json_format import ParseError
from livekit import api

from integrations.errors import (
    IntegrationError,
    NotConfiguredError,
    NotFoundError,
    RequestError,
    TransientError,
    WebhookSignatureError,
)
from integrations.livekit.models import (
    AgentDispatchInfo,
    EgressInfo,
    LiveKitEvent,
    ParticipantInfo,
    RoomInfo,
    S3Storage,
    event_from_proto,
)

VENDOR = "livekit"
ParticipantRole = Literal["operator", "client"]
DEFAULT_TOKEN_TTL = timedelta(hours=1)
MAX_TOKEN_TTL = timedelta(hours=6)  # the SDK's own default; join tokens are only needed to connect
MAX_EGRESS_PAGES = 50
T = TypeVar("T")

# Twirp error codes -> HTTP statuses (twitchtv/twirp spec); transient ones become TransientError.
TWIRP_STATUS = {
    "invalid_argument": 400,
    "malformed": 400,
    "out_of_range": 400,
    "bad_route": 404,
    "not_found": 404,
    "unauthenticated": 401,
    "permission_denied": 403,
    "already_exists": 409,
    "aborted": 409,
    "failed_precondition": 412,
    "unimplemented": 501,
    "resource_exhausted": 429,
    "canceled": 408,
    "deadline_exceeded": 504,
    "internal": 500,
    "unknown": 500,
    "unavailable": 503,
    "dataloss": 500,
}
TRANSIENT_TWIRP_CODES = frozenset(
    {"resource_exhausted", "canceled", "deadline_exceeded", "internal", "unavailable", "dataloss"}
)


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
            self._api = api.LiveKitAPI(
                self.url, key, secret, session=self._session, timeout=aiohttp.ClientTimeout(total=self.timeout)
            )
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
        request = api.CreateRoomRequest(
            name=name,
            empty_timeout=empty_timeout,
            departure_timeout=departure_timeout,
            max_participants=max_participants,
            metadata=_metadata(metadata),
        )
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
            room_join=True,
            room=room,
            can_publish=True,
            can_subscribe=True,
            can_publish_data=True,
            room_admin=True if operator else None,
            room_record=True if operator else None,
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
            s3=api.S3Upload(
                access_key=storage.access_key,
                secret=storage.secret,
                region=storage.region,
                endpoint=storage.endpoint,
                bucket=storage.bucket,
                force_path_style=storage.force_path_style,
            ),
        )
        request = api.RoomCompositeEgressRequest(
            room_name=room, layout=layout, audio_only=audio_only, file_outputs=[output]
        )
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
        request = api.CreateAgentDispatchRequest(agent_name=agent_name, room=room, metadata=_metadata(metadata))
        dispatch = await self._call(lk.agent_dispatch.create_dispatch(request))
        return AgentDispatchInfo(
            id=dispatch.id, agent_name=dispatch.agent_name, room=dispatch.room, metadata=dispatch.metadata
        )

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
