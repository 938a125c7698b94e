"""Every query of the projects module (projects, steps, timeline, tasks, journey templates)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.core.db import AnySession
from services.core.sql import Params, insert_returning, update_returning

PROJECT_COLUMNS = (
    "id, client_id, kind, phase, name, description, status, template_id, template_version,"
    " start_date, due_date, started_at, closed_at, created_at, updated_at"
)
STEP_COLUMNS = (
    "id, project_id, client_id, position, title, description, client_role, status, due_date,"
    " started_at, submitted_at, completed_at, created_at, updated_at"
)
TASK_COLUMNS = (
    "id, project_id, client_id, title, notes, done, done_at, due_date, source, source_ref,"
    " created_by, created_at, updated_at"
)
TEMPLATE_COLUMNS = "id, name, description, steps, version, archived_at, created_at, updated_at"
EVENT_COLUMNS = "id, client_id, project_id, step_id, kind, actor_id, actor_role, body, data, at"

# Progress is derived here on every read: it is never stored.
_WITH_PROGRESS = f"""
select {", ".join("p." + c.strip() for c in PROJECT_COLUMNS.split(","))},
  coalesce(s.total, 0)::int as total, coalesce(s.validated, 0)::int as validated
from public.projects p
left join lateral (
  select count(*) as total, count(*) filter (where st.status = 'validated') as validated
  from public.project_steps st where st.project_id = p.id) s on true"""


# ---------------------------------------------------------------- projects


async def list_projects(
    session: AnySession,
    *,
    client_id: UUID | None,
    kind: str | None,
    status: str | None,
    phase: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    conditions: list[str] = []
    params = Params()
    for column, value in (("client_id", client_id), ("kind", kind), ("status", status), ("phase", phase)):
        if value is not None:
            conditions.append(f"p.{column} = {params.add(value)}")
    if after is not None:
        conditions.append(f"(p.created_at, p.id) < ({params.add(after[0])}::timestamptz, {params.add(after[1])}::uuid)")
    where = " and ".join(conditions) or "true"
    return await session.fetch(
        f"{_WITH_PROGRESS} where {where} order by p.created_at desc, p.id desc limit {params.add(limit + 1)}",
        *params.values,
    )


async def get_project(session: AnySession, project_id: UUID) -> asyncpg.Record | None:
    return await session.fetchrow(f"{_WITH_PROGRESS} where p.id = $1", project_id)


async def lock_project(session: AnySession, project_id: UUID, *, share: bool = False) -> asyncpg.Record | None:
    """Lock order everywhere: project, then step, then validation request."""
    mode = "share" if share else "update"
    return await session.fetchrow(f"select {PROJECT_COLUMNS} from public.projects where id = $1 for {mode}", project_id)


async def insert_project(session: AnySession, values: dict[str, Any]) -> UUID:
    project_id: UUID = (await insert_returning(session, "public.projects", values, "id"))["id"]
    return project_id


async def update_project(session: AnySession, project_id: UUID, values: dict[str, Any]) -> None:
    await update_returning(session, "public.projects", "id = $1", (project_id,), values, "id")


async def open_journeys(session: AnySession, client_id: UUID) -> list[asyncpg.Record]:
    return await session.fetch(
        f"select {PROJECT_COLUMNS} from public.projects where client_id = $1 and kind = 'journey'"
        " and status in ('planned', 'active', 'paused') order by created_at, id for update",
        client_id,
    )


async def current_journey(session: AnySession, client_id: UUID) -> asyncpg.Record | None:
    """The open journey the Lab home shows: an active one first, then the newest."""
    return await session.fetchrow(
        f"{_WITH_PROGRESS} where p.client_id = $1 and p.kind = 'journey'"
        " and p.status in ('planned', 'active', 'paused')"
        " order by (p.status = 'active') desc, p.created_at desc, p.id desc limit 1",
        client_id,
    )


# ---------------------------------------------------------------- steps


async def list_steps(session: AnySession, project_id: UUID) -> list[asyncpg.Record]:
    return await session.fetch(
        f"select {STEP_COLUMNS} from public.project_steps where project_id = $1 order by position", project_id
    )


async def get_step(session: AnySession, step_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    lock = " for update" if for_update else ""
    return await session.fetchrow(f"select {STEP_COLUMNS} from public.project_steps where id = $1{lock}", step_id)


async def insert_steps(
    session: AnySession, project_id: UUID, client_id: UUID, steps: list[dict[str, Any]], *, at: int | None = None
) -> list[asyncpg.Record]:
    """Insert steps at position `at` (default: after the last), shifting the following ones down."""
    count: int = await session.fetchval("select count(*) from public.project_steps where project_id = $1", project_id)
    start = count + 1 if at is None or at > count else at
    if start <= count:
        await session.execute(
            "update public.project_steps set position = position + $3, updated_at = now()"
            " where project_id = $1 and position >= $2",
            project_id,
            start,
            len(steps),
        )
    rows = [
        {
            "status": "todo",
            **{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in step.items()},
            "ord": index,
        }
        for index, step in enumerate(steps)
    ]
    return await session.fetch(
        f"insert into public.project_steps (project_id, client_id, position, title, description, client_role,"
        f" due_date, status, started_at)"
        f" select $1, $2, $3 + s.ord, s.title, s.description, s.client_role, s.due_date, s.status,"
        f"   case when s.status = 'in_progress' then now() end"
        f" from jsonb_to_recordset($4::jsonb) as s(title text, description text, client_role text,"
        f"   due_date date, status text, ord int)"
        f" order by s.ord returning {STEP_COLUMNS}",
        project_id,
        client_id,
        start,
        rows,
    )


async def update_step(session: AnySession, step_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await update_returning(session, "public.project_steps", "id = $1", (step_id,), values, STEP_COLUMNS)
    assert row is not None  # the caller holds the step
    return row


async def delete_step(session: AnySession, project_id: UUID, step_id: UUID, position: int) -> bool:
    """False when validation history references the step (the transaction is then aborted)."""
    try:
        await session.execute("delete from public.project_steps where id = $1", step_id)
    except asyncpg.ForeignKeyViolationError:
        return False
    await session.execute(
        "update public.project_steps set position = position - 1, updated_at = now()"
        " where project_id = $1 and position > $2",
        project_id,
        position,
    )
    return True


async def reorder_steps(session: AnySession, project_id: UUID, step_ids: list[UUID]) -> None:
    # One statement: the deferrable unique (project_id, position) is checked at its end.
    await session.execute(
        "update public.project_steps s set position = o.ord, updated_at = now()"
        " from unnest($2::uuid[]) with ordinality as o(id, ord)"
        " where s.id = o.id and s.project_id = $1 and s.position <> o.ord",
        project_id,
        step_ids,
    )


# ---------------------------------------------------------------- timeline


async def insert_event(session: AnySession, values: dict[str, Any]) -> asyncpg.Record:
    return await insert_returning(session, "public.timeline_events", values, EVENT_COLUMNS)


async def list_events(
    session: AnySession, *, client_id: UUID | None, project_id: UUID | None, before_id: int | None, limit: int
) -> list[asyncpg.Record]:
    conditions: list[str] = []
    params = Params()
    if client_id is not None:
        conditions.append(f"client_id = {params.add(client_id)}")
    if project_id is not None:
        conditions.append(f"project_id = {params.add(project_id)}")
    if before_id is not None:
        conditions.append(f"id < {params.add(before_id)}")
    return await session.fetch(
        f"select {EVENT_COLUMNS} from public.timeline_events where {' and '.join(conditions)}"
        f" order by id desc limit {params.add(limit + 1)}",
        *params.values,
    )


# ---------------------------------------------------------------- tasks


async def list_tasks(session: AnySession, project_id: UUID, *, done: bool | None) -> list[asyncpg.Record]:
    return await session.fetch(
        f"select {TASK_COLUMNS} from public.project_tasks where project_id = $1"
        " and ($2::boolean is null or done = $2)"
        " order by done, due_date nulls last, created_at, id",
        project_id,
        done,
    )


async def get_task(session: AnySession, project_id: UUID, task_id: UUID) -> asyncpg.Record | None:
    return await session.fetchrow(
        f"select {TASK_COLUMNS} from public.project_tasks where id = $1 and project_id = $2 for update",
        task_id,
        project_id,
    )


async def insert_task(session: AnySession, values: dict[str, Any]) -> asyncpg.Record:
    return await insert_returning(session, "public.project_tasks", values, TASK_COLUMNS)


async def update_task(session: AnySession, task_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await update_returning(session, "public.project_tasks", "id = $1", (task_id,), values, TASK_COLUMNS)
    assert row is not None  # the caller holds the task
    return row


async def delete_task(session: AnySession, task_id: UUID) -> None:
    await session.execute("delete from public.project_tasks where id = $1", task_id)


# ---------------------------------------------------------------- journey templates


async def list_templates(session: AnySession, *, include_archived: bool) -> list[asyncpg.Record]:
    return await session.fetch(
        f"select {TEMPLATE_COLUMNS} from public.journey_templates"
        " where $1 or archived_at is null order by lower(name), id",
        include_archived,
    )


async def get_template(session: AnySession, template_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    lock = " for update" if for_update else ""
    return await session.fetchrow(
        f"select {TEMPLATE_COLUMNS} from public.journey_templates where id = $1{lock}", template_id
    )


async def insert_template(session: AnySession, values: dict[str, Any]) -> asyncpg.Record:
    return await insert_returning(session, "public.journey_templates", values, TEMPLATE_COLUMNS)


async def update_template(session: AnySession, template_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await update_returning(
        session, "public.journey_templates", "id = $1", (template_id,), values, TEMPLATE_COLUMNS
    )
    assert row is not None  # the caller holds the template
    return row
