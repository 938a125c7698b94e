"""The in-process fan-out of committed chat messages and notifications to open SSE streams.

ONE dedicated connection per process LISTENs on `foxeo_events`. Triggers `pg_notify` at commit with
ids and *who may receive them*, computed by the database at commit time: a notification carries its
recipient; a chat message its client's members (operators receive every client's messages). The
broker routes each event only to streams of those users, reads the rows once (a service read: the
routing already decided who may see them), formats the SSE frame once, and hands the same bytes to
every entitled stream. Nothing is trusted from the subscriber but its verified token.

Events lost while the listening connection is down cannot be recovered from LISTEN: the broker then
closes every stream, and clients resume from the database with `Last-Event-ID` (see stream.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import asyncpg
import orjson

from services.chat import service as chat
from services.core.auth import Principal
from services.core.db import Database, asyncpg_dsn, is_pooler
from services.core.errors import ServiceUnavailable
from services.notifications import service as notifications

log = logging.getLogger(__name__)

CHANNEL = "foxeo_events"
BATCH = 500


@dataclass(frozen=True, slots=True)
class Event:
    key: tuple[str, UUID]
    version: int
    frame: bytes  # the SSE wire format, built once for every stream


def frame(name: str, data: str, event_id: str | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {name}\ndata: {data}\n\n".encode()


def message_event(row: Any, cursor: str | None, version: int | None = None) -> Event:
    version = row["version"] if version is None else version
    name = "message.deleted" if row["deleted"] else "message.created" if version == 1 else "message.updated"
    return Event(("message", row["id"]), version, frame(name, row["json"], cursor))


def notification_event(row: Any, cursor: str | None) -> Event:
    return Event(("notification", row["id"]), 1, frame("notification.created", row["json"], cursor))


class Closed:
    """What a stream receives instead of an event when it must end, and why."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


@dataclass(eq=False)
class Subscriber:
    user_id: UUID
    is_operator: bool
    queue: asyncio.Queue[Event | Closed] = field(repr=False)

    def offer(self, item: Event | Closed) -> bool:
        """False when the stream is too far behind: it is then closed and resumes from the database."""
        try:
            self.queue.put_nowait(item)
            return True
        except asyncio.QueueFull:
            self.close("overflow")
            return False

    def close(self, reason: str) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(Closed(reason))


def listen_dsn(dsn: str) -> str:
    """LISTEN needs a session: on Supavisor, its session mode (port 5432) instead of transaction mode."""
    dsn = asyncpg_dsn(dsn)
    parts = urlsplit(dsn)
    if is_pooler(dsn) and parts.port == 6543:
        netloc = parts.netloc.rsplit(":", 1)[0] + ":5432"
        return urlunsplit(parts._replace(netloc=netloc))
    return dsn


