from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import Select, bindparam, select

from services.audit.tables import audit_log
from services.core.db import AnySession, UserSession
from services.core.pagination import Keyset
from services.core.query import shaped


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


# ids are monotonic with `at`, so the id alone is a stable keyset
KEYSET = Keyset(audit_log.c.id, kinds=(int,), descending=True)
_FILTERS = ("client_id", "actor_id", "action", "entity_type", "entity_id")


@shaped
def _list(filters: tuple[str, ...], since: bool, until: bool, after: bool) -> Select[Any]:
    statement = select(audit_log)
    for name in filters:
        statement = statement.where(audit_log.c[name] == bindparam(name))
    if since:
        statement = statement.where(audit_log.c.at >= bindparam("since"))
    if until:
        statement = statement.where(audit_log.c.at < bindparam("until"))
    return KEYSET.apply(statement, after=after)


async def list_entries(
    session: UserSession,
    *,
    filters: dict[str, Any],
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    limit: int,
) -> list[asyncpg.Record]:
    """`limit + 1` entries, newest first; `filters` are equality filters on the columns in `_FILTERS`."""
    present = {name: value for name, value in filters.items() if value is not None}
    unknown = present.keys() - set(_FILTERS)
    if unknown:
        raise ValueError(f"not an audit filter: {sorted(unknown)}")
    query = _list(tuple(sorted(present)), since is not None, until is not None, cursor is not None)
    values = {**present, **KEYSET.values(cursor, limit)}
    if since is not None:
        values["since"] = since
    if until is not None:
        values["until"] = until
    return await query.fetch(session, **values)
