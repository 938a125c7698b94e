"""The operator's tasks on a project (the client never sees them)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from services.audit import service as audit
from services.core.db import UserSession
from services.projects import repository
from services.projects.errors import TaskNotFound
from services.projects.schemas import TaskCreate, TaskRead, TaskUpdate
from services.projects.service import changes, require_project


async def list_tasks(session: UserSession, project_id: UUID, *, done: bool | None) -> list[TaskRead]:
    await require_project(session, project_id)
    return [TaskRead(**dict(r)) for r in await repository.list_tasks(session, project_id, done=done)]


async def create_task(session: UserSession, project_id: UUID, data: TaskCreate) -> TaskRead:
    project = await require_project(session, project_id)
    task = TaskRead(
        **dict(
            await repository.insert_task(
                session,
                {
                    **data.model_dump(),
                    "project_id": project_id,
                    "client_id": project.client_id,
                    "created_by": session.principal.user_id,
                },
            )
        )
    )
    await audit.record(
        session,
        action="project_task.created",
        entity_type="project_task",
        entity_id=task.id,
        client_id=project.client_id,
        after=task,
    )
    return task


async def _task(session: UserSession, project_id: UUID, task_id: UUID) -> TaskRead:
    row = await repository.get_task(session, project_id, task_id)
    if row is None:
        raise TaskNotFound()
    return TaskRead(**dict(row))


async def update_task(session: UserSession, project_id: UUID, task_id: UUID, data: TaskUpdate) -> TaskRead:
    before = await _task(session, project_id, task_id)
    values = changes(data, nullable={"due_date"})
    if "done" in values:
        if values["done"] == before.done:
            values.pop("done")
        else:
            values["done_at"] = datetime.now(UTC) if values["done"] else None
    after = TaskRead(**dict(await repository.update_task(session, task_id, values))) if values else before
    await audit.record(
        session,
        action="project_task.updated",
        entity_type="project_task",
        entity_id=task_id,
        client_id=after.client_id,
        before=before,
        after=after,
    )
    return after


async def delete_task(session: UserSession, project_id: UUID, task_id: UUID) -> None:
    before = await _task(session, project_id, task_id)
    await repository.delete_task(session, task_id)
    await audit.record(
        session,
        action="project_task.deleted",
        entity_type="project_task",
        entity_id=task_id,
        client_id=before.client_id,
        before=before,
    )