class EventBroker:
    def __init__(
        self, db: Database, dsn: str | None = None, *, queue_size: int = 1000, reconnect_delay: float = 1.0
    ) -> None:
        self._db = db
        self._dsn = listen_dsn(dsn or db.dsn)
        self._queue_size = queue_size
        self._reconnect_delay = reconnect_delay
        self._by_user: dict[UUID, set[Subscriber]] = {}
        self._operators: set[Subscriber] = set()
        self._inbox: asyncio.Queue[str] = asyncio.Queue()
        self._conn: asyncpg.Connection | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._connected = asyncio.Event()
        self._lost = asyncio.Event()
        self._signals: dict[int, Any] = {}
        self.delivered = 0

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        await self._connect()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._dispatch_forever(), name="events-dispatch"),
            loop.create_task(self._watch_connection(), name="events-listen"),
        ]
        self._hook_signals(loop)

    async def stop(self) -> None:
        self.close_streams("shutdown")
        self._unhook_signals()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._conn.close(), 2)
            self._conn = None

    def close_streams(self, reason: str) -> None:
        """End every open stream (shutdown; or events may have been lost and clients must resume)."""
        if reason == "shutdown":
            self._closing = True
        for subscriber in [*self._operators, *(s for subs in self._by_user.values() for s in subs)]:
            subscriber.close(reason)

    async def _connect(self) -> None:
        conn = await asyncpg.connect(self._dsn, server_settings={"application_name": "foxeo-events"})
        await conn.add_listener(CHANNEL, self._on_notify)
        conn.add_termination_listener(self._on_terminated)
        self._conn = conn
        self._lost.clear()
        self._connected.set()

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._inbox.put_nowait(payload)

    def _on_terminated(self, _conn: Any) -> None:
        if not self._closing and self._connected.is_set():
            log.warning("event listener connection lost; streams closed for resume")
            self._connected.clear()
            self._lost.set()
            self.close_streams("reconnect")

    async def _watch_connection(self) -> None:
        """Reconnect the listener after a loss, and probe it so a silent half-open socket is noticed."""
        while True:
            if self._connected.is_set():
                try:
                    await asyncio.wait_for(self._lost.wait(), 15)
                    continue
                except TimeoutError:
                    pass
                try:
                    assert self._conn is not None
                    await asyncio.wait_for(self._conn.execute("select 1"), 5)
                except Exception:
                    if self._conn is not None:
                        self._conn.terminate()
                    self._on_terminated(None)
                continue
            try:
                await self._connect()
                log.info("event listener reconnected")
            except (OSError, asyncpg.PostgresError):
                await asyncio.sleep(self._reconnect_delay)

    # Uvicorn waits for open responses to end before it runs the lifespan shutdown, and an SSE
    # response never ends by itself: chain its SIGINT/SIGTERM handlers to close the streams first.
    def _hook_signals(self, loop: asyncio.AbstractEventLoop) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(sig)
            if not callable(previous):
                continue
            self._signals[sig] = previous

            def handler(signum: int, frame_: Any, previous: Callable[..., Any] = previous) -> None:
                loop.call_soon_threadsafe(self.close_streams, "shutdown")
                previous(signum, frame_)

            signal.signal(sig, handler)

    def _unhook_signals(self) -> None:
        for sig, previous in self._signals.items():
            with contextlib.suppress(ValueError):
                signal.signal(sig, previous)
        self._signals.clear()

    # ------------------------------------------------------------ subscriptions
    def check_open(self) -> None:
        """Refuse new streams once shutting down (a 503 before the response starts)."""
        if self._closing:
            raise ServiceUnavailable("the server is shutting down; reconnect")

    def subscribe(self, principal: Principal) -> Subscriber:
        self.check_open()
        subscriber = Subscriber(principal.user_id, principal.is_operator, asyncio.Queue(self._queue_size))
        if not self._connected.is_set():
            subscriber.close("reconnect")
        self._by_user.setdefault(principal.user_id, set()).add(subscriber)
        if principal.is_operator:
            self._operators.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        subs = self._by_user.get(subscriber.user_id)
        if subs is not None:
            subs.discard(subscriber)
            if not subs:
                del self._by_user[subscriber.user_id]
        self._operators.discard(subscriber)

    @property
    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._by_user.values())

    # ------------------------------------------------------------ dispatch
    async def _dispatch_forever(self) -> None:
        while True:
            batch = [await self._inbox.get()]
            while not self._inbox.empty() and len(batch) < BATCH:
                batch.append(self._inbox.get_nowait())
            try:
                await self._dispatch(batch)
            except Exception:
                # Delivery is best effort per batch; a stream that missed it resumes from the database.
                log.exception("event dispatch failed; streams closed for resume")
                self.close_streams("reconnect")

    def _revoked(self, payload: dict[str, Any]) -> bool:
        """A membership ended: close that user's streams (they may have been entitled to that client's
        events); a reconnect subscribes with what the user may still read. Consumes the payload."""
        if payload.get("t") != "membership_revoked":
            return False
        for subscriber in list(self._by_user.get(UUID(payload["user"]), ())):
            subscriber.close("membership_revoked")
        return True

    def _targets(self, payload: dict[str, Any], members: dict[UUID, list[UUID]]) -> set[Subscriber]:
        if payload.get("t") == "notification":
            return set(self._by_user.get(UUID(payload["user"]), ()))
        if payload.get("t") == "message":
            users = payload.get("to")
            ids = members.get(UUID(payload["client"]), []) if users is None else [UUID(u) for u in users]
            targets = set(self._operators)
            for user_id in ids:
                targets.update(self._by_user.get(user_id, ()))
            return targets
        return set()

    async def _dispatch(self, batch: list[str]) -> None:
        payloads = []
        for raw in batch:
            try:
                payloads.append(orjson.loads(raw))
            except orjson.JSONDecodeError:
                log.warning("ignored malformed event payload")
        payloads = [p for p in payloads if not self._revoked(p)]
        if not self.subscriber_count:
            return
        async with self._db.service_session() as session:
            # Past 100 members the trigger leaves the recipients to us (NOTIFY payloads are bounded).
            big = {UUID(p["client"]) for p in payloads if p.get("t") == "message" and p.get("to") is None}
            members = {c: await notifications.client_member_ids(session, c) for c in big}
            routed = [(p, t) for p in payloads if (t := self._targets(p, members))]
            message_ids = list({UUID(p["id"]) for p, _ in routed if p["t"] == "message"})
            notification_ids = list({UUID(p["id"]) for p, _ in routed if p["t"] == "notification"})
            messages = {r["id"]: r for r in await chat.stream_rows(session, message_ids)} if message_ids else {}
            notes = (
                {r["id"]: r for r in await notifications.stream_rows(session, notification_ids)}
                if notification_ids
                else {}
            )
        for payload, targets in routed:
            # The cursor is the one of the write that sent this NOTIFY, not of the row as read now (it
            # may have been edited since): only that keeps "everything before it was delivered" true.
            row_id, cursor = UUID(payload["id"]), str(payload["x"]) if "x" in payload else None
            if payload["t"] == "message":
                row = messages.get(row_id)
                event = message_event(row, cursor, payload.get("v")) if row else None
            else:
                row = notes.get(row_id)
                if row is not None and row["user_id"] != UUID(payload["user"]):
                    continue
                event = notification_event(row, cursor) if row else None
            if event is None:  # deleted since (a cascade): nothing to show
                continue
            for subscriber in targets:
                if subscriber.offer(event):
                    self.delivered += 1
