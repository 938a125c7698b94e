"""Projects: the operator plans and runs them; members of the client read them (RLS). Also the timeline
writer every module uses. Steps are in steps.py, templates and the Lab home in journeys.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from services.audit import service as audit
from services.clients import service as clients
from services.clients.schemas import ClientRead
from services.core.db import AnySession, UserSession
from services.core.errors import Unprocessable
from services.projects import repository
from services.projects.errors import (
    JourneyNotAllowed,
    ProjectClosed,
    ProjectNotFound,
    ProjectTransitionInvalid,
)
from services.projects.schemas import (
    Progress,
    ProjectCreate,
    ProjectDetail,
    ProjectRead,
    ProjectUpdate,
    StepRead,
    TimelineEventRead,
)
from services.validations import service as validations

# Which project status may follow which; `done` can be reopened, `cancelled` is final.
PROJECT_TRANSITIONS: dict[str, set[str]] = {
    "planned": {"active", "cancelled"},
    "active": {"paused", "done", "cancelled"},
    "paused": {"active", "done", "cancelled"},
    "done": {"active"},
    "cancelled": set(),
}
CLOSED = ("done", "cancelled")


def changes(data: BaseModel, *, nullable: set[str]) -> dict[str, Any]:
    """The fields sent; an explicit null is only accepted where the column may be empty."""
    values: dict[str, Any] = data.model_dump(exclude_unset=True)
    for name, value in values.items():
        if value is None and name not in nullable:
            raise Unprocessable(f"{name} cannot be null", field=name)
    return values


def to_project(row: asyncpg.Record) -> ProjectRead:
    values = dict(row)
    total, validated = values.pop("total"), values.pop("validated")
    percent = validated * 100 // total if total else 0
    return ProjectRead(**values, progress=Progress(total=total, validated=validated, percent=percent))


# ---------------------------------------------------------------- timeline


async def record_event(
    session: AnySession,
    *,
    client_id: UUID,
    kind: str,
    project_id: UUID | None = None,
    step_id: UUID | None = None,
    body: str | None = None,
    data: dict[str, Any] | None = None,
) -> TimelineEventRead:
    """Add an event to the client's timeline, in the caller's transaction, as the caller."""
    if isinstance(session, UserSession):
        actor_id: UUID | None = session.principal.user_id
        role = "operator" if session.principal.is_operator else "member"
    else:
        actor_id, role = None, "system"
    row = await repository.insert_event(
        session,
        {
            "client_id": client_id,
            "project_id": project_id,
            "step_id": step_id,
            "kind": kind,
            "actor_id": actor_id,
            "actor_role": role,
            "body": body,
            "data": data or {},
        },
    )
    return TimelineEventRead(**dict(row))


# ---------------------------------------------------------------- projects


async def require_project(session: AnySession, project_id: UUID) -> ProjectRead:
    """The project if the caller can see it (404 otherwise): what other modules call."""
    row = await repository.get_project(session, project_id)
    if row is None:
        raise ProjectNotFound()
    return to_project(row)


async def lock_project(session: AnySession, project_id: UUID, *, share: bool = False) -> None:
    if not await repository.lock_project(session, project_id, share=share):
        raise ProjectNotFound()


async def get_project(session: UserSession, project_id: UUID) -> ProjectDetail:
    project = await require_project(session, project_id)
    steps = [StepRead(**dict(r)) for r in await repository.list_steps(session, project_id)]
    return ProjectDetail(**project.model_dump(), steps=steps)


async def list_projects_json(
    session: UserSession,
    *,
    client_id: UUID | None,
    kind: str | None,
    status: str | None,
    phase: str | None,
    cursor: str | None,
    limit: int,
) -> bytes:
    """A Page[ProjectRead] as JSON bytes; RLS keeps a member to their own clients' projects."""
    filters = {"client_id": client_id, "kind": kind, "status": status, "phase": phase}
    return await repository.list_projects_page(session, filters=filters, cursor=cursor, limit=limit)


async def insert_project(
    session: UserSession,
    client: ClientRead,
    data: ProjectCreate,
    *,
    steps: list[dict[str, Any]],
    extra: dict[str, Any] | None = None,
) -> ProjectDetail:
    """Create a project and its steps for `client`, with its timeline event and audit entry."""
    if client.status == "archived":
        raise ProjectClosed("the client is archived: restore it first")
    if data.kind == "journey":
        await _require_no_open_journey(session, client.id)
    values = data.model_dump(exclude={"steps"})
    values.update(
        phase="one" if client.status == "one" else "lab",
        created_by=session.principal.user_id,
        started_at=datetime.now(UTC) if data.status == "active" else None,
        **(extra or {}),
    )
    project_id = await repository.insert_project(session, values)
    if steps:
        await repository.insert_steps(session, project_id, client.id, steps)
    detail = await get_project(session, project_id)
    await record_event(
        session,
        client_id=client.id,
        kind="project_created",
        project_id=project_id,
        body=detail.name,
        data={"kind": detail.kind, "template_id": values.get("template_id") and str(values["template_id"])},
    )
    await audit.record(
        session,
        action="project.created",
        entity_type="project",
        entity_id=project_id,
        client_id=client.id,
        after=detail,
    )
    return detail


