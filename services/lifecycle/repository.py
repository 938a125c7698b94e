"""Every query of the lifecycle module (graduation and Lab reactivation)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import bindparam, func, insert, select

from services.core.db import AnySession
from services.core.query import compiled
from services.lifecycle.tables import client_lifecycle_events

c = client_lifecycle_events.c
COLUMNS = (
    c.id,
    c.client_id,
    c.kind,
    c.from_status,
    c.to_status,
    c.lab_cycle,
    c.note,
    c.closed_project_ids,
    c.actor_id,
    c.at,
)
_of_client = c.client_id == bindparam("client_id")
_INSERT = compiled(
    insert(client_lifecycle_events)
    .values(
        {
            col.name: bindparam(col.name, type_=col.type)
            for col in client_lifecycle_events.columns
            if col.name not in ("id", "at")
        }
    )
    .returning(*COLUMNS)
)
_LIST = compiled(select(*COLUMNS).where(_of_client).order_by(c.at.desc(), c.id))
# 1 for the first Lab phase, plus one per reactivation.
_CYCLE = compiled(select(1 + func.count()).where(_of_client, c.kind == "lab_reactivated"))
_MODULES_BEFORE_REACTIVATION = compiled(
    select(c.config_before["active_modules"])
    .where(_of_client, c.kind == "lab_reactivated")
    .order_by(c.at.desc(), c.id)
    .limit(1)
)


async def insert_event(session: AnySession, values: dict[str, Any]) -> asyncpg.Record:
    row = await _INSERT.fetchrow(session, **values)
    assert row is not None  # an INSERT … RETURNING without conflict clause always returns its row
    return row


async def list_events(session: AnySession, client_id: UUID) -> list[asyncpg.Record]:
    return await _LIST.fetch(session, client_id=client_id)


async def current_cycle(session: AnySession, client_id: UUID) -> int:
    cycle: int = await _CYCLE.fetchval(session, client_id=client_id)
    return cycle


async def modules_before_last_reactivation(session: AnySession, client_id: UUID) -> list[str]:
    value = await _MODULES_BEFORE_REACTIVATION.fetchval(session, client_id=client_id)
    return [str(k) for k in value] if isinstance(value, list) else []
