"""Every query of the projects module (projects, steps, timeline, tasks, journey templates)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import (
    Date,
    Integer,
    Select,
    Text,
    Uuid,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    true,
)
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from services.core.db import AnySession
from services.core.pagination import Keyset, next_page
from services.core.query import bound, compiled, shaped
from services.projects.tables import journey_templates, project_steps, project_tasks, projects, timeline_events

p, st, tk, tp, ev = projects.c, project_steps.c, project_tasks.c, journey_templates.c, timeline_events.c
PROJECT_COLUMNS = (
    p.id, p.client_id, p.kind, p.phase, p.name, p.description, p.status, p.template_id, p.template_version,
    p.start_date, p.due_date, p.started_at, p.closed_at, p.created_at, p.updated_at,
)  # fmt: skip
STEP_COLUMNS = (
    st.id, st.project_id, st.client_id, st.position, st.title, st.description, st.client_role, st.status,
    st.due_date, st.started_at, st.submitted_at, st.completed_at, st.created_at, st.updated_at,
)  # fmt: skip
TASK_COLUMNS = (
    tk.id, tk.project_id, tk.client_id, tk.title, tk.notes, tk.done, tk.done_at, tk.due_date, tk.source,
    tk.source_ref, tk.created_by, tk.created_at, tk.updated_at,
)  # fmt: skip
EVENT_COLUMNS = (
    ev.id,
    ev.client_id,
    ev.project_id,
    ev.step_id,
    ev.kind,
    ev.actor_id,
    ev.actor_role,
    ev.body,
    ev.data,
    ev.at,
)
TEMPLATE_COLUMNS = (tp.id, tp.name, tp.description, tp.steps, tp.version, tp.archived_at, tp.created_at, tp.updated_at)
# Literal values, not `in_()` with a list (which would render per call).
_IS_OPEN = p.status.in_([literal("planned"), literal("active"), literal("paused")])

# Progress is derived on every read: it is never stored.
_progress = (
    select(func.count().label("total"), func.count().filter(st.status == "validated").label("validated"))
    .where(st.project_id == p.id)
    .lateral("s")
)
_WITH_PROGRESS = select(
    *PROJECT_COLUMNS,
    cast(_progress.c.total, Integer).label("total"),
    cast(_progress.c.validated, Integer).label("validated"),
).select_from(projects.join(_progress, true()))
PROJECTS_KEYSET = Keyset(p.created_at, p.id, kinds=(datetime, UUID), descending=True)


# ---------------------------------------------------------------- projects


# A page of projects as the API shows them (ProjectRead), rendered as JSON by Postgres.
_total, _validated = cast(_progress.c.total, Integer), cast(_progress.c.validated, Integer)
_PROJECT_READ = select(
    *PROJECT_COLUMNS,
    func.json_build_object(
        "total",
        _total,
        "validated",
        _validated,
        "percent",
        case((_total > 0, _validated * 100 // _total), else_=0),
    ).label("progress"),
).select_from(projects.join(_progress, true()))


@shaped
def _list_projects(*, client_id: bool, kind: bool, status: bool, phase: bool, after: bool) -> Select[Any]:
    statement = _PROJECT_READ
    for name, present in (("client_id", client_id), ("kind", kind), ("status", status), ("phase", phase)):
        if present:
            statement = statement.where(p[name] == bindparam(name))
    return PROJECTS_KEYSET.json_page(statement, after=after)


async def list_projects_page(session: AnySession, *, filters: dict[str, Any], cursor: str | None, limit: int) -> bytes:
    """A Page[ProjectRead] as JSON bytes, newest first; `filters` holds the columns to match."""
    present = {name: value for name, value in filters.items() if value is not None}
    query = _list_projects(after=cursor is not None, **{name: name in present for name in filters})
    rows = await query.fetch(session, **PROJECTS_KEYSET.values(cursor, limit), **present)
    return PROJECTS_KEYSET.page_json(rows, limit)


_GET_PROJECT = compiled(_WITH_PROGRESS.where(p.id == bindparam("id")))
_LOCK_PROJECT = compiled(select(p.id).where(p.id == bindparam("id")).with_for_update())
_SHARE_PROJECT = compiled(select(p.id).where(p.id == bindparam("id")).with_for_update(read=True))
_OPEN_JOURNEYS = compiled(
    select(p.id)
    .where(p.client_id == bindparam("client_id"), p.kind == "journey", _IS_OPEN)
    .order_by(p.created_at, p.id)
    .with_for_update()
)
# The open journey the Lab home shows: an active one first, then the newest.
_CURRENT_JOURNEY = compiled(
    _WITH_PROGRESS.where(p.client_id == bindparam("client_id"), p.kind == "journey", _IS_OPEN)
    .order_by((p.status == "active").desc(), p.created_at.desc(), p.id.desc())
    .limit(1)
)


async def get_project(session: AnySession, project_id: UUID) -> asyncpg.Record | None:
    return await _GET_PROJECT.fetchrow(session, id=project_id)


async def lock_project(session: AnySession, project_id: UUID, *, share: bool = False) -> bool:
    """Lock order everywhere: project, then step, then validation request."""
    return await (_SHARE_PROJECT if share else _LOCK_PROJECT).fetchval(session, id=project_id) is not None


@shaped
def _insert_project(names: tuple[str, ...]) -> Any:
    return insert(projects).values(bound(p, names)).returning(p.id)


async def insert_project(session: AnySession, values: dict[str, Any]) -> UUID:
    project_id: UUID = await _insert_project(tuple(values)).fetchval(session, **values)
    return project_id


@shaped
def _update_project(names: tuple[str, ...]) -> Any:
    assignments: dict[str, Any] = bound(p, names)
    return sql_update(projects).where(p.id == bindparam("project_id")).values(updated_at=func.now(), **assignments)


async def update_project(session: AnySession, project_id: UUID, values: dict[str, Any]) -> None:
    await _update_project(tuple(values)).execute(session, project_id=project_id, **values)


async def open_journeys(session: AnySession, client_id: UUID) -> list[UUID]:
    """The client's open journeys, locked."""
    return [row["id"] for row in await _OPEN_JOURNEYS.fetch(session, client_id=client_id)]


