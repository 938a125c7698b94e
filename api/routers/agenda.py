"""Agenda: the operator's appointments by day and week, manual appointments, a client's next one and history."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Query, Request

from api.deps import OperatorSession, Session
from api.problems import JSONBytes, responses
from services.agenda import service
from services.agenda.schemas import (
    AgendaRange,
    AgendaView,
    AppointmentCancel,
    AppointmentCreate,
    AppointmentRead,
    AppointmentUpdate,
    NextAppointment,
    PrevisioLink,
)
from services.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/agenda", tags=["agenda"])


@router.get("/appointments", response_model=AgendaRange, responses=responses(401, 403, 422))
async def list_agenda(
    session: OperatorSession,
    start: date | None = Query(None, alias="from", description="first local day (default: from `view` and `date`)"),
    end: date | None = Query(None, alias="to", description="last local day, inclusive (default: `from`)"),
    view: AgendaView = Query("week", description="without `from`: the day or the Monday-to-Sunday week of `date`"),
    on: date | None = Query(None, alias="date", description="the day the view is around (default: today)"),
    tz: str | None = Query(None, max_length=64, description="IANA time zone (default: the profile's)"),
) -> AgendaRange:
    """The operator's appointments starting within local days, in their time zone (stored in UTC)."""
    return await service.agenda(session, start=start, end=end, view=view, on=on, tz=tz)


@router.post("/appointments", response_model=AppointmentRead, status_code=201, responses=responses(401, 403, 404, 422))
async def create_appointment(session: OperatorSession, request: Request, data: AppointmentCreate) -> AppointmentRead:
    """Add a manual appointment with a client or prospect (optionally with a meeting room)."""
    return await service.create(session, request.app.state.settings, data)


@router.get("/appointments/{appointment_id}", response_model=AppointmentRead, responses=responses(401, 404))
async def get_appointment(session: Session, appointment_id: UUID) -> AppointmentRead:
    """Read an appointment (the operator, or a member of its client)."""
    return await service.load(session, appointment_id)


@router.patch(
    "/appointments/{appointment_id}", response_model=AppointmentRead, responses=responses(401, 403, 404, 409, 422)
)
async def update_appointment(
    session: OperatorSession, appointment_id: UUID, data: AppointmentUpdate
) -> AppointmentRead:
    """Change a manual appointment, or mark attendance (done, no-show)."""
    return await service.update(session, appointment_id, data)


@router.post(
    "/appointments/{appointment_id}/cancel",
    response_model=AppointmentRead,
    responses=responses(401, 403, 404, 409, 422),
)
async def cancel_appointment(
    session: OperatorSession, appointment_id: UUID, data: AppointmentCancel
) -> AppointmentRead:
    """Cancel a manual appointment with its reason (Cal.com bookings are cancelled in Cal.com)."""
    return await service.cancel(session, appointment_id, data)


@router.post(
    "/appointments/{appointment_id}/previsio-link", response_model=PrevisioLink, responses=responses(401, 403, 404, 409)
)
async def previsio_link(session: OperatorSession, request: Request, appointment_id: UUID) -> PrevisioLink:
    """The signed link to the appointment's pre-visio form, to send to a prospect."""
    return await service.previsio_link(session, request.app.state.settings, appointment_id)


@router.get("/clients/{client_id}/next", response_model=NextAppointment, responses=responses(401, 404))
async def next_appointment(session: Session, client_id: UUID) -> NextAppointment:
    """A client's next booked appointment and the meeting to join it through."""
    return await service.next_for_client(session, client_id)


@router.get(
    "/clients/{client_id}/appointments", response_model=Page[AppointmentRead], responses=responses(401, 404, 422)
)
async def client_history(
    session: Session,
    client_id: UUID,
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
) -> JSONBytes:
    """A client's appointments, latest first, one keyset page at a time."""
    return JSONBytes(await service.history_json(session, client_id, cursor, limit))
