"""Lab journeys: the operator's reusable templates, starting a journey from one, and the Lab home."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from services.audit import service as audit
from services.clients import service as clients
from services.core.db import UserSession
from services.core.errors import Unprocessable
from services.projects import repository
from services.projects.errors import TemplateArchived, TemplateNotFound
from services.projects.schemas import (
    JourneyStart,
    LabHome,
    Progress,
    ProjectCreate,
    ProjectDetail,
    StepRead,
    TemplateCreate,
    TemplateRead,
    TemplateUpdate,
)
from services.projects.service import changes, insert_project, to_project

UNDER_WAY = ("in_progress", "submitted", "changes_requested")


# ---------------------------------------------------------------- templates


async def list_templates(session: UserSession, *, include_archived: bool) -> list[TemplateRead]:
    return [
        TemplateRead(**dict(r)) for r in await repository.list_templates(session, include_archived=include_archived)
    ]


async def get_template(session: UserSession, template_id: UUID, *, for_update: bool = False) -> TemplateRead:
    row = await repository.get_template(session, template_id, for_update=for_update)
    if row is None:
        raise TemplateNotFound()
    return TemplateRead(**dict(row))


async def create_template(session: UserSession, data: TemplateCreate) -> TemplateRead:
    template = TemplateRead(**dict(await repository.insert_template(session, data.model_dump())))
    await audit.record(
        session,
        action="journey_template.created",
        entity_type="journey_template",
        entity_id=template.id,
        client_id=None,
        after=template,
    )
    return template


async def update_template(session: UserSession, template_id: UUID, data: TemplateUpdate) -> TemplateRead:
    before = await get_template(session, template_id, for_update=True)
    if before.archived_at is not None:
        raise TemplateArchived("this template is archived")
    values = changes(data, nullable=set())
    if "steps" in values:  # new steps, new version (the row is locked: no lost bump)
        values["version"] = before.version + 1
    after = TemplateRead(**dict(await repository.update_template(session, template_id, values))) if values else before
    await audit.record(
        session,
        action="journey_template.updated",
        entity_type="journey_template",
        entity_id=template_id,
        client_id=None,
        before=before,
        after=after,
    )
    return after


async def archive_template(session: UserSession, template_id: UUID) -> TemplateRead:
    before = await get_template(session, template_id, for_update=True)
    if before.archived_at is not None:
        raise TemplateArchived("this template is already archived")
    after = TemplateRead(
        **dict(await repository.update_template(session, template_id, {"archived_at": datetime.now(UTC)}))
    )
    await audit.record(
        session,
        action="journey_template.archived",
        entity_type="journey_template",
        entity_id=template_id,
        client_id=None,
        before=before,
        after=after,
    )
    return after


# ---------------------------------------------------------------- journeys


async def start_journey(session: UserSession, client_id: UUID, data: JourneyStart) -> ProjectDetail:
    """Instantiate a journey from a template: the steps are copied, so later template edits never
    rewrite it. The first step starts at once; due dates follow the steps' durations."""
    client = await clients.require_client(session, client_id)
    template = await get_template(session, data.template_id)
    if template.archived_at is not None:
        raise TemplateArchived("this template is archived", field="template_id")
    start = data.start_date or datetime.now(UTC).date()
    steps: list[dict[str, Any]] = []
    due = start
    for index, step in enumerate(template.steps):
        try:
            due = due + timedelta(days=step.duration_days) if step.duration_days else due
        except OverflowError:
            raise Unprocessable("the steps' due dates would fall after year 9999", field="start_date") from None
        steps.append(
            {
                "title": step.title,
                "description": step.description,
                "client_role": step.client_role,
                "due_date": due if step.duration_days else None,
                "status": "in_progress" if index == 0 else "todo",
            }
        )
    project = ProjectCreate(
        client_id=client_id,
        kind="journey",
        name=data.name or template.name,
        description=template.description,
        status="active",
        start_date=start,
        due_date=due if due != start else None,
    )
    return await insert_project(
        session, client, project, steps=steps, extra={"template_id": template.id, "template_version": template.version}
    )


async def lab_home(session: UserSession, client_id: UUID) -> LabHome:
    """Overall progress, the step under way with the client's role in it, and what comes next."""
    await clients.require_client(session, client_id)
    row = await repository.current_journey(session, client_id)
    if row is None:
        return LabHome(
            client_id=client_id,
            journey=None,
            progress=Progress(total=0, validated=0, percent=0),
            current_step=None,
            next_steps=[],
        )
    journey = to_project(row)
    steps = [StepRead(**dict(r)) for r in await repository.list_steps(session, journey.id)]
    current = next((s for s in steps if s.status in UNDER_WAY), None) or next(
        (s for s in steps if s.status == "todo"), None
    )
    following = [s for s in steps if current and s.position > current.position and s.status != "validated"]
    return LabHome(
        client_id=client_id, journey=journey, progress=journey.progress, current_step=current, next_steps=following
    )
