"""One user's Server-Sent Events stream: resume from the database, then live events from the broker.

Event ids are resume cursors, not row ids. Each write records the xmin of its snapshot (the oldest
transaction still running then); every transaction that commits after it was running then or started
later, so its id is at least that xmin. NOTIFY delivers in commit order, hence after a stream sent an
event with cursor C, everything it has not sent yet was written by a transaction >= C: a reconnect
with `Last-Event-ID: C` replays, under the user's RLS, every row written by transactions >= C (a few
already seen may come again: clients dedupe on the row's `id` and `version`). The stream holds no
database connection while it waits: the resume runs in one short user transaction before streaming.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator

import orjson

from services.chat import service as chat
from services.core.auth import Principal
from services.core.db import Database
from services.core.errors import Unauthorized
from services.events.broker import Closed, Event, EventBroker, frame, message_event, notification_event
from services.notifications import service as notifications

HEARTBEAT_SECONDS = 15.0
RETRY_MS = 3000
REPLAY_LIMIT = 500
_CURSOR = re.compile(r"^[0-9]{1,20}$")


def parse_cursor(last_event_id: str | None) -> int | None:
    value = (last_event_id or "").strip()
    return int(value) if _CURSOR.match(value) and int(value) < 2**63 else None


async def _replay(db: Database, principal: Principal, cursor: int | None) -> tuple[str, list[Event] | None]:
    """The horizon (the new cursor once the replay is sent) and the events since `cursor`; None when
    there are more than REPLAY_LIMIT (the client must reload instead)."""
    async with db.user_session(principal) as session:
        # Taken before the replay reads: anything committed after the reads is live (subscribed).
        horizon = str(await session.fetchval("select pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))
        if cursor is None:
            return horizon, []
        messages = await chat.changed_since(session, cursor, REPLAY_LIMIT + 1)
        notes = await notifications.changed_since(session, cursor, REPLAY_LIMIT + 1)
    if len(messages) + len(notes) > REPLAY_LIMIT:
        return horizon, None
    return horizon, [message_event(r, None) for r in messages] + [notification_event(r, None) for r in notes]


async def sse_stream(
    broker: EventBroker,
    db: Database,
    principal: Principal,
    last_event_id: str | None,
    *,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[bytes]:
    subscriber = broker.subscribe(principal)  # before the replay, so nothing falls in between
    try:
        cursor = parse_cursor(last_event_id)
        try:
            horizon, replayed = await _replay(db, principal, cursor)
        except Unauthorized:  # the token's user was deleted: the response has started, say it in-band
            yield frame("reauthenticate", '{"reason":"user_not_found"}')
            return
        yield f"retry: {RETRY_MS}\n\n".encode()
        seen: dict[tuple[str, object], int] = {}
        if replayed is None:
            yield frame("reset", '{"reason":"too_far_behind"}')
        else:
            for event in replayed:
                seen[event.key] = event.version
                yield event.frame
        ready = {"resumed": cursor is not None, "replayed": len(replayed or []), "reset": replayed is None}
        yield frame("ready", orjson.dumps(ready).decode(), horizon)
        expires = float(principal.claims.get("exp", time.time() + 3600))
        while True:
            remaining = expires - time.time()
            if remaining <= 0:
                yield frame("reauthenticate", '{"reason":"token_expired"}')
                return
            try:
                item = await asyncio.wait_for(subscriber.queue.get(), min(heartbeat, remaining))
            except TimeoutError:
                yield b": ping\n\n"
                continue
            if isinstance(item, Closed):
                yield frame("close", orjson.dumps({"reason": item.reason}).decode())
                return
            if seen and seen.get(item.key, 0) >= item.version:
                continue  # already sent by the replay
            yield item.frame
    finally:
        broker.unsubscribe(subscriber)
