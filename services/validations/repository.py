"""Every query of the Validation Hub."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from services.core.db import AnySession, UserSession
from services.core.sql import Params

REQUEST_COLUMNS = (
    "r.id, r.client_id, c.company_name, r.project_id, p.name as project_name, r.step_id,"
    " s.title as step_title, s.position as step_position, r.status, r.current_round,"
    " coalesce(rd.message, '') as last_message, r.submitted_by, r.last_submitted_at,"
    " r.decided_at, r.created_at, r.updated_at"
)
_FROM = """
from public.validation_requests r
join public.clients c on c.id = r.client_id
join public.projects p on p.id = r.project_id
join public.project_steps s on s.id = r.step_id
left join public.validation_rounds rd on rd.request_id = r.id and rd.round = r.current_round"""
ROUND_COLUMNS = (
    "round, message, document_ids, submitted_by, submitted_at, decision, decision_comment, decided_by, decided_at"
)


class SubmitRefused(Exception):
    def __init__(self, sqlstate: str, message: str) -> None:
        super().__init__(message)
        self.sqlstate, self.message = sqlstate, message


def _filters(
    params: Params,
    *,
    client_id: UUID | None,
    project_id: UUID | None,
    min_age_hours: int | None = None,
    max_age_hours: int | None = None,
) -> list[str]:
    conditions = []
    if client_id is not None:
        conditions.append(f"r.client_id = {params.add(client_id)}")
    if project_id is not None:
        conditions.append(f"r.project_id = {params.add(project_id)}")
    if min_age_hours is not None:
        conditions.append(f"r.last_submitted_at <= now() - make_interval(hours => {params.add(min_age_hours)})")
    if max_age_hours is not None:
        conditions.append(f"r.last_submitted_at >= now() - make_interval(hours => {params.add(max_age_hours)})")
    return conditions


async def documents_of_client(session: UserSession, document_ids: list[UUID], client_id: UUID) -> set[UUID]:
    """The ids among `document_ids` that are documents of `client_id` the caller can see (RLS)."""
    rows = await session.fetch(
        "select id from public.documents where id = any($1::uuid[]) and client_id = $2", document_ids, client_id
    )
    return {r["id"] for r in rows}


async def submit(session: UserSession, step_id: UUID, message: str, document_ids: list[UUID]) -> tuple[UUID, int]:
    """Through private.submit_step: the one write a member may do here (see migration 0031)."""
    try:
        row = await session.fetchrow(
            "select request_id, round from private.submit_step($1, $2, $3)", step_id, message, document_ids
        )
    except asyncpg.PostgresError as exc:
        if exc.sqlstate in ("FX404", "FX409", "FX422"):
            raise SubmitRefused(exc.sqlstate, str(exc)) from None
        raise
    assert row is not None
    return row["request_id"], row["round"]


async def get(session: AnySession, request_id: UUID) -> asyncpg.Record | None:
    return await session.fetchrow(f"select {REQUEST_COLUMNS} {_FROM} where r.id = $1", request_id)


async def lock(session: AnySession, request_id: UUID) -> asyncpg.Record | None:
    return await session.fetchrow(
        "select id, status, current_round from public.validation_requests where id = $1 for update", request_id
    )


async def rounds(session: AnySession, request_id: UUID) -> list[asyncpg.Record]:
    return await session.fetch(
        f"select {ROUND_COLUMNS} from public.validation_rounds where request_id = $1 order by round", request_id
    )


async def list_requests(
    session: UserSession,
    *,
    client_id: UUID | None,
    project_id: UUID | None,
    step_id: UUID | None,
    status: str | None,
    queue: bool,
    min_age_hours: int | None,
    max_age_hours: int | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """The queue (pending, oldest submission first) or a history (newest first)."""
    params = Params()
    conditions = _filters(
        params, client_id=client_id, project_id=project_id, min_age_hours=min_age_hours, max_age_hours=max_age_hours
    )
    if step_id is not None:
        conditions.append(f"r.step_id = {params.add(step_id)}")
    if queue:
        conditions.append("r.status = 'pending'")
        key, op, direction = "r.last_submitted_at", ">", "asc"
    else:
        if status is not None:
            conditions.append(f"r.status = {params.add(status)}")
        key, op, direction = "r.created_at", "<", "desc"
    if after is not None:
        conditions.append(f"({key}, r.id) {op} ({params.add(after[0])}::timestamptz, {params.add(after[1])}::uuid)")
    where = " and ".join(conditions) or "true"
    return await session.fetch(
        f"select {REQUEST_COLUMNS} {_FROM} where {where} order by {key} {direction}, r.id {direction}"
        f" limit {params.add(limit + 1)}",
        *params.values,
    )


async def counts(session: UserSession, *, client_id: UUID | None, project_id: UUID | None) -> asyncpg.Record:
    params = Params()
    where = " and ".join(_filters(params, client_id=client_id, project_id=project_id)) or "true"
    row = await session.fetchrow(
        "select count(*) filter (where r.status = 'pending')::int as pending,"
        " count(*) filter (where r.status = 'changes_requested')::int as changes_requested,"
        " count(*) filter (where r.status = 'pending' and r.last_submitted_at < now() - interval '24 hours')::int"
        "   as pending_over_24h,"
        " count(*) filter (where r.status = 'pending' and r.last_submitted_at < now() - interval '72 hours')::int"
        "   as pending_over_72h,"
        " min(r.last_submitted_at) filter (where r.status = 'pending') as oldest_pending_at,"
        " coalesce((select json_agg(b order by b.pending desc, b.company_name) from ("
        "   select r2.client_id, c.company_name, count(*)::int as pending"
        "   from public.validation_requests r2 join public.clients c on c.id = r2.client_id"
        f"  where r2.status = 'pending' and r2.id in (select r.id from public.validation_requests r where {where})"
        "   group by r2.client_id, c.company_name) b), '[]'::json) as by_client"
        f" from public.validation_requests r where {where}",
        *params.values,
    )
    assert row is not None
    return row


async def decide_round(
    session: AnySession, request_id: UUID, round_number: int, decision: str, comment: str | None, decided_by: UUID
) -> asyncpg.Record | None:
    """None when the round already has a decision: decisions are final."""
    return await session.fetchrow(
        f"update public.validation_rounds set decision = $3, decision_comment = $4, decided_by = $5,"
        f" decided_at = now() where request_id = $1 and round = $2 and decision is null returning {ROUND_COLUMNS}",
        request_id,
        round_number,
        decision,
        comment,
        decided_by,
    )


async def set_status(session: AnySession, request_id: UUID, status: str) -> None:
    await session.execute(
        "update public.validation_requests set status = $2, decided_at = now(), updated_at = now() where id = $1",
        request_id,
        status,
    )


async def open_request_of_step(session: AnySession, step_id: UUID) -> UUID | None:
    request_id: UUID | None = await session.fetchval(
        "select id from public.validation_requests where step_id = $1 and status in ('pending', 'changes_requested')",
        step_id,
    )
    return request_id


async def close_open(session: AnySession, project_ids: list[UUID]) -> list[UUID]:
    rows = await session.fetch(
        "update public.validation_requests set status = 'closed', decided_at = now(), updated_at = now()"
        " where project_id = any($1::uuid[]) and status in ('pending', 'changes_requested') returning id",
        project_ids,
    )
    return [r["id"] for r in rows]
