"""LiveKit / OpenVidu webhooks: verified on the raw body, applied once per event id."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import Db
from api.problems import responses
from api.webhooks.ack import WebhookAck
from integrations.errors import WebhookSignatureError
from integrations.livekit import LiveKitClient
from services.core.context import request_id_var
from services.core.errors import Unauthorized
from services.core.queue import Resources
from services.meetings.events import apply_livekit_event

router = APIRouter(prefix="/webhooks", tags=["webhooks"], max_body_size=1024 * 1024)


@router.post("/livekit", response_model=WebhookAck, responses=responses(401, 503))
async def livekit_webhook(request: Request, db: Db) -> WebhookAck:
    """Receive a LiveKit event (JWT in `Authorization`, its `sha256` claim the body's hash)."""
    resources: Resources = request.app.state.job_context.resources
    livekit = resources.get(LiveKitClient)
    body = await request.body()
    try:  # the signature, the body hash and the token's expiry, before anything is read or written
        event = livekit.parse_webhook(body, request.headers.get("authorization"))
    except WebhookSignatureError as exc:
        raise Unauthorized(f"webhook rejected: {exc.message}") from exc
    async with db.service_session(request_id_var.get()) as session:
        applied = await apply_livekit_event(session, event)
    return WebhookAck(duplicate=not applied)
