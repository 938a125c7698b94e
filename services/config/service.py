"""Per-client configuration and the module catalogue: what each dashboard shows."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.audit import service as audit
from services.config import repository
from services.config.errors import ConfigNotFound, ModuleExists, ModuleNotFound, ModuleRuleViolation
from services.config.schemas import (
    ClientConfigRead,
    ClientConfigUpdate,
    ModuleCreate,
    ModuleRead,
    ModuleUpdate,
    NavigationItem,
    NavigationRead,
)
from services.core.db import AnySession, UserSession
from services.core.errors import Forbidden


async def catalogue(session: AnySession, *, kind: str | None = None, dashboard: str | None = None) -> list[ModuleRead]:
    return [ModuleRead(**dict(r)) for r in await repository.list_modules(session, kind=kind, dashboard=dashboard)]


async def _module(session: UserSession, key: str) -> ModuleRead:
    row = await repository.get_module(session, key)
    if row is None:
        raise ModuleNotFound(f"no module {key!r} in the catalogue")
    return ModuleRead(**dict(row))


async def _check_dependencies_exist(session: UserSession, key: str, depends_on: list[str]) -> None:
    if key in depends_on:
        raise ModuleRuleViolation(f"module {key!r} cannot depend on itself", field="depends_on")
    graph = {m.key: m.depends_on for m in await catalogue(session)}
    unknown = sorted(set(depends_on) - set(graph))
    if unknown:
        raise ModuleRuleViolation(f"unknown dependencies: {', '.join(unknown)}", field="depends_on")
    # A cycle would make both modules impossible to activate (and to deactivate).
    seen, pending = set(), list(depends_on)
    while pending:
        current = pending.pop()
        if current == key:
            raise ModuleRuleViolation(
                f"module {key!r} would depend on itself through {', '.join(depends_on)}", field="depends_on"
            )
        if current not in seen:
            seen.add(current)
            pending.extend(graph.get(current, []))


async def register_module(session: UserSession, data: ModuleCreate) -> ModuleRead:
    await _check_dependencies_exist(session, data.key, data.depends_on)
    row = await repository.insert_module(session, data.model_dump())
    if row is None:
        raise ModuleExists(f"a module {data.key!r} already exists")
    module = ModuleRead(**dict(row))
    await audit.record(
        session, action="module.registered", entity_type="module", entity_id=module.key, client_id=None, after=module
    )
    return module


async def update_module(session: UserSession, key: str, data: ModuleUpdate) -> ModuleRead:
    before = await _module(session, key)
    if before.kind != "specifique":
        raise ModuleRuleViolation(f"{before.kind} module {key!r} is part of the product and cannot be edited")
    changes: dict[str, Any] = data.model_dump(exclude_unset=True, exclude_none=True)
    if "depends_on" in changes:
        await _check_dependencies_exist(session, key, changes["depends_on"])
    after = ModuleRead(**dict(await repository.update_module(session, key, changes))) if changes else before
    await audit.record(
        session,
        action="module.updated",
        entity_type="module",
        entity_id=key,
        client_id=None,
        before=before,
        after=after,
    )
    return after


async def create_default_config(session: AnySession, client_id: UUID, dashboard_type: str) -> ClientConfigRead:
    """A new client's configuration: the métier modules that are on by default for its dashboard."""
    defaults = [
        m.key
        for m in await catalogue(session, dashboard=dashboard_type)
        if m.kind != "socle" and dashboard_type in m.default_for
    ]
    row = await repository.insert_config(session, client_id, dashboard_type, defaults)
    return ClientConfigRead(**dict(row))


async def get_config(session: UserSession, client_id: UUID, *, for_update: bool = False) -> ClientConfigRead:
    row = await repository.get_config(session, client_id, for_update=for_update)
    if row is None:
        raise ConfigNotFound("no configuration for this client, or it is not yours to see")
    return ClientConfigRead(**dict(row))


async def update_config(session: UserSession, client_id: UUID, data: ClientConfigUpdate) -> ClientConfigRead:
    before = await get_config(session, client_id, for_update=True)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True, exclude_none=True)
    if "dashboard_type" in changes and changes["dashboard_type"] != before.dashboard_type:
        modules = {m.key: m for m in await catalogue(session)}
        incompatible = [
            k for k in before.active_modules if k in modules and changes["dashboard_type"] not in modules[k].dashboards
        ]
        if incompatible:
            raise ModuleRuleViolation(
                f"active modules not available on {changes['dashboard_type']}: {', '.join(incompatible)};"
                " deactivate them first",
                field="dashboard_type",
            )
    after = ClientConfigRead(**dict(await repository.update_config(session, client_id, changes))) if changes else before
    await audit.record(
        session,
        action="config.updated",
        entity_type="client_config",
        entity_id=client_id,
        client_id=client_id,
        before=before,
        after=after,
    )
    return after


