"""Notifications: created by domain events through `notify*` (the one entry point other modules use),
read and acknowledged by their recipient."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import UUID

import asyncpg

from services.audit import service as audit
from services.core.db import AnySession, ServiceSession, UserSession
from services.core.pagination import encode_cursor, page_bytes, read_cursor
from services.notifications import repository
from services.notifications.delivery import delivery, load_prefs, load_quiet_hours
from services.notifications.errors import InvalidNotification, NotificationNotFound, NotifyForbidden
from services.notifications.schemas import MarkedRead, NotificationRead, NotificationSummary

Source = Literal["chat", "validation_hub", "system"]
PriorityArg = Literal["low", "normal", "high"] | None

TITLE_MAX, BODY_MAX = 200, 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# An app path, but not `//host` or `/\host`, which browsers resolve to another site.
_LINK = re.compile(r"^(/(?![/\\])\S*|https://\S+)$")


def _clip(text: str, limit: int) -> str:
    text = _CONTROL.sub("", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _actor(session: AnySession) -> UUID | None:
    return session.principal.user_id if isinstance(session, UserSession) else None


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
    `priority` None means each recipient's preferred priority for the source. Title and body are
    stripped of control characters and clipped to 200 / 2000 characters.
    """
    if source not in ("chat", "validation_hub", "system"):
        raise InvalidNotification(f"unknown notification source {source!r}", field="source")
    if priority not in (None, "low", "normal", "high"):
        raise InvalidNotification(f"unknown priority {priority!r}", field="priority")
    clean_title = _clip(title or "", TITLE_MAX)
    if not clean_title:
        raise InvalidNotification("a notification needs a title", field="title")
    if link is not None and (len(link) > 2048 or not _LINK.match(link)):
        raise InvalidNotification("link must be an app path ('/…') or an https URL", field="link")
    unique = list(dict.fromkeys(user_ids))
    if not unique:
        return []
    try:
        recipients = await repository.recipients(session, unique, client_id)
    except asyncpg.InsufficientPrivilegeError as exc:
        raise NotifyForbidden(str(exc)) from None
    now = datetime.now(UTC)
    rows = []
    for r in recipients:
        flags = delivery(load_prefs(r["notification_prefs"]), load_quiet_hours(r["quiet_hours"]), source, priority, now)
        if flags is None:
            continue
        rows.append(
            {
                "user_id": str(r["user_id"]),
                "client_id": str(client_id) if client_id else None,
                "source": source,
                "priority": flags.priority,
                "title": clean_title,
                "body": _clip(body, BODY_MAX) or None if body else None,
                "link": link,
                "entity_type": entity_type[:64] if entity_type else None,
                "entity_id": str(entity_id)[:128] if entity_id is not None else None,
                "sound": flags.sound,
                "badge": flags.badge,
            }
        )
    if not rows:
        return []
    ids = await repository.create_many(session, rows)
    await audit.record(
        session,
        action="notifications.created",
        entity_type="notification",
        entity_id=ids[0] if len(ids) == 1 else None,
        client_id=client_id,
        after={
            "ids": [str(i) for i in ids],
            "recipients": [r["user_id"] for r in rows],
            "source": source,
            "entity_type": entity_type,
            "entity_id": entity_id,
        },
    )
    return ids


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
    actor = _actor(session)
    user_ids = [u for u in await repository.operator_ids(session) if u != actor]
    return await notify(
        session,
        user_ids=user_ids,
        source=source,
        title=title,
        body=body,
        priority=priority,
        link=link,
        entity_type=entity_type,
        entity_id=entity_id,
        client_id=client_id,
    )


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
    actor = _actor(session)
    user_ids = [u for u in await client_member_ids(session, client_id) if u != actor]
    return await notify(
        session,
        user_ids=user_ids,
        source=source,
        title=title,
        body=body,
        priority=priority,
        link=link,
        entity_type=entity_type,
        entity_id=entity_id,
        client_id=client_id,
    )


# ---------------------------------------------------------------- the recipient's side


def _page_cursor(cursor: str) -> tuple[datetime, UUID]:
    """(created_at, id) from a notifications cursor."""
    at, last_id = read_cursor(cursor, datetime, UUID)
    return at, last_id


async def list_notifications_json(
    session: UserSession, *, source: str | None, unread: bool | None, cursor: str | None, limit: int
) -> bytes:
    after = _page_cursor(cursor) if cursor else None
    rows = await repository.list_json(session, source=source, unread=unread, after=after, limit=limit)
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last["created_at"].isoformat(), str(last["id"]))
    return page_bytes([r["json"] for r in rows[:limit]], next_cursor)


async def summary(session: UserSession) -> NotificationSummary:
    counts = {r["source"]: r["n"] for r in await repository.unread_counts(session)}
    return NotificationSummary(**counts, total=sum(counts.values()))


async def mark_read(session: UserSession, notification_id: UUID) -> NotificationRead:
    # Only an unread row changes, so two concurrent calls audit once; None: already read, or gone.
    row = await repository.mark_read(session, notification_id)
    if row is None:
        current = await repository.get(session, notification_id)
        if current is None:
            raise NotificationNotFound()
        return NotificationRead(**dict(current))
    after = NotificationRead(**dict(row))
    await audit.record(
        session,
        action="notification.read",
        entity_type="notification",
        entity_id=notification_id,
        client_id=after.client_id,
        before={"read_at": None},
        after={"read_at": after.read_at.isoformat() if after.read_at else None},
    )
    return after


async def mark_all_read(session: UserSession, source: str | None = None) -> MarkedRead:
    updated = await repository.mark_all_read(session, source)
    if updated:
        await audit.record(
            session,
            action="notifications.read_all",
            entity_type="notification",
            entity_id=None,
            client_id=None,
            after={"source": source, "updated": updated},
        )
    return MarkedRead(updated=updated)


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
    try:
        return await repository.client_member_ids(session, client_id)
    except asyncpg.InsufficientPrivilegeError as exc:
        raise NotifyForbidden(str(exc)) from None
