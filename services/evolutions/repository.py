"""Every query of the evolutions module."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.core.db import AnySession

COLUMNS = ("e.id, e.client_id, c.company_name, e.title, e.description, e.desired_date, e.status,"
           " e.quote_reference, e.decline_reason, e.project_id, e.requested_by, e.delivered_at, e.declined_at,"
           " e.created_at, e.updated_at")
_FROM = "from public.evolution_requests e join public.clients c on c.id = e.client_id"
EVENT_COLUMNS = "id, from_status, to_status, note, actor_id, actor_role, at"


async def insert(session: AnySession, values: dict[str, Any]) -> UUID:
    names = list(values)
    placeholders = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    evolution_id: UUID = await session.fetchval(
        f"insert into public.evolution_requests ({', '.join(names)}) values ({placeholders}) returning id",
        *values.values())
    return evolution_id


async def get(session: AnySession, evolution_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    lock = " for update of e" if for_update else ""
    return await session.fetchrow(f"select {COLUMNS} {_FROM} where e.id = $1{lock}", evolution_id)


async def update(session: AnySession, evolution_id: UUID, values: dict[str, Any]) -> None:
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(values, start=2))
    await session.execute(
        f"update public.evolution_requests set {assignments}, updated_at = now() where id = $1",
        evolution_id, *values.values())


async def list_requests(session: AnySession, *, client_id: UUID | None, status: str | None,
                    after: tuple[datetime, UUID] | None, limit: int) -> list[asyncpg.Record]:
    conditions, args = [], []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if client_id is not None:
        conditions.append(f"e.client_id = {arg(client_id)}")
    if status is not None:
        conditions.append(f"e.status = {arg(status)}")
    if after is not None:
        conditions.append(f"(e.created_at, e.id) < ({arg(after[0])}::timestamptz, {arg(after[1])}::uuid)")
    where = " and ".join(conditions) or "true"
    return await session.fetch(
        f"select {COLUMNS} {_FROM} where {where} order by e.created_at desc, e.id desc limit {arg(limit + 1)}",
        *args)


async def insert_event(session: AnySession, values: dict[str, Any]) -> None:
    names = list(values)
    placeholders = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    await session.execute(
        f"insert into public.evolution_events ({', '.join(names)}) values ({placeholders})", *values.values())


async def events(session: AnySession, evolution_id: UUID) -> list[asyncpg.Record]:
    return await session.fetch(
        f"select {EVENT_COLUMNS} from public.evolution_events where evolution_id = $1 order by id", evolution_id)