async def set_module_active(session: UserSession, client_id: UUID, key: str, active: bool) -> ClientConfigRead:
    """Activate or deactivate one module for a client, enforcing compatibility and dependencies."""
    config = await get_config(session, client_id, for_update=True)
    module = await _module(session, key)
    if module.kind == "socle":
        raise ModuleRuleViolation(f"{key!r} is a socle module: always on, it cannot be switched")
    current = list(config.active_modules)
    if active:
        if key in current:
            return config
        if config.dashboard_type not in module.dashboards:
            raise ModuleRuleViolation(
                f"{key!r} is not available on the {config.dashboard_type} dashboard"
                f" (only {', '.join(module.dashboards)})"
            )
        socle = {m.key for m in await catalogue(session, kind="socle")}
        missing = [d for d in module.depends_on if d not in current and d not in socle]
        if missing:
            raise ModuleRuleViolation(f"{key!r} depends on {', '.join(missing)}: activate it first")
        updated = [*current, key]
    else:
        if key not in current:
            return config
        dependants = [m.key for m in await catalogue(session) if m.key in current and key in m.depends_on]
        if dependants:
            raise ModuleRuleViolation(f"{', '.join(dependants)} depend(s) on {key!r}: deactivate it first")
        updated = [k for k in current if k != key]
    after = ClientConfigRead(**dict(await repository.update_config(session, client_id, {"active_modules": updated})))
    await audit.record(
        session,
        action="config.module_activated" if active else "config.module_deactivated",
        entity_type="client_config",
        entity_id=client_id,
        client_id=client_id,
        before=config,
        after=after,
    )
    return after


async def navigation(session: UserSession) -> NavigationRead:
    """The signed-in user's menu: socle modules, then the dashboard's active métier/spécifique ones."""
    if session.principal.is_operator:
        modules = await catalogue(session, dashboard="hub")
        return NavigationRead(
            dashboard="hub",
            client_id=None,
            items=[NavigationItem(key=m.key, name=m.name, kind=m.kind) for m in modules if m.kind != "specifique"],
        )
    row = await repository.member_client_config(session)
    if row is None:
        raise Forbidden("this account is not a member of any client")
    config = ClientConfigRead(**dict(row))
    active = set(config.active_modules)
    modules = await catalogue(session, dashboard=config.dashboard_type)
    items = [
        NavigationItem(key=m.key, name=m.name, kind=m.kind) for m in modules if m.kind == "socle" or m.key in active
    ]
    return NavigationRead(dashboard=config.dashboard_type, client_id=config.client_id, items=items)


async def elio_lab_enabled(session: UserSession, client_id: UUID) -> bool:
    """The Élio Lab switch (off after graduation, back on when MiKL reopens the Lab)."""
    value = await repository.get_elio_lab_enabled(session, client_id)
    if value is None:
        raise ConfigNotFound("no configuration for this client, or it is not yours to see")
    return value


async def switch_dashboard(
    session: UserSession,
    client_id: UUID,
    dashboard_type: str,
    *,
    elio_lab_enabled: bool,
    restore_modules: list[str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Move a client to another dashboard in one go (graduation, reactivation): modules the dashboard
    does not offer are dropped (and those left without a dependency), its default modules are
    switched on, `restore_modules` come back where available, and the Élio Lab switch is set.
    Returns the (before, after) configurations, each with `elio_lab_enabled`."""
    current = await get_config(session, client_id, for_update=True)
    before = {
        **current.model_dump(mode="json"),
        "elio_lab_enabled": await repository.get_elio_lab_enabled(session, client_id),
    }
    modules = {m.key: m for m in await catalogue(session)}

    def offered(key: str) -> bool:
        return key in modules and modules[key].kind != "socle" and dashboard_type in modules[key].dashboards

    defaults = [m.key for m in modules.values() if offered(m.key) and dashboard_type in m.default_for]
    active = list(
        dict.fromkeys(k for k in [*current.active_modules, *(restore_modules or []), *defaults] if offered(k))
    )
    socle = {k for k, m in modules.items() if m.kind == "socle"}
    while missing := [k for k in active if any(d not in active and d not in socle for d in modules[k].depends_on)]:
        active = [k for k in active if k not in missing]
    row = await repository.set_dashboard(
        session, client_id, dashboard_type=dashboard_type, active_modules=active, elio_lab_enabled=elio_lab_enabled
    )
    after = {**ClientConfigRead(**dict(row)).model_dump(mode="json"), "elio_lab_enabled": row["elio_lab_enabled"]}
    await audit.record(
        session,
        action="config.dashboard_switched",
        entity_type="client_config",
        entity_id=client_id,
        client_id=client_id,
        before=before,
        after=after,
    )
    return before, after
