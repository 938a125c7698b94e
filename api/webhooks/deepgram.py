"""Deepgram callbacks (long recordings): `POST /webhooks/deepgram/{token}`, the token ours — bound to
one transcript and expiring (services/transcripts/callback.py)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request

from api.deps import Db
from api.problems import responses
from api.webhooks.ack import WebhookAck
from integrations.deepgram import parse_transcription
from integrations.errors import IntegrationError
from services.core.context import request_id_var
from services.core.errors import Unauthorized, Unprocessable
from services.transcripts import service
from services.transcripts.callback import verify_callback_token

# An hour of diarized words with their timings is several MB of JSON.
router = APIRouter(prefix="/webhooks", tags=["webhooks"], max_body_size=64 * 1024 * 1024)


@router.post("/deepgram/{token}", response_model=WebhookAck, responses=responses(401, 422))
async def deepgram_callback(request: Request, db: Db, token: str) -> WebhookAck:
    """Receive a transcription Deepgram finished in callback mode."""
    transcript_id = verify_callback_token(request.app.state.settings.signing_key(), token)
    try:
        body: Any = orjson.loads(await request.body())
        result = parse_transcription(body)
    except (orjson.JSONDecodeError, IntegrationError, AttributeError) as exc:
        raise Unprocessable("the callback body is not a Deepgram transcription") from exc
    async with db.service_session(request_id_var.get()) as session:
        state = await service.load_state(session, transcript_id)
        if state.request_id is None or result.request_id != state.request_id:
            raise Unauthorized("the callback answers no request of this transcript")
        stored = await service.store_result(session, transcript_id, result)
    return WebhookAck(duplicate=stored is None)