async def current_journey(session: AnySession, client_id: UUID) -> asyncpg.Record | None:
    return await _CURRENT_JOURNEY.fetchrow(session, client_id=client_id)


# ---------------------------------------------------------------- steps

_LIST_STEPS = compiled(select(*STEP_COLUMNS).where(st.project_id == bindparam("project_id")).order_by(st.position))
_GET_STEP = compiled(select(*STEP_COLUMNS).where(st.id == bindparam("id")))
_LOCK_STEP = compiled(select(*STEP_COLUMNS).where(st.id == bindparam("id")).with_for_update())
_COUNT_STEPS = compiled(select(func.count()).where(st.project_id == bindparam("project_id")))
_SHIFT_STEPS = compiled(
    sql_update(project_steps)
    .where(st.project_id == bindparam("project_id"), st.position >= bindparam("start", type_=Integer))
    .values(position=st.position + bindparam("by", type_=Integer), updated_at=func.now())
)
_new = (
    func.unnest(
        bindparam("titles", type_=ARRAY(Text)),
        bindparam("descriptions", type_=ARRAY(Text)),
        bindparam("roles", type_=ARRAY(Text)),
        bindparam("due_dates", type_=ARRAY(Date)),
        bindparam("statuses", type_=ARRAY(Text)),
    )
    .table_valued("title", "description", "client_role", "due_date", "status", with_ordinality="ord")
    .render_derived("s")
)
_INSERT_STEPS = compiled(
    insert(project_steps)
    .from_select(
        [
            "project_id",
            "client_id",
            "position",
            "title",
            "description",
            "client_role",
            "due_date",
            "status",
            "started_at",
        ],
        select(
            bindparam("project_id", type_=Uuid),
            bindparam("client_id", type_=Uuid),
            cast(bindparam("start", type_=Integer) + _new.c.ord - 1, Integer),
            _new.c.title,
            _new.c.description,
            _new.c.client_role,
            _new.c.due_date,
            _new.c.status,
            case((_new.c.status == "in_progress", func.now())),
        ).order_by(_new.c.ord),
    )
    .returning(*STEP_COLUMNS)
)
_DELETE_STEP = compiled(delete(project_steps).where(st.id == bindparam("id")))
_CLOSE_GAP = compiled(
    sql_update(project_steps)
    .where(st.project_id == bindparam("project_id"), st.position > bindparam("position", type_=Integer))
    .values(position=st.position - 1, updated_at=func.now())
)
_order = func.unnest(bindparam("ids", type_=ARRAY(Uuid))).table_valued("id", with_ordinality="ord").render_derived("o")
# One statement: the deferrable unique (project_id, position) is checked at its end.
_REORDER = compiled(
    sql_update(project_steps)
    .where(st.id == _order.c.id, st.project_id == bindparam("project_id"), st.position != _order.c.ord)
    .values(position=cast(_order.c.ord, Integer), updated_at=func.now())
)


