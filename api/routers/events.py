"""Realtime without Supabase: my new chat messages and notifications as Server-Sent Events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Request
from starlette.responses import StreamingResponse

from api.deps import CurrentUser, Db
from api.problems import responses
from services.events.broker import EventBroker
from services.events.stream import sse_stream

router = APIRouter(prefix="/events", tags=["events"])

_DESCRIPTION = """`text/event-stream` of what I may read, as it is committed:
`message.created`, `message.updated`, `message.deleted` (data: a chat MessageRead) and
`notification.created` (data: a NotificationRead). `ready` (data: `{resumed, replayed, reset}`) follows
the resume; `reset` means too much was missed: reload through the REST endpoints; `close` and
`reauthenticate` end the stream (reconnect, with a fresh token for the latter). Comments (`: ping`)
are heartbeats. Event ids are resume cursors: reconnect with `Last-Event-ID` to receive what was
committed meanwhile (an event may then come twice: dedupe on its `id` and `version`). Send the token
as `Authorization: Bearer` (browsers: a fetch-based EventSource such as @microsoft/fetch-event-source)."""


_STREAM: dict[int | str, dict[str, Any]] = {
    200: {"description": "The event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}
}


class EventStream(StreamingResponse):
    """Pre-formatted SSE frames: each event is encoded once and shared by every stream that receives
    it (FastAPI's own EventSourceResponse would re-encode it per stream)."""

    media_type = "text/event-stream"


@router.get(
    "",
    response_class=EventStream,
    response_model=None,
    description=_DESCRIPTION,
    responses={**responses(401, 503), **_STREAM},
)
async def stream_events(
    request: Request,
    principal: CurrentUser,
    db: Db,
    last_event_id: str | None = Header(None, alias="Last-Event-ID", max_length=40),
) -> EventStream:
    """Stream my new chat messages and notifications (Server-Sent Events)."""
    broker: EventBroker = request.app.state.events
    broker.check_open()
    return EventStream(
        sse_stream(broker, db, principal, last_event_id),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
