"""A project's ordered steps: the operator adds, edits, removes and reorders them (positions stay
dense, 1..n); the Validation Hub moves them through submission and decision."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from services.audit import service as audit
from services.core.db import UserSession
from services.projects import repository
from services.projects.errors import ProjectClosed, StepNotFound, StepOrderInvalid, StepUnderValidation
from services.projects.schemas import ProjectRead, StepCreate, StepOrder, StepRead, StepUpdate
from services.projects.service import CLOSED, changes, lock_project, record_event, require_project
from services.validations import service as validations

UNDER_VALIDATION = ("submitted", "changes_requested")


async def _step_of(session: UserSession, project_id: UUID, step_id: UUID) -> StepRead:
    row = await repository.get_step(session, step_id, for_update=True)
    if row is None or row["project_id"] != project_id:
        raise StepNotFound()
    return StepRead(**dict(row))


async def _waits_in_validation_hub(session: UserSession, step_id: UUID) -> bool:
    """A submitted step whose request was closed undecided (its project was closed) is free again."""
    return await validations.has_open_request(session, step_id)


async def _open_project_for_edit(session: UserSession, project_id: UUID) -> ProjectRead:
    await lock_project(session, project_id)
    project = await require_project(session, project_id)
    if project.status in CLOSED:
        raise ProjectClosed(f"the project is {project.status}: reopen it to change its steps")
    return project


async def add_step(session: UserSession, project_id: UUID, data: StepCreate) -> StepRead:
    project = await _open_project_for_edit(session, project_id)
    rows = await repository.insert_steps(
        session, project_id, project.client_id, [data.model_dump(exclude={"position"})], at=data.position
    )
    step = StepRead(**dict(rows[0]))
    await record_event(
        session,
        client_id=project.client_id,
        kind="step_added",
        project_id=project_id,
        step_id=step.id,
        body=step.title,
        data={"position": step.position},
    )
    await audit.record(
        session,
        action="project.step_added",
        entity_type="project_step",
        entity_id=step.id,
        client_id=project.client_id,
        after=step,
    )
    return step


async def update_step(session: UserSession, project_id: UUID, step_id: UUID, data: StepUpdate) -> StepRead:
    project = await _open_project_for_edit(session, project_id)
    before = await _step_of(session, project_id, step_id)
    values = changes(data, nullable={"due_date"})
    status = values.get("status")
    if status == before.status:
        values.pop("status")
    elif status is not None:
        if before.status in UNDER_VALIDATION and await _waits_in_validation_hub(session, step_id):
            raise StepUnderValidation("this step is in the Validation Hub: decide it there", field="status")
        now = datetime.now(UTC)
        values["completed_at"] = now if status == "validated" else None
        if status == "in_progress" and before.started_at is None:
            values["started_at"] = now
    after = StepRead(**dict(await repository.update_step(session, step_id, values))) if values else before
    if "status" in values:
        kind = {"in_progress": "step_started", "validated": "step_validated"}.get(after.status, "step_reopened")
        await record_event(
            session,
            client_id=project.client_id,
            kind=kind,
            project_id=project_id,
            step_id=step_id,
            body=after.title,
            data={"from": before.status, "manual": True},
        )
    await audit.record(
        session,
        action="project.step_updated",
        entity_type="project_step",
        entity_id=step_id,
        client_id=project.client_id,
        before=before,
        after=after,
    )
    return after


async def remove_step(session: UserSession, project_id: UUID, step_id: UUID) -> None:
    project = await _open_project_for_edit(session, project_id)
    step = await _step_of(session, project_id, step_id)
    if not await repository.delete_step(session, project_id, step_id, step.position):
        raise StepUnderValidation("this step has Validation Hub history and cannot be removed")
    await record_event(
        session,
        client_id=project.client_id,
        kind="step_removed",
        project_id=project_id,
        step_id=step_id,
        body=step.title,
    )
    await audit.record(
        session,
        action="project.step_removed",
        entity_type="project_step",
        entity_id=step_id,
        client_id=project.client_id,
        before=step,
    )


async def reorder_steps(session: UserSession, project_id: UUID, data: StepOrder) -> list[StepRead]:
    project = await _open_project_for_edit(session, project_id)
    before = [StepRead(**dict(r)) for r in await repository.list_steps(session, project_id)]
    if len(set(data.step_ids)) != len(data.step_ids) or set(data.step_ids) != {s.id for s in before}:
        raise StepOrderInvalid("step_ids must list every step of the project exactly once", field="step_ids")
    await repository.reorder_steps(session, project_id, data.step_ids)
    after = [StepRead(**dict(r)) for r in await repository.list_steps(session, project_id)]
    await record_event(
        session,
        client_id=project.client_id,
        kind="steps_reordered",
        project_id=project_id,
        data={"step_ids": [str(i) for i in data.step_ids]},
    )
    await audit.record(
        session,
        action="project.steps_reordered",
        entity_type="project",
        entity_id=project_id,
        client_id=project.client_id,
        before={"step_ids": [str(s.id) for s in before]},
        after={"step_ids": [str(s.id) for s in after]},
    )
    return after
