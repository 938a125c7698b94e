"""Every query of the billing sync half: changelog cursors, accounting exports, Stripe events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.billing.sync.tables import billing_sync_state
from services.core.db import AnySession
from services.core.query import compiled

# ---------------------------------------------------------------- sync state

_STATES = compiled(select(billing_sync_state).order_by(billing_sync_state.c.resource))
_STATE = compiled(select(billing_sync_state).where(billing_sync_state.c.resource == bindparam("resource")))

_ran = {"last_run_at": func.now(), "updated_at": func.now()}
_SAVE_CURSOR = compiled(
    pg_insert(billing_sync_state)
    .values(
        resource=bindparam("resource"),
        cursor_at=bindparam("cursor_at"),
        cursor_ids=bindparam("cursor_ids"),
        last_mode=bindparam("mode"),
        last_changes=bindparam("changes"),
        last_success_at=func.now(),
        **_ran,
    )
    .on_conflict_do_update(
        index_elements=[billing_sync_state.c.resource],
        set_={
            "cursor_at": bindparam("cursor_at"),
            "cursor_ids": bindparam("cursor_ids"),
            "last_mode": bindparam("mode"),
            # A run commits a batch per changelog page: the run's total is the sum of its batches.
            "last_changes": func.least(
                billing_sync_state.c.last_changes * bindparam("accumulate") + bindparam("changes"), 2**31 - 1
            ),
            "last_success_at": func.now(),
            "last_error": None,
            "last_error_at": None,
            **_ran,
        },
    )
)
_RECORD_ERROR = compiled(
    pg_insert(billing_sync_state)
    .values(resource=bindparam("resource"), last_error=bindparam("error"), last_error_at=func.now(), **_ran)
    .on_conflict_do_update(
        index_elements=[billing_sync_state.c.resource],
        set_={"last_error": bindparam("error"), "last_error_at": func.now(), **_ran},
    )
)


async def sync_states(session: AnySession) -> list[asyncpg.Record]:
    return await _STATES.fetch(session)


async def sync_state(session: AnySession, resource: str) -> asyncpg.Record | None:
    return await _STATE.fetchrow(session, resource=resource)


async def save_cursor(
    session: AnySession,
    resource: str,
    cursor_at: datetime | None,
    cursor_ids: list[int],
    *,
    mode: str,
    changes: int,
    accumulate: bool,
) -> None:
    """Move the cursor (in the transaction that wrote the batch) and count the batch's changes."""
    values: dict[str, Any] = {"cursor_at": cursor_at, "cursor_ids": cursor_ids, "mode": mode, "changes": changes}
    await _SAVE_CURSOR.execute(session, resource=resource, accumulate=int(accumulate), **values)


async def record_error(session: AnySession, resource: str, error: str) -> None:
    await _RECORD_ERROR.execute(session, resource=resource, error=error[:4000])
