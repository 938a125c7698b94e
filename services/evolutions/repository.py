"""Every query of the evolutions module."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import Select, Text, Uuid, bindparam, func, insert, select, update

from services.clients.tables import clients
from services.core.db import AnySession
from services.core.pagination import Keyset, next_page
from services.core.query import bound, compiled, shaped
from services.evolutions.tables import evolution_events, evolution_requests

e, ev = evolution_requests.c, evolution_events.c
_READ = select(
    e.id, e.client_id, clients.c.company_name, e.title, e.description, e.desired_date, e.status, e.quote_reference,
    e.decline_reason, e.project_id, e.requested_by, e.delivered_at, e.declined_at, e.created_at, e.updated_at,
).join_from(evolution_requests, clients, clients.c.id == e.client_id)  # fmt: skip
KEYSET = Keyset(e.created_at, e.id, kinds=(datetime, UUID), descending=True)

_GET = compiled(_READ.where(e.id == bindparam("id")))
_LOCK = compiled(_READ.where(e.id == bindparam("id")).with_for_update(of=evolution_requests))
_EVENTS = compiled(
    select(ev.id, ev.from_status, ev.to_status, ev.note, ev.actor_id, ev.actor_role, ev.at)
    .where(ev.evolution_id == bindparam("id"))
    .order_by(ev.id)
)
_INSERT_EVENT = compiled(
    insert(evolution_events).values(
        evolution_id=bindparam("evolution_id", type_=Uuid),
        client_id=bindparam("client_id", type_=Uuid),
        from_status=bindparam("from_status", type_=Text),
        to_status=bindparam("to_status", type_=Text),
        note=bindparam("note", type_=Text, value=None),
        actor_id=bindparam("actor_id", type_=Uuid),
        actor_role=bindparam("actor_role", type_=Text),
    )
)


@shaped
def _insert(names: tuple[str, ...]) -> Any:
    return insert(evolution_requests).values(bound(e, names)).returning(e.id)


async def insert_request(session: AnySession, values: dict[str, Any]) -> UUID:
    evolution_id: UUID = await _insert(tuple(values)).fetchval(session, **values)
    return evolution_id


async def get(session: AnySession, evolution_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    return await (_LOCK if for_update else _GET).fetchrow(session, id=evolution_id)


@shaped
def _update(names: tuple[str, ...]) -> Any:
    assignments: dict[str, Any] = bound(e, names)
    return (
        update(evolution_requests).where(e.id == bindparam("evolution_id")).values(updated_at=func.now(), **assignments)
    )


async def update_request(session: AnySession, evolution_id: UUID, values: dict[str, Any]) -> None:
    await _update(tuple(values)).execute(session, evolution_id=evolution_id, **values)


@shaped
def _list(*, client: bool, status: bool, after: bool) -> Select[Any]:
    statement = _READ
    if client:
        statement = statement.where(e.client_id == bindparam("client_id"))
    if status:
        statement = statement.where(e.status == bindparam("status"))
    return KEYSET.apply(statement, after=after)


async def list_requests(
    session: AnySession, *, client_id: UUID | None, status: str | None, cursor: str | None, limit: int
) -> tuple[list[asyncpg.Record], str | None]:
    """A page, newest first, and the next cursor."""
    values = {k: v for k, v in (("client_id", client_id), ("status", status)) if v is not None}
    query = _list(client=client_id is not None, status=status is not None, after=cursor is not None)
    rows = await query.fetch(session, **KEYSET.values(cursor, limit), **values)
    page, next_cursor = next_page(rows, limit, lambda row: (row["created_at"], row["id"]))
    return list(page), next_cursor


async def insert_event(session: AnySession, values: dict[str, Any]) -> None:
    await _INSERT_EVENT.execute(session, **values)


async def events(session: AnySession, evolution_id: UUID) -> list[asyncpg.Record]:
    return await _EVENTS.fetch(session, id=evolution_id)
