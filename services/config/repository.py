"""Every query of the config module: the module catalogue and each client's configuration."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import Select, Text, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.config.tables import client_configs, modules
from services.core.db import AnySession
from services.core.query import bound, compiled, shaped

m, cc = modules.c, client_configs.c
MODULE_COLUMNS = (m.key, m.name, m.kind, m.version, m.description, m.dashboards, m.depends_on, m.default_for,
                  m.position)  # fmt: skip
CONFIG_COLUMNS = (cc.client_id, cc.dashboard_type, cc.active_modules, cc.theme, cc.custom_config, cc.updated_at)


@shaped
def _list_modules(*, kind: bool, dashboard: bool) -> Select[Any]:
    statement = select(*MODULE_COLUMNS).order_by(m.position, m.key)
    if kind:
        statement = statement.where(m.kind == bindparam("kind"))
    if dashboard:
        statement = statement.where(bindparam("dashboard", type_=Text) == func.any(m.dashboards))
    return statement


async def list_modules(
    session: AnySession, *, kind: str | None = None, dashboard: str | None = None
) -> list[asyncpg.Record]:
    values = {name: value for name, value in (("kind", kind), ("dashboard", dashboard)) if value is not None}
    return await _list_modules(kind=kind is not None, dashboard=dashboard is not None).fetch(session, **values)


_GET_MODULE = compiled(select(*MODULE_COLUMNS).where(m.key == bindparam("key")))


async def get_module(session: AnySession, key: str) -> asyncpg.Record | None:
    return await _GET_MODULE.fetchrow(session, key=key)


@shaped
def _insert_module(names: tuple[str, ...]) -> Any:
    # A module registered through the API is always a spécifique one.
    values: dict[str, Any] = bound(m, names)
    statement = pg_insert(modules).values(kind="specifique", **values)
    return statement.on_conflict_do_nothing(index_elements=[m.key]).returning(*MODULE_COLUMNS)


async def insert_module(session: AnySession, values: dict[str, Any]) -> asyncpg.Record | None:
    """The new module, or None when the key is taken."""
    return await _insert_module(tuple(values)).fetchrow(session, **values)


@shaped
def _update_module(names: tuple[str, ...]) -> Any:
    values: dict[str, Any] = bound(m, names)
    return (
        update(modules).where(m.key == bindparam("module_key")).values(updated_at=func.now(), **values)
        .returning(*MODULE_COLUMNS)
    )  # fmt: skip


async def update_module(session: AnySession, key: str, values: dict[str, Any]) -> asyncpg.Record:
    row = await _update_module(tuple(values)).fetchrow(session, module_key=key, **values)
    assert row is not None
    return row


_INSERT_CONFIG = compiled(
    insert(client_configs)
    .values(client_id=bindparam("client_id"), dashboard_type=bindparam("dashboard_type"),
            active_modules=bindparam("active_modules", type_=ARRAY(Text)))
    .returning(*CONFIG_COLUMNS)
)  # fmt: skip


async def insert_config(
    session: AnySession, client_id: UUID, dashboard_type: str, active_modules: list[str]
) -> asyncpg.Record:
    row = await _INSERT_CONFIG.fetchrow(
        session, client_id=client_id, dashboard_type=dashboard_type, active_modules=active_modules
    )
    assert row is not None
    return row


_GET_CONFIG = compiled(select(*CONFIG_COLUMNS).where(cc.client_id == bindparam("client_id")))
_GET_CONFIG_FOR_UPDATE = compiled(
    select(*CONFIG_COLUMNS).where(cc.client_id == bindparam("client_id")).with_for_update()
)


async def get_config(session: AnySession, client_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    return await (_GET_CONFIG_FOR_UPDATE if for_update else _GET_CONFIG).fetchrow(session, client_id=client_id)


@shaped
def _update_config(names: tuple[str, ...]) -> Any:
    values: dict[str, Any] = bound(cc, names)
    return (
        update(client_configs).where(cc.client_id == bindparam("config_client_id"))
        .values(updated_at=func.now(), **values).returning(*CONFIG_COLUMNS)
    )  # fmt: skip


async def update_config(session: AnySession, client_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await _update_config(tuple(values)).fetchrow(session, config_client_id=client_id, **values)
    assert row is not None
    return row


# The signed-in member's client configuration (their first client if several).
MEMBER_CLIENT_CONFIG = (
    "select client_id, dashboard_type, active_modules, theme, custom_config, updated_at from public.client_configs"
    " where client_id = any((select private.my_client_ids())::uuid[]) order by client_id limit 1"
)


async def member_client_config(session: AnySession) -> asyncpg.Record | None:
    return await session.fetchrow(MEMBER_CLIENT_CONFIG)


_ELIO_LAB_ENABLED = compiled(select(cc.elio_lab_enabled).where(cc.client_id == bindparam("client_id")))


async def get_elio_lab_enabled(session: AnySession, client_id: UUID) -> bool | None:
    value: bool | None = await _ELIO_LAB_ENABLED.fetchval(session, client_id=client_id)
    return value


# Dashboard, modules and the Élio Lab switch in one statement (graduation, reactivation).
_SET_DASHBOARD = compiled(
    update(client_configs).where(cc.client_id == bindparam("client_id"))
    .values(dashboard_type=bindparam("dashboard_type"), active_modules=bindparam("active_modules", type_=ARRAY(Text)),
            elio_lab_enabled=bindparam("elio_lab_enabled"), updated_at=func.now())
    .returning(*CONFIG_COLUMNS, cc.elio_lab_enabled)
)  # fmt: skip


async def set_dashboard(
    session: AnySession, client_id: UUID, *, dashboard_type: str, active_modules: list[str], elio_lab_enabled: bool
) -> asyncpg.Record:
    row = await _SET_DASHBOARD.fetchrow(
        session, client_id=client_id, dashboard_type=dashboard_type, active_modules=active_modules,
        elio_lab_enabled=elio_lab_enabled,
    )  # fmt: skip
    assert row is not None
    return row
