"""Cal.com webhooks: `X-Cal-Signature-256` verified on the raw body, applied once per delivery."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import ValidationError

from api.deps import Db
from api.problems import responses
from api.webhooks.ack import WebhookAck
from integrations.calcom import SIGNATURE_HEADER, parse_webhook, verify_webhook_signature
from integrations.errors import WebhookSignatureError
from services.agenda.bookings import apply_calcom_event
from services.core.context import request_id_var
from services.core.errors import Unauthorized, Unprocessable
from services.core.settings import Settings

router = APIRouter(prefix="/webhooks", tags=["webhooks"], max_body_size=1024 * 1024)


@router.post("/calcom", response_model=WebhookAck, responses=responses(401, 422, 503))
async def calcom_webhook(request: Request, db: Db) -> WebhookAck:
    """Receive a Cal.com booking or meeting event (hex HMAC-SHA256 of the body in `X-Cal-Signature-256`)."""
    settings: Settings = request.app.state.settings
    secret = settings.calcom_webhook_secret.get_secret_value() if settings.calcom_webhook_secret else None
    body = await request.body()
    try:  # the signature first: nothing is read or written for a forged delivery
        verify_webhook_signature(body, request.headers.get(SIGNATURE_HEADER), secret)
    except WebhookSignatureError as exc:
        raise Unauthorized(f"webhook rejected: {exc.message}") from exc
    try:
        event = parse_webhook(body)
    except (ValueError, ValidationError) as exc:
        raise Unprocessable(f"not a Cal.com webhook payload: {str(exc)[:500]}") from exc
    async with db.service_session(request_id_var.get()) as session:
        applied = await apply_calcom_event(session, settings, event)
    return WebhookAck(duplicate=not applied)
