"""Every query of the lifecycle module (graduation and Lab reactivation)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from services.core.db import AnySession
from services.core.sql import insert_returning

COLUMNS = "id, client_id, kind, from_status, to_status, lab_cycle, note, closed_project_ids, actor_id, at"


async def insert_event(session: AnySession, values: dict[str, Any]) -> asyncpg.Record:
    return await insert_returning(session, "public.client_lifecycle_events", values, COLUMNS)


async def list_events(session: AnySession, client_id: UUID) -> list[asyncpg.Record]:
    return await session.fetch(
        f"select {COLUMNS} from public.client_lifecycle_events where client_id = $1 order by at desc, id", client_id
    )


async def current_cycle(session: AnySession, client_id: UUID) -> int:
    """1 for the first Lab phase, plus one per reactivation."""
    count: int = await session.fetchval(
        "select count(*) from public.client_lifecycle_events where client_id = $1 and kind = 'lab_reactivated'",
        client_id,
    )
    return 1 + count


async def modules_before_last_reactivation(session: AnySession, client_id: UUID) -> list[str]:
    value = await session.fetchval(
        "select config_before -> 'active_modules' from public.client_lifecycle_events"
        " where client_id = $1 and kind = 'lab_reactivated' order by at desc, id limit 1",
        client_id,
    )
    return [str(k) for k in value] if isinstance(value, list) else []
