"""The pre-visio link: a signed, expiring token naming exactly one appointment of one client, so a
prospect without an account reaches their own waiting-room form and nothing else."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from uuid import UUID

from services.agenda.errors import PrevisioLinkInvalid
from services.agenda.schemas import AppointmentRead, PrevisioLink
from services.core.settings import Settings

# The link stays valid a day after the appointment ends (a late prospect, a rejoin after a drop).
GRACE = timedelta(days=1)
_PURPOSE = b"foxeo-previsio-v1"


def _signature(key: bytes, body: str) -> str:
    digest = hmac.new(key, _PURPOSE + b"|" + body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(settings: Settings, appointment: AppointmentRead) -> PrevisioLink:
    expires = int((appointment.ends_at + GRACE).timestamp())
    body = f"{appointment.id}.{appointment.client_id}.{expires}"
    token = f"{body}.{_signature(settings.signing_key(), body)}"
    base = (settings.previsio_url or f"{settings.public_base_url.rstrip('/')}/previsio").rstrip("/")
    return PrevisioLink(url=f"{base}/{token}", expires_at=datetime.fromtimestamp(expires, UTC))


def verify(settings: Settings, token: str, *, now: datetime | None = None) -> tuple[UUID, UUID]:
    """(appointment id, client id) of a genuine, unexpired token; 401 otherwise (nothing told why)."""
    parts = token.split(".")
    if len(parts) != 4:
        raise PrevisioLinkInvalid("this pre-visio link is not valid")
    body, signature = ".".join(parts[:3]), parts[3]
    if not hmac.compare_digest(_signature(settings.signing_key(), body).encode(), signature.encode()):
        raise PrevisioLinkInvalid("this pre-visio link is not valid")
    try:  # signed by us, so well formed; parsed defensively all the same
        appointment_id, client_id, expires = UUID(parts[0]), UUID(parts[1]), int(parts[2])
    except ValueError:
        raise PrevisioLinkInvalid("this pre-visio link is not valid") from None
    if (now or datetime.now(UTC)).timestamp() > expires:
        raise PrevisioLinkInvalid("this pre-visio link has expired: ask for a new one")
    return appointment_id, client_id
