"""Projects, steps, timeline, tasks, journey templates and the Lab home."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query, Response

from api.deps import OperatorSession, Session
from api.problems import JSONBytes, responses
from services.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.projects import journeys, service, steps, tasks, timeline
from services.projects.schemas import (
    CommentCreate,
    JourneyStart,
    LabHome,
    Phase,
    ProjectCreate,
    ProjectDetail,
    ProjectKind,
    ProjectRead,
    ProjectStatus,
    ProjectUpdate,
    StepCreate,
    StepOrder,
    StepRead,
    StepUpdate,
    TaskCreate,
    TaskRead,
    TaskUpdate,
    TemplateCreate,
    TemplateRead,
    TemplateUpdate,
    TimelineEventRead,
)

router = APIRouter(tags=["projects"])

Cursor = Query(None, max_length=500)
Limit = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


@router.get("/projects", response_model=Page[ProjectRead], responses=responses(401, 422))
async def list_projects(
    session: Session,
    client_id: UUID | None = None,
    kind: ProjectKind | None = None,
    status: ProjectStatus | None = None,
    phase: Phase | None = Query(None, description="`lab` lists the Lab history"),
    cursor: str | None = Cursor,
    limit: int = Limit,
) -> JSONBytes:
    """List projects with their progress, newest first (a member sees their own client's)."""
    return JSONBytes(
        await service.list_projects_json(
            session, client_id=client_id, kind=kind, status=status, phase=phase, cursor=cursor, limit=limit
        )
    )


@router.post("/projects", response_model=ProjectDetail, status_code=201, responses=responses(401, 403, 404, 409, 422))
async def create_project(session: OperatorSession, data: ProjectCreate) -> ProjectDetail:
    """Create a project for a client, optionally with its steps."""
    return await service.create_project(session, data)


@router.get("/projects/{project_id}", response_model=ProjectDetail, responses=responses(401, 404))
async def get_project(session: Session, project_id: UUID) -> ProjectDetail:
    """Read a project with its ordered steps and progress."""
    return await service.get_project(session, project_id)


@router.patch("/projects/{project_id}", response_model=ProjectDetail, responses=responses(401, 403, 404, 409, 422))
async def update_project(session: OperatorSession, project_id: UUID, data: ProjectUpdate) -> ProjectDetail:
    """Update a project; a status change must follow the project's workflow."""
    return await service.update_project(session, project_id, data)


@router.post(
    "/projects/{project_id}/steps",
    response_model=StepRead,
    status_code=201,
    responses=responses(401, 403, 404, 409, 422),
)
async def add_step(session: OperatorSession, project_id: UUID, data: StepCreate) -> StepRead:
    """Add a step at a position (default: last); the following steps move down."""
    return await steps.add_step(session, project_id, data)


@router.put(
    "/projects/{project_id}/steps/order", response_model=list[StepRead], responses=responses(401, 403, 404, 409, 422)
)
async def reorder_steps(session: OperatorSession, project_id: UUID, data: StepOrder) -> list[StepRead]:
    """Reorder every step of a project."""
    return await steps.reorder_steps(session, project_id, data)


@router.patch(
    "/projects/{project_id}/steps/{step_id}", response_model=StepRead, responses=responses(401, 403, 404, 409, 422)
)
async def update_step(session: OperatorSession, project_id: UUID, step_id: UUID, data: StepUpdate) -> StepRead:
    """Edit a step, or move it by hand between todo, in progress and validated."""
    return await steps.update_step(session, project_id, step_id, data)


@router.delete(
    "/projects/{project_id}/steps/{step_id}",
    status_code=204,
    response_class=Response,
    responses=responses(401, 403, 404, 409),
)
async def remove_step(session: OperatorSession, project_id: UUID, step_id: UUID) -> Response:
    """Remove a step without validation history; the following steps move up."""
    await steps.remove_step(session, project_id, step_id)
    return Response(status_code=204)


@router.get(
    "/projects/{project_id}/timeline", response_model=Page[TimelineEventRead], responses=responses(401, 404, 422)
)
async def list_project_timeline(
    session: Session, project_id: UUID, cursor: str | None = Cursor, limit: int = Limit
) -> Page[TimelineEventRead]:
    """A project's timeline, newest first."""
    return await timeline.list_project_timeline(session, project_id, cursor=cursor, limit=limit)


@router.post(
    "/projects/{project_id}/comments",
    response_model=TimelineEventRead,
    status_code=201,
    responses=responses(401, 404, 422),
)
async def add_project_comment(session: Session, project_id: UUID, data: CommentCreate) -> TimelineEventRead:
    """Comment on a project or one of its steps (the operator or the client)."""
    return await timeline.add_comment(session, project_id, data)


@router.get("/projects/{project_id}/tasks", response_model=list[TaskRead], responses=responses(401, 403, 404))
async def list_project_tasks(session: OperatorSession, project_id: UUID, done: bool | None = None) -> list[TaskRead]:
    """The operator's tasks on a project, open ones first."""
    return await tasks.list_tasks(session, project_id, done=done)


@router.post(
    "/projects/{project_id}/tasks", response_model=TaskRead, status_code=201, responses=responses(401, 403, 404, 422)
)
async def create_project_task(session: OperatorSession, project_id: UUID, data: TaskCreate) -> TaskRead:
    """Add a task to a project."""
    return await tasks.create_task(session, project_id, data)


@router.patch(
    "/projects/{project_id}/tasks/{task_id}", response_model=TaskRead, responses=responses(401, 403, 404, 422)
)
async def update_project_task(session: OperatorSession, project_id: UUID, task_id: UUID, data: TaskUpdate) -> TaskRead:
    """Edit a task or tick it done."""
    return await tasks.update_task(session, project_id, task_id, data)


@router.delete(
    "/projects/{project_id}/tasks/{task_id}",
    status_code=204,
    response_class=Response,
    responses=responses(401, 403, 404),
)
async def delete_project_task(session: OperatorSession, project_id: UUID, task_id: UUID) -> Response:
    """Delete a task."""
    await tasks.delete_task(session, project_id, task_id)
    return Response(status_code=204)


@router.get("/journey-templates", response_model=list[TemplateRead], responses=responses(401, 403, 422))
async def list_journey_templates(session: OperatorSession, include_archived: bool = False) -> list[TemplateRead]:
    """List the journey templates."""
    return await journeys.list_templates(session, include_archived=include_archived)


@router.post("/journey-templates", response_model=TemplateRead, status_code=201, responses=responses(401, 403, 422))
async def create_journey_template(session: OperatorSession, data: TemplateCreate) -> TemplateRead:
    """Define a reusable journey (parcours) template with ordered steps."""
    return await journeys.create_template(session, data)


@router.get("/journey-templates/{template_id}", response_model=TemplateRead, responses=responses(401, 403, 404))
async def get_journey_template(session: OperatorSession, template_id: UUID) -> TemplateRead:
    """Read a journey template."""
    return await journeys.get_template(session, template_id)


@router.patch(
    "/journey-templates/{template_id}", response_model=TemplateRead, responses=responses(401, 403, 404, 409, 422)
)
async def update_journey_template(session: OperatorSession, template_id: UUID, data: TemplateUpdate) -> TemplateRead:
    """Edit a template; running journeys keep the steps they started with."""
    return await journeys.update_template(session, template_id, data)


@router.post(
    "/journey-templates/{template_id}/archive", response_model=TemplateRead, responses=responses(401, 403, 404, 409)
)
async def archive_journey_template(session: OperatorSession, template_id: UUID) -> TemplateRead:
    """Archive a template: no new journey starts from it."""
    return await journeys.archive_template(session, template_id)


@router.post(
    "/clients/{client_id}/journeys",
    response_model=ProjectDetail,
    status_code=201,
    responses=responses(401, 403, 404, 409, 422),
)
async def start_journey(session: OperatorSession, client_id: UUID, data: JourneyStart) -> ProjectDetail:
    """Start a Lab client's journey from a template."""
    return await journeys.start_journey(session, client_id, data)


@router.get("/clients/{client_id}/lab-home", response_model=LabHome, responses=responses(401, 404))
async def get_lab_home(session: Session, client_id: UUID) -> LabHome:
    """The Lab home: journey progress, the current step and the client's role in it, what's next."""
    return await journeys.lab_home(session, client_id)


@router.get("/clients/{client_id}/timeline", response_model=Page[TimelineEventRead], responses=responses(401, 404, 422))
async def list_client_timeline(
    session: Session, client_id: UUID, cursor: str | None = Cursor, limit: int = Limit
) -> Page[TimelineEventRead]:
    """A client's timeline across projects, graduation and reactivation, newest first."""
    return await timeline.list_client_timeline(session, client_id, cursor=cursor, limit=limit)
