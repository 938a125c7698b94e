"""Module catalogue, per-client configuration and the signed-in user's navigation."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.deps import OperatorSession, Session
from api.problems import responses
from services.clients import service as clients
from services.config import service
from services.config.schemas import (
    ClientConfigRead,
    ClientConfigUpdate,
    Dashboard,
    ModuleCreate,
    ModuleKind,
    ModuleRead,
    ModuleUpdate,
    NavigationRead,
)

router = APIRouter(tags=["config"])


@router.get("/modules", response_model=list[ModuleRead], responses=responses(401, 422))
async def list_modules(
    session: Session, kind: ModuleKind | None = None, dashboard: Dashboard | None = None
) -> list[ModuleRead]:
    """List the module catalogue (socle, métier, spécifique)."""
    return await service.catalogue(session, kind=kind, dashboard=dashboard)


@router.post("/modules", response_model=ModuleRead, status_code=201, responses=responses(401, 403, 409, 422))
async def register_module(session: OperatorSession, data: ModuleCreate) -> ModuleRead:
    """Register a spécifique module in the library."""
    return await service.register_module(session, data)


@router.patch("/modules/{key}", response_model=ModuleRead, responses=responses(401, 403, 404, 422))
async def update_module(session: OperatorSession, key: str, data: ModuleUpdate) -> ModuleRead:
    """Update a spécifique module (new version, description, compatibility, dependencies)."""
    return await service.update_module(session, key, data)


@router.get("/clients/{client_id}/config", response_model=ClientConfigRead, responses=responses(401, 404))
async def get_client_config(session: Session, client_id: UUID) -> ClientConfigRead:
    """Read a client's configuration (the operator, or a member of that client)."""
    await clients.require_client(session, client_id)
    return await service.get_config(session, client_id)


@router.patch("/clients/{client_id}/config", response_model=ClientConfigRead, responses=responses(401, 403, 404, 422))
async def update_client_config(session: OperatorSession, client_id: UUID, data: ClientConfigUpdate) -> ClientConfigRead:
    """Change a client's dashboard type, theme or custom configuration."""
    return await service.update_config(session, client_id, data)


@router.put(
    "/clients/{client_id}/config/modules/{key}",
    response_model=ClientConfigRead,
    responses=responses(401, 403, 404, 422),
)
async def activate_module(session: OperatorSession, client_id: UUID, key: str) -> ClientConfigRead:
    """Activate a module for a client (checks dashboard compatibility and dependencies)."""
    return await service.set_module_active(session, client_id, key, True)


@router.delete(
    "/clients/{client_id}/config/modules/{key}",
    response_model=ClientConfigRead,
    responses=responses(401, 403, 404, 422),
)
async def deactivate_module(session: OperatorSession, client_id: UUID, key: str) -> ClientConfigRead:
    """Deactivate a module for a client (refused while an active module depends on it)."""
    return await service.set_module_active(session, client_id, key, False)


@router.get("/me/navigation", response_model=NavigationRead, responses=responses(401, 403))
async def get_navigation(session: Session) -> NavigationRead:
    """What my dashboard shows, in order."""
    return await service.navigation(session)