async def list_steps(session: AnySession, project_id: UUID) -> list[asyncpg.Record]:
    return await _LIST_STEPS.fetch(session, project_id=project_id)


async def get_step(session: AnySession, step_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    return await (_LOCK_STEP if for_update else _GET_STEP).fetchrow(session, id=step_id)


async def insert_steps(
    session: AnySession, project_id: UUID, client_id: UUID, steps: list[dict[str, Any]], *, at: int | None = None
) -> list[asyncpg.Record]:
    """Insert steps at position `at` (default: after the last), shifting the following ones down."""
    count: int = await _COUNT_STEPS.fetchval(session, project_id=project_id)
    start = count + 1 if at is None or at > count else at
    if start <= count:
        await _SHIFT_STEPS.execute(session, project_id=project_id, start=start, by=len(steps))
    return await _INSERT_STEPS.fetch(
        session,
        project_id=project_id,
        client_id=client_id,
        start=start,
        titles=[s["title"] for s in steps],
        descriptions=[s["description"] for s in steps],
        roles=[s["client_role"] for s in steps],
        due_dates=[s["due_date"] for s in steps],
        statuses=[s.get("status", "todo") for s in steps],
    )


@shaped
def _update_step(names: tuple[str, ...]) -> Any:
    assignments: dict[str, Any] = bound(st, names)
    return (
        sql_update(project_steps).where(st.id == bindparam("step_id")).values(updated_at=func.now(), **assignments)
        .returning(*STEP_COLUMNS)
    )  # fmt: skip


async def update_step(session: AnySession, step_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await _update_step(tuple(values)).fetchrow(session, step_id=step_id, **values)
    assert row is not None  # the caller holds the step
    return row


async def delete_step(session: AnySession, project_id: UUID, step_id: UUID, position: int) -> bool:
    """False when validation history references the step (the transaction is then aborted)."""
    try:
        await _DELETE_STEP.execute(session, id=step_id)
    except asyncpg.ForeignKeyViolationError:
        return False
    await _CLOSE_GAP.execute(session, project_id=project_id, position=position)
    return True


async def reorder_steps(session: AnySession, project_id: UUID, step_ids: list[UUID]) -> None:
    await _REORDER.execute(session, project_id=project_id, ids=step_ids)


# ---------------------------------------------------------------- timeline

_INSERT_EVENT = compiled(
    insert(timeline_events)
    .values(
        client_id=bindparam("client_id", type_=Uuid),
        project_id=bindparam("project_id", type_=Uuid),
        step_id=bindparam("step_id", type_=Uuid),
        kind=bindparam("kind", type_=Text),
        actor_id=bindparam("actor_id", type_=Uuid),
        actor_role=bindparam("actor_role", type_=Text),
        body=bindparam("body", type_=Text),
        data=bindparam("data", type_=JSONB),
    )
    .returning(*EVENT_COLUMNS)
)
EVENTS_KEYSET = Keyset(ev.id, kinds=(int,), descending=True)


async def insert_event(session: AnySession, values: dict[str, Any]) -> asyncpg.Record:
    row = await _INSERT_EVENT.fetchrow(session, **values)
    assert row is not None  # an INSERT … RETURNING without conflict clause always returns its row
    return row


@shaped
def _list_events(*, of_client: bool, after: bool) -> Select[Any]:
    """A client's stream, or a project's (`of_client` False)."""
    column = ev.client_id if of_client else ev.project_id
    return EVENTS_KEYSET.apply(select(*EVENT_COLUMNS).where(column == bindparam("owner")), after=after)


async def list_events(
    session: AnySession, *, client_id: UUID | None, project_id: UUID | None, cursor: str | None, limit: int
) -> tuple[list[asyncpg.Record], str | None]:
    """A page of a client's (or a project's) timeline, newest first, and the next cursor."""
    query = _list_events(of_client=client_id is not None, after=cursor is not None)
    rows = await query.fetch(session, owner=client_id or project_id, **EVENTS_KEYSET.values(cursor, limit))
    page, next_cursor = next_page(rows, limit, lambda row: (row["id"],))
    return list(page), next_cursor


# ---------------------------------------------------------------- tasks


@shaped
def _list_tasks(*, done: bool) -> Select[Any]:
    statement = select(*TASK_COLUMNS).where(tk.project_id == bindparam("project_id"))
    if done:
        statement = statement.where(tk.done == bindparam("done"))
    return statement.order_by(tk.done, tk.due_date.asc().nulls_last(), tk.created_at, tk.id)


_GET_TASK = compiled(
    select(*TASK_COLUMNS).where(tk.id == bindparam("id"), tk.project_id == bindparam("project_id")).with_for_update()
)
_DELETE_TASK = compiled(delete(project_tasks).where(tk.id == bindparam("id")))


async def list_tasks(session: AnySession, project_id: UUID, *, done: bool | None) -> list[asyncpg.Record]:
    if done is None:
        return await _list_tasks(done=False).fetch(session, project_id=project_id)
    return await _list_tasks(done=True).fetch(session, project_id=project_id, done=done)


async def get_task(session: AnySession, project_id: UUID, task_id: UUID) -> asyncpg.Record | None:
    return await _GET_TASK.fetchrow(session, id=task_id, project_id=project_id)


@shaped
def _insert_task(names: tuple[str, ...]) -> Any:
    return insert(project_tasks).values(bound(tk, names)).returning(*TASK_COLUMNS)


async def insert_task(session: AnySession, values: dict[str, Any]) -> asyncpg.Record:
    row = await _insert_task(tuple(values)).fetchrow(session, **values)
    assert row is not None  # an INSERT … RETURNING without conflict clause always returns its row
    return row


@shaped
def _update_task(names: tuple[str, ...]) -> Any:
    assignments: dict[str, Any] = bound(tk, names)
    return (
        sql_update(project_tasks).where(tk.id == bindparam("task_id")).values(updated_at=func.now(), **assignments)
        .returning(*TASK_COLUMNS)
    )  # fmt: skip


async def update_task(session: AnySession, task_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await _update_task(tuple(values)).fetchrow(session, task_id=task_id, **values)
    assert row is not None  # the caller holds the task
    return row


async def delete_task(session: AnySession, task_id: UUID) -> None:
    await _DELETE_TASK.execute(session, id=task_id)


# ---------------------------------------------------------------- journey templates


@shaped
def _list_templates(*, include_archived: bool) -> Select[Any]:
    statement = select(*TEMPLATE_COLUMNS).order_by(func.lower(tp.name), tp.id)
    return statement if include_archived else statement.where(tp.archived_at.is_(None))


_GET_TEMPLATE = compiled(select(*TEMPLATE_COLUMNS).where(tp.id == bindparam("id")))
_LOCK_TEMPLATE = compiled(select(*TEMPLATE_COLUMNS).where(tp.id == bindparam("id")).with_for_update())


async def list_templates(session: AnySession, *, include_archived: bool) -> list[asyncpg.Record]:
    return await _list_templates(include_archived=include_archived).fetch(session)


async def get_template(session: AnySession, template_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    return await (_LOCK_TEMPLATE if for_update else _GET_TEMPLATE).fetchrow(session, id=template_id)


@shaped
def _insert_template(names: tuple[str, ...]) -> Any:
    return (
        insert(journey_templates).values(bound(tp, names))
        .returning(*TEMPLATE_COLUMNS)
    )  # fmt: skip


async def insert_template(session: AnySession, values: dict[str, Any]) -> asyncpg.Record:
    row = await _insert_template(tuple(values)).fetchrow(session, **values)
    assert row is not None  # an INSERT … RETURNING without conflict clause always returns its row
    return row


@shaped
def _update_template(names: tuple[str, ...]) -> Any:
    assignments: dict[str, Any] = bound(tp, names)
    return (
        sql_update(journey_templates).where(tp.id == bindparam("template_id"))
        .values(updated_at=func.now(), **assignments).returning(*TEMPLATE_COLUMNS)
    )  # fmt: skip


async def update_template(session: AnySession, template_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await _update_template(tuple(values)).fetchrow(session, template_id=template_id, **values)
    assert row is not None  # the caller holds the template
    return row
