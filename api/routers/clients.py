"""Clients (operator) and a member's own client record."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import OperatorSession, Session
from api.problems import JSONBytes, responses
from services.clients import service
from services.clients.schemas import (
    ClientCreate,
    ClientDetail,
    ClientRead,
    ClientSort,
    ClientStatus,
    ClientUpdate,
    Temperature,
)
from services.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/clients", tags=["clients"])


@router.get("", response_model=Page[ClientRead], responses=responses(401, 403, 422))
async def list_clients(
    session: OperatorSession,
    status: ClientStatus | None = Query(None, description="Default: every status but archived"),
    temperature: Temperature | None = Query(None, description="Prospect temperature"),
    tag: str | None = Query(None, max_length=40),
    q: str | None = Query(
        None, min_length=1, max_length=100, description="Free text over company, contact, e-mail and city"
    ),
    sort: ClientSort = "-created_at",
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
) -> JSONBytes:
    """List clients with filters, sorted, one keyset page at a time."""
    return JSONBytes(
        await service.list_clients_json(
            session, status=status, temperature=temperature, tag=tag, q=q, sort=sort, cursor=cursor, limit=limit
        )
    )


@router.post("", response_model=ClientDetail, status_code=201, responses=responses(401, 403, 422))
async def create_client(session: OperatorSession, data: ClientCreate) -> ClientDetail:
    """Create a client with its CRM profile and default configuration."""
    return await service.create_client(session, data)


@router.get("/{client_id}", response_model=ClientDetail, responses=responses(401, 404))
async def get_client(session: Session, client_id: UUID) -> JSONBytes:
    """Read a client; a member reads only their own, without the operator's CRM notes."""
    return JSONBytes(await service.get_client_json(session, client_id))


@router.patch("/{client_id}", response_model=ClientDetail, responses=responses(401, 403, 404, 409, 422))
async def update_client(session: OperatorSession, client_id: UUID, data: ClientUpdate) -> ClientDetail:
    """Update a client and its CRM profile (only the fields sent)."""
    return await service.update_client(session, client_id, data)


@router.post("/{client_id}/archive", response_model=ClientRead, responses=responses(401, 403, 404, 409))
async def archive_client(session: OperatorSession, client_id: UUID) -> ClientRead:
    """Archive a client (restorable)."""
    return await service.archive_client(session, client_id)


@router.post("/{client_id}/restore", response_model=ClientRead, responses=responses(401, 403, 404, 409))
async def restore_client(session: OperatorSession, client_id: UUID) -> ClientRead:
    """Restore an archived client to the status it had."""
    return await service.restore_client(session, client_id)
