"""Evolution requests (One): the client's requests and the operator's quote workflow."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import OperatorSession, Session
from api.problems import responses
from services.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.evolutions import service
from services.evolutions.schemas import (
    EvolutionCreate,
    EvolutionDetail,
    EvolutionRead,
    EvolutionStatus,
    EvolutionStatusChange,
    EvolutionUpdate,
)

router = APIRouter(prefix="/evolutions", tags=["evolutions"])


@router.get("", response_model=Page[EvolutionRead], responses=responses(401, 422))
async def list_evolutions(
    session: Session,
    client_id: UUID | None = None,
    status: EvolutionStatus | None = None,
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
) -> Page[EvolutionRead]:
    """List evolution requests, newest first (a member sees their own client's)."""
    return await service.list_evolutions(session, client_id=client_id, status=status, cursor=cursor, limit=limit)


@router.post("", response_model=EvolutionDetail, status_code=201, responses=responses(401, 404, 409, 422))
async def create_evolution(session: Session, data: EvolutionCreate) -> EvolutionDetail:
    """Ask for an evolution of a One client's tool."""
    return await service.create_evolution(session, data)


@router.get("/{evolution_id}", response_model=EvolutionDetail, responses=responses(401, 404))
async def get_evolution(session: Session, evolution_id: UUID) -> EvolutionDetail:
    """Read a request with its status history."""
    return await service.get_evolution(session, evolution_id)


@router.patch("/{evolution_id}", response_model=EvolutionDetail, responses=responses(401, 403, 404, 409, 422))
async def update_evolution(session: OperatorSession, evolution_id: UUID, data: EvolutionUpdate) -> EvolutionDetail:
    """Edit a request (title, description, desired date, quote reference)."""
    return await service.update_evolution(session, evolution_id, data)


@router.post("/{evolution_id}/status", response_model=EvolutionDetail, responses=responses(401, 403, 404, 409, 422))
async def change_evolution_status(
    session: OperatorSession, evolution_id: UUID, data: EvolutionStatusChange
) -> EvolutionDetail:
    """Move a request along: estimating, quoted, accepted (creates its project), in progress, delivered,
    or declined with a reason."""
    return await service.change_status(session, evolution_id, data)