async def create_project(session: UserSession, data: ProjectCreate) -> ProjectDetail:
    client = await clients.require_client(session, data.client_id)
    steps = [s.model_dump(exclude={"position"}) for s in data.steps]
    return await insert_project(session, client, data, steps=steps)


async def _require_no_open_journey(session: UserSession, client_id: UUID) -> None:
    """One open journey per Lab client, whichever route opens it: the client row lock serialises them
    (and graduation, which takes it too)."""
    client = await clients.require_client(session, client_id, for_update=True)
    if client.status != "lab":
        raise JourneyNotAllowed("a journey is for a Lab client: reopen the Lab first")
    if await repository.current_journey(session, client_id) is not None:
        raise JourneyNotAllowed("this client already has an open journey: close it first")


async def _set_status(session: UserSession, before: ProjectRead, status: str, values: dict[str, Any]) -> None:
    if status not in PROJECT_TRANSITIONS[before.status]:
        raise ProjectTransitionInvalid(f"a {before.status} project cannot become {status}", field="status")
    if before.kind == "journey" and before.status in CLOSED and status not in CLOSED:
        await _require_no_open_journey(session, before.client_id)
    elif status == "active" and before.kind == "journey":
        client = await clients.require_client(session, before.client_id)
        if client.status != "lab":
            raise JourneyNotAllowed("a journey can only run while the client is in the Lab")
    now = datetime.now(UTC)
    if status == "active" and before.started_at is None:
        values["started_at"] = now
    values["closed_at"] = now if status in CLOSED else None


async def update_project(session: UserSession, project_id: UUID, data: ProjectUpdate) -> ProjectDetail:
    await lock_project(session, project_id)
    before = await get_project(session, project_id)
    values = changes(data, nullable={"start_date", "due_date"})
    start, due = values.get("start_date", before.start_date), values.get("due_date", before.due_date)
    if start is not None and due is not None and due < start:
        raise Unprocessable("due_date must not be before start_date", field="due_date")
    status = values.get("status")
    if status == before.status:
        values.pop("status")
    elif status is not None:
        await _set_status(session, before, status, values)
    if values:
        await repository.update_project(session, project_id, values)
    after = await get_project(session, project_id)
    if "status" in values:
        await record_event(
            session,
            client_id=after.client_id,
            kind="project_status_changed",
            project_id=project_id,
            data={"from": before.status, "to": after.status},
        )
        await _close_open_validations(session, after)
    await audit.record(
        session,
        action="project.updated",
        entity_type="project",
        entity_id=project_id,
        client_id=after.client_id,
        before=before,
        after=after,
    )
    return after


async def set_project_status(session: UserSession, project_id: UUID, status: str, *, reason: str) -> ProjectRead:
    """Another module moves a project along (an evolution delivered, a graduation closing a journey)."""
    await lock_project(session, project_id)
    before = await require_project(session, project_id)
    if before.status == status:
        return before
    values: dict[str, Any] = {"status": status}
    await _set_status(session, before, status, values)
    await repository.update_project(session, project_id, values)
    after = await require_project(session, project_id)
    await record_event(
        session,
        client_id=after.client_id,
        kind="project_status_changed",
        project_id=project_id,
        data={"from": before.status, "to": status, "reason": reason},
    )
    await _close_open_validations(session, after)
    await audit.record(
        session,
        action="project.updated",
        entity_type="project",
        entity_id=project_id,
        client_id=after.client_id,
        before=before,
        after=after,
    )
    return after


async def _close_open_validations(session: UserSession, project: ProjectRead) -> None:
    """A project done or cancelled takes its submissions out of the Validation Hub (the caller holds the
    project lock, first in the lock order)."""
    if project.status not in CLOSED:
        return
    await validations.close_for_projects(session, project.client_id, [project.id], reason=f"project {project.status}")


async def close_journeys(session: UserSession, client_id: UUID, *, reason: str) -> list[UUID]:
    """Close the client's open journeys (graduation); their steps stay as they were, as Lab history."""
    closed = []
    for project_id in await repository.open_journeys(session, client_id):
        before = await require_project(session, project_id)
        await repository.update_project(session, project_id, {"status": "done", "closed_at": datetime.now(UTC)})
        after = await require_project(session, project_id)
        await record_event(
            session,
            client_id=client_id,
            kind="project_closed",
            project_id=project_id,
            data={"from": before.status, "reason": reason},
        )
        await audit.record(
            session,
            action="project.closed",
            entity_type="project",
            entity_id=project_id,
            client_id=client_id,
            before=before,
            after=after,
        )
        closed.append(project_id)
    return closed
