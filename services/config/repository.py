from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from services.core.db import AnySession
from services.core.sql import update_returning

MODULE_COLUMNS = "key, name, kind, version, description, dashboards, depends_on, default_for, position"
CONFIG_COLUMNS = "client_id, dashboard_type, active_modules, theme, custom_config, updated_at"


async def list_modules(
    session: AnySession, *, kind: str | None = None, dashboard: str | None = None
) -> list[asyncpg.Record]:
    return await session.fetch(
        f"select {MODULE_COLUMNS} from public.modules"
        " where ($1::text is null or kind = $1) and ($2::text is null or $2 = any(dashboards))"
        " order by position, key",
        kind,
        dashboard,
    )


async def get_module(session: AnySession, key: str) -> asyncpg.Record | None:
    return await session.fetchrow(f"select {MODULE_COLUMNS} from public.modules where key = $1", key)


async def insert_module(session: AnySession, values: dict[str, Any]) -> asyncpg.Record | None:
    names = list(values)
    placeholders = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    return await session.fetchrow(
        f"insert into public.modules ({', '.join(names)}, kind) values ({placeholders}, 'specifique')"
        f" on conflict (key) do nothing returning {MODULE_COLUMNS}",
        *values.values(),
    )


async def update_module(session: AnySession, key: str, values: dict[str, Any]) -> asyncpg.Record:
    row = await update_returning(session, "public.modules", "key = $1", (key,), values, MODULE_COLUMNS)
    assert row is not None
    return row


async def insert_config(
    session: AnySession, client_id: UUID, dashboard_type: str, active_modules: list[str]
) -> asyncpg.Record:
    row = await session.fetchrow(
        f"insert into public.client_configs (client_id, dashboard_type, active_modules) values ($1, $2, $3)"
        f" returning {CONFIG_COLUMNS}",
        client_id,
        dashboard_type,
        active_modules,
    )
    assert row is not None
    return row


async def get_config(session: AnySession, client_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    lock = " for update" if for_update else ""
    return await session.fetchrow(
        f"select {CONFIG_COLUMNS} from public.client_configs where client_id = $1{lock}", client_id
    )


async def update_config(session: AnySession, client_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await update_returning(
        session, "public.client_configs", "client_id = $1", (client_id,), values, CONFIG_COLUMNS
    )
    assert row is not None
    return row


async def member_client_config(session: AnySession) -> asyncpg.Record | None:
    """The signed-in member's client configuration (their first client if several)."""
    return await session.fetchrow(
        f"select {CONFIG_COLUMNS} from public.client_configs"
        " where client_id = any((select private.my_client_ids())::uuid[]) order by client_id limit 1"
    )


async def get_elio_lab_enabled(session: AnySession, client_id: UUID) -> bool | None:
    value: bool | None = await session.fetchval(
        "select elio_lab_enabled from public.client_configs where client_id = $1", client_id
    )
    return value


async def set_dashboard(
    session: AnySession, client_id: UUID, *, dashboard_type: str, active_modules: list[str], elio_lab_enabled: bool
) -> asyncpg.Record:
    """Dashboard, modules and the Élio Lab switch in one statement (graduation, reactivation)."""
    row = await session.fetchrow(
        "update public.client_configs set dashboard_type = $2, active_modules = $3, elio_lab_enabled = $4,"
        f" updated_at = now() where client_id = $1 returning {CONFIG_COLUMNS}, elio_lab_enabled",
        client_id,
        dashboard_type,
        active_modules,
        elio_lab_enabled,
    )
    assert row is not None
    return row
