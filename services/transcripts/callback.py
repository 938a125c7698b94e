"""Deepgram callback URLs: `…/webhooks/deepgram/<token>`, the token ours — bound to one transcript,
expiring, HMAC-signed with the API's signing key. Deepgram stopped sending its `dg-token` header
(integrations-reference §5.1), so the URL is what authenticates a callback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from uuid import UUID

from services.core.errors import Unauthorized


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, b"deepgram-callback:" + payload.encode(), hashlib.sha256).digest())


def callback_token(key: bytes, transcript_id: UUID, ttl_seconds: int, *, now: float | None = None) -> str:
    payload = f"{transcript_id}.{int((now or time.time()) + ttl_seconds)}"
    return f"{_b64(payload.encode())}.{_mac(key, payload)}"


def verify_callback_token(key: bytes, token: str, *, now: float | None = None) -> UUID:
    """The transcript the token was made for; 401 when it is not ours, edited or expired."""
    encoded, _, mac = token.partition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        transcript, _, expires = payload.partition(".")
        transcript_id, expires_at = UUID(transcript), int(expires)
    except ValueError:
        raise Unauthorized("callback token is not valid") from None
    if not mac or not hmac.compare_digest(mac, _mac(key, payload)):
        raise Unauthorized("callback token is not valid")
    if expires_at < (now or time.time()):
        raise Unauthorized("callback token has expired")
    return transcript_id
