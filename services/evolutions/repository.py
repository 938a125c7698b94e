"""Every query of the evolutions module."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.core.db import AnySession
from services.core.sql import Params, insert_returning, update_returning

COLUMNS = (
    "e.id, e.client_id, c.company_name, e.title, e.description, e.desired_date, e.status,"
    " e.quote_reference, e.decline_reason, e.project_id, e.requested_by, e.delivered_at, e.declined_at,"
    " e.created_at, e.updated_at"
)
_FROM = "from public.evolution_requests e join public.clients c on c.id = e.client_id"
EVENT_COLUMNS = "id, from_status, to_status, note, actor_id, actor_role, at"


async def insert(session: AnySession, values: dict[str, Any]) -> UUID:
    evolution_id: UUID = (await insert_returning(session, "public.evolution_requests", values, "id"))["id"]
    return evolution_id


async def get(session: AnySession, evolution_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    lock = " for update of e" if for_update else ""
    return await session.fetchrow(f"select {COLUMNS} {_FROM} where e.id = $1{lock}", evolution_id)


async def update(session: AnySession, evolution_id: UUID, values: dict[str, Any]) -> None:
    await update_returning(session, "public.evolution_requests", "id = $1", (evolution_id,), values, "id")


async def list_requests(
    session: AnySession, *, client_id: UUID | None, status: str | None, after: tuple[datetime, UUID] | None, limit: int
) -> list[asyncpg.Record]:
    conditions: list[str] = []
    params = Params()
    if client_id is not None:
        conditions.append(f"e.client_id = {params.add(client_id)}")
    if status is not None:
        conditions.append(f"e.status = {params.add(status)}")
    if after is not None:
        conditions.append(f"(e.created_at, e.id) < ({params.add(after[0])}::timestamptz, {params.add(after[1])}::uuid)")
    where = " and ".join(conditions) or "true"
    return await session.fetch(
        f"select {COLUMNS} {_FROM} where {where} order by e.created_at desc, e.id desc limit {params.add(limit + 1)}",
        *params.values,
    )


async def insert_event(session: AnySession, values: dict[str, Any]) -> None:
    await insert_returning(session, "public.evolution_events", values, "id")


async def events(session: AnySession, evolution_id: UUID) -> list[asyncpg.Record]:
    return await session.fetch(
        f"select {EVENT_COLUMNS} from public.evolution_events where evolution_id = $1 order by id", evolution_id
    )
