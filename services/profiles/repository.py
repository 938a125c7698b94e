"""Every query of the profiles module: the signed-in user's own profile (RLS: a user sees only theirs)."""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy import func, literal_column, select, update

from services.core.db import UserSession
from services.core.query import bound, compiled, shaped
from services.profiles.tables import profiles

p = profiles.c
COLUMNS = (p.user_id, p.display_name, p.avatar_url, p.locale, p.theme, p.notification_prefs, p.quiet_hours,
           p.onboarding, p.created_at, p.updated_at)  # fmt: skip
# The caller's clients, read with the profile (one round trip).
_CLIENT_IDS = select(literal_column("private.my_client_ids()")).scalar_subquery().label("client_ids")
_OWN = p.user_id == select(func.auth.uid()).scalar_subquery()

_GET_OWN = compiled(select(*COLUMNS, _CLIENT_IDS).where(_OWN))
_GET_OWN_FOR_UPDATE = compiled(select(*COLUMNS, _CLIENT_IDS).where(_OWN).with_for_update())
_ENSURE_OWN = "select private.ensure_profile()"
# A read session runs each statement read-only with no transaction of its own: the repair gets one.
_ENSURE_OWN_ALONE = "begin read write; select private.ensure_profile(); commit"


async def get_own(session: UserSession, *, for_update: bool = False) -> asyncpg.Record | None:
    return await (_GET_OWN_FOR_UPDATE if for_update else _GET_OWN).fetchrow(session)


async def ensure_own(session: UserSession) -> None:
    await session.execute(_ENSURE_OWN_ALONE if session.read_only else _ENSURE_OWN)


@shaped
def _update_own(names: tuple[str, ...]) -> Any:
    values: dict[str, Any] = bound(p, names)
    return update(profiles).where(_OWN).values(updated_at=func.now(), **values).returning(*COLUMNS, _CLIENT_IDS)


async def update_own(session: UserSession, values: dict[str, Any]) -> asyncpg.Record:
    row = await _update_own(tuple(values)).fetchrow(session, **values)
    assert row is not None
    return row
