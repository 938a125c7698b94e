from __future__ import annotations

from typing import Any

import asyncpg

from services.core.db import UserSession
from services.core.sql import update_returning

COLUMNS = (
    "user_id, display_name, avatar_url, locale, theme, notification_prefs, quiet_hours, onboarding,"
    " created_at, updated_at"
)


async def get_own(session: UserSession, *, for_update: bool = False) -> asyncpg.Record | None:
    lock = " for update" if for_update else ""
    return await session.fetchrow(
        f"select {COLUMNS}, (select private.my_client_ids()) as client_ids from public.profiles"
        f" where user_id = (select auth.uid()){lock}"
    )


async def ensure_own(session: UserSession) -> None:
    await session.execute("select private.ensure_profile()")


async def update_own(session: UserSession, values: dict[str, Any]) -> asyncpg.Record:
    row = await update_returning(
        session,
        "public.profiles",
        "user_id = (select auth.uid())",
        (),
        values,
        f"{COLUMNS}, (select private.my_client_ids()) as client_ids",
    )
    assert row is not None
    return row
