"""The client's timeline (project events, comments, graduation and reactivation) and comments."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.audit import service as audit
from services.clients import service as clients
from services.core.db import UserSession
from services.core.pagination import Page
from services.notifications import service as notifications
from services.projects import repository
from services.projects.errors import StepNotFound
from services.projects.schemas import CommentCreate, TimelineEventRead
from services.projects.service import record_event, require_project


async def _timeline_page(
    session: UserSession, *, client_id: UUID | None, project_id: UUID | None, cursor: str | None, limit: int
) -> Page[TimelineEventRead]:
    rows, next_cursor = await repository.list_events(
        session, client_id=client_id, project_id=project_id, cursor=cursor, limit=limit
    )
    return Page[TimelineEventRead](items=[TimelineEventRead(**dict(r)) for r in rows], next_cursor=next_cursor)


async def list_project_timeline(
    session: UserSession, project_id: UUID, *, cursor: str | None, limit: int
) -> Page[TimelineEventRead]:
    await require_project(session, project_id)
    return await _timeline_page(session, client_id=None, project_id=project_id, cursor=cursor, limit=limit)


async def list_client_timeline(
    session: UserSession, client_id: UUID, *, cursor: str | None, limit: int
) -> Page[TimelineEventRead]:
    await clients.require_client(session, client_id)
    return await _timeline_page(session, client_id=client_id, project_id=None, cursor=cursor, limit=limit)


async def add_comment(session: UserSession, project_id: UUID, data: CommentCreate) -> TimelineEventRead:
    """The operator or a member of the client comments on a project (or one of its steps)."""
    project = await require_project(session, project_id)
    if data.step_id is not None:
        step = await repository.get_step(session, data.step_id)
        if step is None or step["project_id"] != project_id:
            raise StepNotFound()
    event = await record_event(
        session,
        client_id=project.client_id,
        kind="comment",
        project_id=project_id,
        step_id=data.step_id,
        body=data.body,
    )
    await audit.record(
        session,
        action="project.commented",
        entity_type="project",
        entity_id=project_id,
        client_id=project.client_id,
        after=event,
    )
    notice: dict[str, Any] = {
        "source": "system",
        "title": f"Nouveau commentaire · {project.name}",
        "body": data.body,
        "link": f"/projects/{project_id}",
        "entity_type": "project",
        "entity_id": str(project_id),
    }
    if session.principal.is_operator:
        await notifications.notify_client_members(session, project.client_id, **notice)
    else:
        await notifications.notify_operators(session, client_id=project.client_id, **notice)
    return event
