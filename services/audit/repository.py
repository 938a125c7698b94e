from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from services.core.db import AnySession, UserSession
from services.core.sql import Params


async def insert(
    session: AnySession,
    *,
    client_id: UUID | None,
    action: str,
    entity_type: str,
    entity_id: str | None,
    before: Any,
    after: Any,
) -> None:
    await session.execute(
        "select private.write_audit($1, $2, $3, $4, $5, $6, $7)",
        client_id,
        action,
        entity_type,
        entity_id,
        before,
        after,
        session.request_id,
    )


async def list_entries(
    session: UserSession,
    *,
    client_id: UUID | None,
    actor_id: UUID | None,
    action: str | None,
    entity_type: str | None,
    entity_id: str | None,
    since: datetime | None,
    until: datetime | None,
    after: tuple[int] | None,
    limit: int,
) -> list[Any]:
    params, conditions = Params(), []
    arg = params.add

    if client_id is not None:
        conditions.append(f"client_id = {arg(client_id)}")
    if actor_id is not None:
        conditions.append(f"actor_id = {arg(actor_id)}")
    if action is not None:
        conditions.append(f"action = {arg(action)}")
    if entity_type is not None:
        conditions.append(f"entity_type = {arg(entity_type)}")
    if entity_id is not None:
        conditions.append(f"entity_id = {arg(entity_id)}")
    if since is not None:
        conditions.append(f"at >= {arg(since)}")
    if until is not None:
        conditions.append(f"at < {arg(until)}")
    if after is not None:
        # ids are monotonic with `at`, so the id alone is a stable keyset
        conditions.append(f"id < {arg(after[0])}")
    where = " and ".join(conditions) or "true"
    return await session.fetch(
        f"select id, at, actor_id, actor_role, client_id, action, entity_type, entity_id, before, after,"
        f" request_id from public.audit_log where {where} order by id desc limit {arg(limit + 1)}",
        *params.values,
    )
