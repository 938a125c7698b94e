"""The reminders the engine produces itself: "homework due soon" (the client's members, by e-mail too).
"Session tomorrow" and "follow-ups due" are scheduled by the agenda and prospects modules through
`service.schedule`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.core.db import ServiceSession
from services.documents import service as documents
from services.reminders import service

HOMEWORK_DUE_SOON = "reminders.homework_due_soon"


async def schedule_homework_due_soon(session: ServiceSession, window: timedelta, *, now: datetime | None = None) -> int:
    """A reminder for each open homework due within `window`, due `window` before the homework itself
    (so already due: the engine fires it at its next run). Idempotent: the reminder's due time comes
    from the homework's, so a homework whose due time moves gets a new reminder, and one that stays
    put never gets a second."""
    start = now or datetime.now(UTC)
    scheduled = 0
    for homework in await documents.homework_due_between(session, start, start + window):
        due = homework.homework_due_at.astimezone(UTC)
        reminder = await service.schedule(
            session,
            kind=HOMEWORK_DUE_SOON,
            subject_type="document",
            subject_id=str(homework.id),
            due_at=homework.homework_due_at - window,
            title=f"Devoir à rendre bientôt : {homework.title}"[:200],
            body=f"« {homework.title} » est à rendre avant le {due:%d/%m/%Y à %H:%M} (UTC).",
            client_id=homework.client_id,
            audience="members",
            email=True,
            link=f"/documents/{homework.id}",
        )
        scheduled += reminder.status == "pending"
    return scheduled
