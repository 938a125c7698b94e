"""Prospects: the operator's verdict after the visio (with its follow-ups), conversion, company identity."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request

from api.deps import OperatorSession, Session
from api.problems import responses
from services.prospects import service
from services.prospects.schemas import (
    CompanyRead,
    ConversionCreate,
    ConversionRead,
    ProspectStatusCreate,
    ProspectStatusSet,
)

router = APIRouter(prefix="/prospects", tags=["prospects"])


@router.post(
    "/{client_id}/status",
    response_model=ProspectStatusSet,
    status_code=201,
    responses=responses(401, 403, 404, 409, 422),
)
async def set_status(
    session: OperatorSession, request: Request, client_id: UUID, data: ProspectStatusCreate
) -> ProspectStatusSet:
    """Set a prospect's status after the visio (hot, warm, cold, no) with a note; schedules its follow-ups."""
    return await service.set_status(session, request.app.state.settings, client_id, data)


@router.post("/{client_id}/convert", response_model=ConversionRead, responses=responses(401, 403, 404, 409, 422))
async def convert(session: OperatorSession, client_id: UUID, data: ConversionCreate) -> ConversionRead:
    """Convert a prospect into a Lab or One client, keeping its whole history (same client)."""
    return await service.convert(session, client_id, data)


@router.get("/{client_id}/company", response_model=CompanyRead, responses=responses(401, 404))
async def get_company(session: Session, client_id: UUID) -> CompanyRead:
    """The client's company identity from its SIRET (with how the lookup went)."""
    return await service.get_company(session, client_id)
