"""Lab → One graduation and Lab reactivation."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.deps import OperatorSession, Session
from api.problems import responses
from services.lifecycle import service
from services.lifecycle.schemas import GraduationInput, LifecycleChange, LifecycleState, ReactivationInput

router = APIRouter(prefix="/clients/{client_id}", tags=["lifecycle"])


@router.get("/lifecycle", response_model=LifecycleState, responses=responses(401, 404))
async def get_lifecycle(session: Session, client_id: UUID) -> LifecycleState:
    """A client's phase (Lab or One), Élio Lab switch, Lab cycle and graduation history."""
    return await service.get_state(session, client_id)


@router.post("/graduate", response_model=LifecycleChange, responses=responses(401, 403, 404, 409, 422))
async def graduate_client(
    session: OperatorSession, client_id: UUID, data: GraduationInput | None = None
) -> LifecycleChange:
    """Graduate a Lab client to One (409 if already One)."""
    return await service.graduate(session, client_id, data or GraduationInput())


@router.post("/reactivate-lab", response_model=LifecycleChange, responses=responses(401, 403, 404, 409, 422))
async def reactivate_lab(
    session: OperatorSession, client_id: UUID, data: ReactivationInput | None = None
) -> LifecycleChange:
    """Reopen the Lab of a One client for a new cycle, Élio Lab back on (409 if already in the Lab)."""
    return await service.reactivate_lab(session, client_id, data or ReactivationInput())
