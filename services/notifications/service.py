"""Notifications: created by domain events through `notify*` (the one entry point other modules use),
read and acknowledged by their recipient."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import asyncpg

from services.audit import service as audit
from services.core.db import AnySession, ServiceSession, UserSession
from services.notifications import repository
from services.notifications.errors import InvalidNotification, NotificationNotFound, NotifyForbidden
from services.notifications.schemas import MarkedRead, NotificationRead, NotificationSummary

Source = Literal["chat", "validation_hub", "system"]
PriorityArg = Literal["low", "normal", "high"] | None

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# An app path, but not `//host` or `/\host`, which browsers resolve to another site.
_LINK = re.compile(r"^(/(?![/\\])\S*|https://\S+)$")


def _values(
    source: str,
    title: str,
    body: str | None,
    priority: str | None,
    link: str | None,
    entity_type: str | None,
    entity_id: str | None,
    client_id: UUID | None,
) -> dict[str, Any]:
    """The arguments of private.notify, refused here when they can be (a 422 before any SQL)."""
    if source not in ("chat", "validation_hub", "system"):
        raise InvalidNotification(f"unknown notification source {source!r}", field="source")
    if priority not in (None, "low", "normal", "high"):
        raise InvalidNotification(f"unknown priority {priority!r}", field="priority")
    # private.notify strips control characters and clips; text cannot carry NUL at all.
    if not _CONTROL.sub("", title or "").strip():
        raise InvalidNotification("a notification needs a title", field="title")
    if link is not None and (len(link) > 2048 or not _LINK.match(link)):
        raise InvalidNotification("link must be an app path ('/…') or an https URL", field="link")
    return {
        "client_id": client_id,
        "source": source,
        "title": title.replace("\x00", ""),
        "body": body.replace("\x00", "") if body else None,
        "priority": priority,
        "link": link,
        "entity_type": entity_type,
        "entity_id": None if entity_id is None else str(entity_id),
    }


@contextmanager
def _forbidden() -> Iterator[None]:
    try:
        yield
    except asyncpg.InsufficientPrivilegeError as exc:
        raise NotifyForbidden(str(exc)) from None


async def notify(
    session: AnySession,
    *,
    user_ids: Sequence[UUID],
    source: Source,
    title: str,
    body: str | None = None,
    priority: PriorityArg = None,
    link: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    client_id: UUID | None = None,
) -> list[UUID]:
    """Notify users of an event; returns the ids created (none for users who switched `source` off).

    Works from the actor's own session: a member may notify, about one of their clients, the operators
    and that client's members; the operator anyone; a service session anyone (else NotifyForbidden).
    `priority` None means each recipient's preferred priority for the source, and quiet hours mute the
    sound (private.notification_delivery). Title and body are stripped of control characters and
    clipped to 200 / 2000 characters. One SQL call creates the rows and their audit entry.
    """
    values = _values(source, title, body, priority, link, entity_type, entity_id, client_id)
    if not user_ids:
        return []
    with _forbidden():
        return await repository.notify_users(session, list(user_ids), values)


async def notify_operators(
    session: AnySession,
    *,
    source: Source,
    title: str,
    body: str | None = None,
    priority: PriorityArg = None,
    link: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    client_id: UUID | None = None,
) -> list[UUID]:
    """Notify every operator but the acting user. A member must pass the `client_id` the event is about."""
    values = _values(source, title, body, priority, link, entity_type, entity_id, client_id)
    with _forbidden():
        return await repository.notify_operators(session, values)


async def notify_client_members(
    session: AnySession,
    client_id: UUID,
    *,
    source: Source,
    title: str,
    body: str | None = None,
    priority: PriorityArg = None,
    link: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
) -> list[UUID]:
    """Notify every member of a client but the acting user."""
    values = _values(source, title, body, priority, link, entity_type, entity_id, client_id)
    with _forbidden():
        return await repository.notify_client_members(session, values)


# ---------------------------------------------------------------- the recipient's side


async def list_notifications_json(
    session: UserSession, *, source: str | None, unread: bool | None, cursor: str | None, limit: int
) -> bytes:
    return await repository.list_page(session, source=source, unread=unread, cursor=cursor, limit=limit)


async def summary(session: UserSession) -> NotificationSummary:
    counts = {r["source"]: r["n"] for r in await repository.unread_counts(session)}
    return NotificationSummary(**counts, total=sum(counts.values()))


async def mark_read(session: UserSession, notification_id: UUID) -> NotificationRead:
    """Marks my notification read; a concurrent call waits on the row, then finds it read (one audit)."""
    value = await repository.mark_read(session, notification_id)
    if value is None:
        raise NotificationNotFound()
    return NotificationRead.model_validate_json(value)


async def mark_all_read(session: UserSession, source: str | None = None) -> MarkedRead:
    return MarkedRead(updated=await repository.mark_all_read(session, source))


async def purge_read(session: ServiceSession, retention_days: int, *, batch: int = 5000) -> int:
    """Delete notifications read more than `retention_days` ago (the scheduled retention job)."""
    cutoff = datetime.now(UTC) - timedelta(days=retention_days)
    total = 0
    while True:
        deleted = await repository.purge_read_before(session, cutoff, batch)
        total += deleted
        if deleted < batch:
            break
    if total:
        await audit.record(
            session,
            action="notifications.purged",
            entity_type="notification",
            entity_id=None,
            client_id=None,
            after={"deleted": total, "read_before": cutoff.isoformat()},
        )
    return total


async def stream_rows(session: AnySession, ids: list[UUID]) -> list[asyncpg.Record]:
    """For the SSE broker: (id, user_id, json) of these notifications."""
    return await repository.for_stream(session, ids)


async def changed_since(session: UserSession, since_xid: int, limit: int) -> list[asyncpg.Record]:
    """For the SSE resume: (id, json) of my notifications created from `since_xid` on."""
    return await repository.changed_since(session, since_xid, limit)


async def client_member_ids(session: AnySession, client_id: UUID) -> list[UUID]:
    """Every member of a client (a security-definer read: callers route events with it). A user
    session must be the operator's or one of that client's members (else NotifyForbidden)."""
    with _forbidden():
        return await repository.client_member_ids(session, client_id)
